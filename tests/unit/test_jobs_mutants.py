"""The job store's safety nets (``_compact``, ``_quarantine``) and its test-API errors, which no other
fast test reached (mutation testing, docs/testing.md)."""

from __future__ import annotations

import random
from typing import Optional

import pytest

from fakeserver.model.job_script import JobScript, RunStatus
from fakeserver.model.jobs import JobRecord, JobStore, JobStoreError


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now


def _store_with_scripted_times() -> tuple[JobStore, dict[str, Optional[float]], list[tuple[str, float]]]:
    """A store whose event times a test sets by hand and whose events only log themselves."""
    store = JobStore(_Clock(), random.Random(1), lambda: [])
    times: dict[str, Optional[float]] = {}
    fired: list[tuple[str, float]] = []

    def fire(record: JobRecord, when: float) -> None:
        fired.append((record.job_id, when))
        times[record.job_id] = None

    store._event_time = lambda record: None if record.fault else times.get(record.job_id)  # type: ignore[method-assign]
    store._fire = fire  # type: ignore[method-assign]
    return store, times, fired


def test_stale_timeline_entries_are_compacted_past_twice_the_live_jobs_plus_64() -> None:
    store, times, fired = _store_with_scripted_times()
    first = store.create({"name": "a"}, b"")
    second = store.create({"name": "b"}, b"")
    times[second.job_id] = 1_500.0
    store._touch(second)
    lengths = []
    for i in range(70):
        times[first.job_id] = 3_000.0 - i  # every change leaves the previous entry stale
        store._touch(first)
        lengths.append(len(store._timeline))
    # 2 live jobs: compacted when the queue grows past 2 * 2 + 64 = 68 entries, down to the 2 valid ones
    assert lengths[:67] == list(range(2, 69))
    assert lengths[67:] == [2, 3, 4]
    store._compact()
    assert sorted((entry[0], entry[3].job_id) for entry in store._timeline) == [
        (1_500.0, second.job_id),
        (2_931.0, first.job_id),
    ]
    assert store._timeline[0][0] == 1_500.0  # still a heap
    store.sync(5_000.0)
    assert fired == [(second.job_id, 1_500.0), (first.job_id, 2_931.0)]


def test_a_job_whose_replay_raises_is_quarantined_and_the_hooks_hear_of_it() -> None:
    store, times, fired = _store_with_scripted_times()
    heard: list[tuple[str, str]] = []
    store.on_fault.append(lambda record, exc: heard.append((record.job_id, str(exc))))
    store.on_fault.append(lambda record, exc: heard.append(("second hook", type(exc).__name__)))
    broken = store.create({"name": "broken"}, b"")
    healthy = store.create({"name": "healthy"}, b"")
    times[broken.job_id] = 1_100.0
    times[healthy.job_id] = 1_200.0
    store._touch(broken)
    store._touch(healthy)

    def explode(record: JobRecord) -> Optional[float]:
        raise RuntimeError("boom")

    stamp = broken.stamp
    store._event_time = explode  # type: ignore[method-assign]
    store._touch(broken)
    assert broken.fault == "RuntimeError: boom"
    assert broken.stamp == stamp + 1  # its queued entry is stale now
    assert heard == [(broken.job_id, "boom"), ("second hook", "RuntimeError")]
    store._compact()  # the quarantined job's entry is stale: its stamp moved on though ``queued`` did not
    assert [entry[3] for entry in store._timeline] == [healthy]
    store._event_time = lambda record: None if record.fault else times.get(record.job_id)  # type: ignore[method-assign]
    store.sync(2_000.0)
    assert fired == [(healthy.job_id, 1_200.0)]  # the quarantined job's entry did not fire


def test_a_failing_event_quarantines_only_that_job() -> None:
    store, times, fired = _store_with_scripted_times()
    heard: list[str] = []
    store.on_fault.append(lambda record, exc: heard.append(f"{record.job_id}: {exc}"))
    broken = store.create({"name": "broken"}, b"")
    healthy = store.create({"name": "healthy"}, b"")
    logging_fire = store._fire

    def fire(record: JobRecord, when: float) -> None:
        if record is broken:
            raise ValueError("bad event")
        logging_fire(record, when)

    store._fire = fire  # type: ignore[method-assign]
    times[broken.job_id] = 1_100.0
    times[healthy.job_id] = 1_200.0
    store._touch(broken)
    store._touch(healthy)
    store.sync(2_000.0)
    assert broken.fault == "ValueError: bad event"
    assert heard == [f"{broken.job_id}: bad event"]
    assert fired == [(healthy.job_id, 1_200.0)]


def test_test_api_errors_name_the_problem() -> None:
    store = JobStore(_Clock(), random.Random(2), lambda: [])
    with pytest.raises(TypeError, match=r"^script must be a JobScript, got dict$"):
        store.script({})  # type: ignore[arg-type]
    record = store.create({"name": "x"}, b"")
    with pytest.raises(JobStoreError, match=rf"^job {record.job_id} is SUBMITTED: only a RUNNING job can be orphaned$"):
        store.orphan(record.job_id)


def test_run_to_completion_allows_exactly_max_steps() -> None:
    store = JobStore(_Clock(), random.Random(3), lambda: ["site-1"])
    store.script(JobScript())
    record = store.create({"name": "x", "deploy_map": {"app": ["@ALL"]}}, b"")
    steps = len(JobStoreCopy.statuses(store, record))
    fresh = store.create({"name": "y", "deploy_map": {"app": ["@ALL"]}}, b"")
    assert store.run_to_completion(fresh.job_id, max_steps=steps) == [RunStatus.FINISHED_COMPLETED]
    late = store.create({"name": "z", "deploy_map": {"app": ["@ALL"]}}, b"")
    with pytest.raises(JobStoreError, match=rf"^job {late.job_id} did not finish in {steps - 1} steps$"):
        store.run_to_completion(late.job_id, max_steps=steps - 1)


class JobStoreCopy:
    @staticmethod
    def statuses(store: JobStore, record: JobRecord) -> list[RunStatus]:
        """The statuses ``step`` walks a job through to its end."""
        out = []
        while not record.status.finished:
            out.append(store.step(record.job_id))
        return out


def _running_store() -> tuple[JobStore, _Clock]:
    clock = _Clock()
    return JobStore(clock, random.Random(4), lambda: ["site-1"]), clock


def test_with_process_orders_by_start_time_then_submission() -> None:
    store, clock = _running_store()
    first = store.create({"name": "first", "deploy_map": {"app": ["@ALL"]}}, b"")
    second = store.create({"name": "second", "deploy_map": {"app": ["@ALL"]}}, b"")
    third = store.create({"name": "third", "deploy_map": {"app": ["@ALL"]}}, b"")
    store.advance_to(second.job_id, "RUNNING")
    clock.now += 50
    store.advance_to(first.job_id, RunStatus.RUNNING)
    store.advance_to(third.job_id, "DISPATCHED")
    assert third.started_at is None
    assert [r.job_id for r in store.with_process()] == [second.job_id, first.job_id, third.job_id]


def test_a_hanging_job_runs_until_it_would_hang_then_refuses() -> None:
    store, _clock = _running_store()
    store.script(JobScript.hangs())
    record = store.create({"name": "h", "deploy_map": {"app": ["@ALL"]}}, b"")
    with pytest.raises(JobStoreError, match=rf"^job {record.job_id} is scripted to hang; abort it instead$"):
        store.run_to_completion(record.job_id)
    assert record.status is RunStatus.RUNNING


def test_advance_to_a_status_the_job_skips_names_both() -> None:
    store, _clock = _running_store()
    record = store.create({"name": "x", "deploy_map": {"app": ["@ALL"]}}, b"")
    with pytest.raises(
        JobStoreError, match=rf"^job {record.job_id} finished as FINISHED:COMPLETED before reaching FINISHED:ABORTED$"
    ):
        store.advance_to(record.job_id, "FINISHED:ABORTED")


def test_step_finishes_a_running_job_with_exactly_its_rounds_and_refuses_an_orphan() -> None:
    store, _clock = _running_store()
    record = store.create({"name": "r", "deploy_map": {"app": ["@ALL"]}}, b"")
    store.advance_to(record.job_id, "RUNNING")
    assert store.step(record.job_id) is RunStatus.FINISHED_COMPLETED
    assert len(record.round_times) == record.script.rounds == 3
    lost = store.create({"name": "o", "deploy_map": {"app": ["@ALL"]}}, b"")
    store.advance_to(lost.job_id, "RUNNING")
    store.orphan(lost.job_id)
    with pytest.raises(
        JobStoreError, match=rf"^job {lost.job_id} is orphaned \(not in the runner\); it cannot advance$"
    ):
        store.step(lost.job_id)


def test_step_refuses_a_job_the_scheduler_can_never_take() -> None:
    store, _clock = _running_store()
    record = store.create({"name": "bad", "schedule_count": -1}, b"")
    with pytest.raises(
        JobStoreError,
        match=rf"^job {record.job_id} can never be scheduled: schedule_count -1 is not a whole number >= 0$",
    ):
        store.step(record.job_id)
