"""Two job-store rules with exact outcomes: ``schedule_fault`` (why FLARE's scheduler would raise on an
uploaded ``meta.json`` that carries the scheduler's own keys; the fake keeps such a job SUBMITTED) and
``abandon_unfinished`` (a server restart: every DISPATCHED or RUNNING job becomes FINISHED:ABANDONED at
the restart's time, in submission order)."""

from __future__ import annotations

import random
from typing import Any, Optional

import pytest

from fakeserver.model.job_script import JobScript, RunStatus
from fakeserver.model.jobs import JobStore, schedule_fault


@pytest.mark.parametrize(
    ("meta", "fault"),
    [
        ({}, None),
        ({"schedule_count": 0, "schedule_history": [], "last_schedule_time": 0.0}, None),
        ({"schedule_count": 2, "last_schedule_time": 1.5, "schedule_history": ["a", "b"]}, None),
        ({"schedule_count": 2.0, "last_schedule_time": 7}, None),
        ({"schedule_count": True, "last_schedule_time": 3.0}, None),
        ({"schedule_count": -1}, "schedule_count -1 is not a whole number >= 0"),
        ({"schedule_count": 1.5}, "schedule_count 1.5 is not a whole number >= 0"),
        ({"schedule_count": "2"}, "schedule_count '2' is not a whole number >= 0"),
        ({"schedule_count": None}, "schedule_count None is not a whole number >= 0"),
        ({"schedule_history": "scheduled"}, "schedule_history of type str is not a list"),
        ({"schedule_history": {"a": 1}}, "schedule_history of type dict is not a list"),
        ({"schedule_history": ""}, None),  # empty: FLARE's ``if history`` never iterates it
        ({"schedule_count": 1, "last_schedule_time": "now"}, "last_schedule_time 'now' is not a number"),
        ({"schedule_count": 1, "last_schedule_time": None}, "last_schedule_time None is not a number"),
        ({"schedule_count": 1, "last_schedule_time": True}, "last_schedule_time True is not a number"),
        ({"schedule_count": 1}, None),  # the default last time, 0.0, is a number
        ({"schedule_count": 0, "last_schedule_time": "now"}, None),  # only compared once scheduled before
        ({"last_schedule_time": "now"}, None),  # no count: never scheduled
        ({"mandatory_clients": 5}, "mandatory_clients of type int is not iterable"),
        ({"mandatory_clients": ["site-1"]}, None),
        ({"mandatory_clients": {"site-1": 1}}, None),
        ({"mandatory_clients": "site-1"}, None),
        ({"mandatory_clients": 0}, None),
    ],
)
def test_schedule_fault(meta: dict[str, Any], fault: Optional[str]) -> None:
    assert schedule_fault(meta) == fault


def test_the_first_fault_in_flares_order_is_named() -> None:
    meta = {"schedule_count": -1, "schedule_history": 3, "last_schedule_time": "x", "mandatory_clients": 5}
    assert schedule_fault(meta) == "schedule_count -1 is not a whole number >= 0"
    meta["schedule_count"] = 1
    assert schedule_fault(meta) == "schedule_history of type int is not a list"
    meta["schedule_history"] = []
    assert schedule_fault(meta) == "last_schedule_time 'x' is not a number"
    meta["last_schedule_time"] = 2.0
    assert schedule_fault(meta) == "mandatory_clients of type int is not iterable"


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now


def _store() -> tuple[JobStore, _Clock]:
    clock = _Clock()
    return JobStore(clock, random.Random(1), lambda: ["site-1", "site-2"]), clock


def test_abandon_unfinished_ends_active_jobs_in_submission_order_at_the_given_time() -> None:
    store, _ = _store()
    store.script(JobScript.hangs())
    jobs = [store.create({"name": name, "deploy_map": {"app": ["@ALL"]}}, b"") for name in ("a", "b", "c", "d")]
    store.advance_to(jobs[2].job_id, "RUNNING")
    store.advance_to(jobs[0].job_id, "DISPATCHED")
    store.advance_to(jobs[1].job_id, "FINISHED:COMPLETED")
    abandoned = store.abandon_unfinished(when=1_234.5)
    assert [record.job_id for record in abandoned] == [jobs[0].job_id, jobs[2].job_id]
    assert [record.status for record in jobs] == [
        RunStatus.ABANDONED,
        RunStatus.FINISHED_COMPLETED,
        RunStatus.ABANDONED,
        RunStatus.SUBMITTED,
    ]
    assert jobs[0].transitions[-1] == (1_234.5, RunStatus.DISPATCHED, RunStatus.ABANDONED)
    assert jobs[2].transitions[-1] == (1_234.5, RunStatus.RUNNING, RunStatus.ABANDONED)
    assert store.running() == []
    assert store.abandon_unfinished() == []


def test_abandon_unfinished_defaults_to_the_clocks_time() -> None:
    store, clock = _store()
    store.script(JobScript.hangs())
    record = store.create({"name": "a", "deploy_map": {"app": ["@ALL"]}}, b"")
    store.advance_to(record.job_id, "RUNNING")
    clock.now = 2_000.0
    assert store.abandon_unfinished() == [record]
    assert record.transitions[-1] == (2_000.0, RunStatus.RUNNING, RunStatus.ABANDONED)
    assert record.meta["status"] == "FINISHED:ABANDONED"
