"""The job store's rules that only slow integration tests (or none) pinned down: when rounds start (by time,
by reads, around a site that could not load its app), which jobs the runner lists and in what order, what
an abort, a delete or an orphaned process leaves behind, which waiting jobs wake when capacity frees, and
the meta helpers' exact values (mutation testing, docs/testing.md). A hand-driven clock; no waiting."""

from __future__ import annotations

import datetime
import random
import re
from typing import Optional

import pytest

from fakeserver.model.job_script import JobScript, Phase, RunStatus
from fakeserver.model.jobs import (
    DATA_STORAGE_FORMAT,
    DEAD_SITE_DELAY,
    IllegalTransition,
    JobRecord,
    JobStore,
    JobStoreError,
    _as_int,
    _is_count,
    _SchedulerCrash,
    duration_string,
    iso_string,
    schedule_count,
    time_string,
)
from fakeserver.model.loadable import LoadFailure
from fakeserver.model.resources import GPUResources, ResourcePool

from .test_jobs_mutants import _store_with_scripted_times

ALL = {"deploy_map": {"app": ["@ALL"]}}


class _Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def _store(
    sites: Optional[list[str]] = None, *, max_jobs: int = 4, now: float = 1_000.0, seed: int = 5
) -> tuple[JobStore, _Clock, list[str]]:
    clock = _Clock(now)
    online = ["site-1"] if sites is None else sites
    return JobStore(clock, random.Random(seed), lambda: list(online), max_jobs=max_jobs), clock, online


def _job(store: JobStore, name: str, **meta: object) -> JobRecord:
    return store.create({"name": name, **ALL, **meta}, b"")


# ------------------------------------------------------------------ meta helpers


def test_time_string_is_flares_start_time_format_with_microseconds() -> None:
    for epoch in (0.0, 1_700_000_000.0, 1_700_000_000.25):
        text = time_string(epoch)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", text), text
        assert datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f") == datetime.datetime.fromtimestamp(epoch)


def test_duration_string_is_a_timedelta_never_negative() -> None:
    assert duration_string(0.5) == "0:00:00.500000"
    assert duration_string(0.0) == "0:00:00"
    assert duration_string(-3.0) == "0:00:00"
    assert duration_string(3_723.0) == "1:02:03"


def test_as_int_reads_numbers_and_gives_zero_for_anything_else() -> None:
    assert _as_int(3) == 3
    assert _as_int("2") == 2
    assert _as_int(2.9) == 2
    assert _as_int("two") == 0
    assert _as_int(None) == 0
    assert _as_int(float("inf")) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(0, True), (2, True), (True, True), (-1, False), (0.0, True), (2.0, True), (1.5, False), (-1.0, False)],
        *[(-2.5, False), (0.5, False), ("2", False), (None, False)],
    ],
)
def test_is_count_accepts_whole_non_negative_numbers_only(value: object, expected: bool) -> None:
    assert _is_count(value) is expected


def test_schedule_count_is_the_count_as_an_int_or_zero() -> None:
    assert schedule_count({}) == 0
    assert schedule_count({"schedule_count": 3}) == 3
    assert schedule_count({"schedule_count": 2.0}) == 2
    assert schedule_count({"schedule_count": -1}) == 0
    assert schedule_count({"schedule_count": "x"}) == 0


# ------------------------------------------------------------------ create and the indexes


def test_create_numbers_jobs_in_order_and_keeps_the_storage_format() -> None:
    store, _clock, _ = _store()
    first = _job(store, "a")
    second = store.create({"name": "b", DATA_STORAGE_FORMAT: "pt", "submitter_name": "u"}, b"")
    third = _job(store, "c")
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert second.meta["submit_time"] == 1_000.0
    assert second.meta["submit_time_iso"] == iso_string(1_000.0)
    assert (second.meta["start_time"], second.meta["duration"]) == ("", "N/A")
    assert second.meta[DATA_STORAGE_FORMAT] == "pt"
    assert list(second.meta)[-2:] == [DATA_STORAGE_FORMAT, "status"]
    assert DATA_STORAGE_FORMAT not in first.meta


def test_a_named_script_applies_to_jobs_of_that_name() -> None:
    store, _clock, _ = _store()
    store.script(JobScript.ends("ABORTED", after=7.0), name="special")
    special = _job(store, "special")
    other = _job(store, "other")
    assert special.script.outcome is RunStatus.FINISHED_ABORTED
    assert special.script.running == Phase.after(7.0)
    assert other.script.outcome is RunStatus.FINISHED_COMPLETED


def test_equal_submit_times_keep_store_order_without_a_sort() -> None:
    store, clock, _ = _store()
    _job(store, "a")
    _job(store, "b")
    assert store._in_submit_order is True
    clock.now -= 1
    _job(store, "c")
    assert store._in_submit_order is False


def test_prefix_candidates_are_in_store_order_not_id_order() -> None:
    store, _clock, _ = _store([])
    jobs = [_job(store, f"j{i}") for i in range(40)]
    out_of_order = 0
    for digit in "0123456789abcdef":
        group = [r for r in jobs if r.job_id.startswith(digit)]
        assert store.candidates(digit.upper(), None) == group
        out_of_order += [r.job_id for r in group] != sorted(r.job_id for r in group)
    assert out_of_order > 0  # the ids do not come in submit order, so the sort is tested


def test_delete_drops_the_job_from_every_index() -> None:
    store, _clock, _ = _store([])
    record = store.create({"name": "a", "submitter_name": "alice", **ALL}, b"")
    kept = store.create({"name": "b", "submitter_name": "bob", **ALL}, b"")
    store.delete(record.job_id)
    assert "alice" not in store._by_submitter
    assert store.candidates(None, "alice") == []
    assert store.candidates(None, "bob") == [kept]
    store._compact()
    assert [entry[3] for entry in store._timeline] == [kept]  # the deleted job's entry is stale


def test_a_deleted_submitted_job_is_never_scheduled() -> None:
    store, clock, _ = _store()
    scheduled: list[str] = []
    store.on_schedule.append(lambda record, result, when: scheduled.append(record.job_id))
    record = _job(store, "gone")
    store.delete(record.job_id)
    clock.now += 100
    store.sync()
    assert scheduled == []
    assert store.active_count() == 0
    assert record.status is RunStatus.SUBMITTED


def test_a_deleted_running_job_holds_no_slot_and_no_process() -> None:
    store, _clock, _ = _store()
    store.script(JobScript.hangs())
    record = _job(store, "r")
    store.advance_to(record.job_id, "RUNNING")
    store.delete(record.job_id)
    assert store.active_count() == 0
    assert store.with_process() == []
    assert store.in_runner() == []


def test_a_deleted_aborted_job_leaves_the_runner_list() -> None:
    store, _clock, _ = _store()
    store.script(JobScript.hangs())
    record = _job(store, "r")
    store.advance_to(record.job_id, "RUNNING")
    store.abort(record)
    assert store.in_runner() == [record]
    store.delete(record.job_id)
    assert store.in_runner() == []


# ------------------------------------------------------------------ the runner's lists


def test_running_lists_jobs_by_start_time_and_leaves_out_orphans() -> None:
    store, clock, _ = _store(now=0.0)
    store.script(JobScript.hangs())
    first = _job(store, "first")
    second = _job(store, "second")
    lost = _job(store, "lost")
    store.advance_to(first.job_id, "RUNNING")  # starts at 0.0 (a start time that is falsy)
    clock.now = 0.5
    store.advance_to(lost.job_id, "RUNNING")
    store.advance_to(second.job_id, "RUNNING")
    assert first.started_at == 0.0
    assert store.running() == [first, second, lost]  # equal start times: in submit order
    clock.now = 0.25
    third = _job(store, "third")
    store.advance_to(third.job_id, "RUNNING")
    assert store.running() == [first, third, second, lost]  # by start time, not submission
    store.orphan(lost.job_id)
    assert lost.phase() == Phase.never()
    assert store.running() == [first, third, second]
    assert store.in_runner() == [first, third, second]


def test_an_orphaned_job_never_finishes_on_its_own() -> None:
    store, clock, _ = _store()
    record = _job(store, "r")
    store.advance_to(record.job_id, "RUNNING")
    store.orphan(record.job_id)
    clock.now += 10_000
    store.sync()
    assert record.status is RunStatus.RUNNING
    assert record.in_runner is False


def test_aborted_jobs_linger_in_the_runner_exactly_abort_linger_seconds_in_submit_order() -> None:
    store, clock, _ = _store()
    store.script(JobScript.hangs())
    early = _job(store, "early")
    late = _job(store, "late")
    running = _job(store, "running")
    for record in (early, late, running):
        store.advance_to(record.job_id, "RUNNING")
    store.abort(late, when=1_010.0)  # aborted first, submitted later
    store.abort(early, when=1_011.0)
    assert late.transitions[-1] == (1_010.0, RunStatus.RUNNING, RunStatus.FINISHED_ABORTED)
    assert early.process_until == 1_015.0
    assert store.in_runner() == [running, early, late]  # the clock still reads 1,000
    assert store.in_runner(1_013.9) == [running, early, late]
    assert store.in_runner(1_014.0) == [running, early]  # late's process exits at 1,014
    clock.now = 1_015.0
    assert store.in_runner() == [running]
    assert store.in_runner(1_000.0) == [running]  # pruned for good


def test_abort_uses_the_clock_without_a_time() -> None:
    store, clock, _ = _store()
    store.script(JobScript.hangs())
    record = _job(store, "r")
    store.advance_to(record.job_id, "RUNNING")
    clock.now = 1_500.0
    store.abort(record)
    assert record.process_until == 1_504.0
    assert record.transitions[-1][0] == 1_500.0


# ------------------------------------------------------------------ rounds


def _rounds_seen(store: JobStore) -> list[tuple[str, int, float]]:
    seen: list[tuple[str, int, float]] = []
    store.on_round.append(lambda record, number, when: seen.append((str(record.meta["name"]), number, when)))
    return seen


def test_timed_rounds_start_at_their_times_and_the_run_ends_after_the_last() -> None:
    store, clock, _ = _store()
    seen = _rounds_seen(store)
    record = _job(store, "r")  # queued 1 s, deploying 1 s, 3 rounds of 10 s
    clock.now = 1_002.0
    store.sync()
    assert record.status is RunStatus.RUNNING and record.started_at == 1_002.0
    assert record.next_round_time() == 1_012.0
    for _ in range(3):
        store.observe(record)  # reads do not start timed rounds
    assert record.round_times == [1_002.0]
    clock.now = 1_100.0
    store.sync()
    assert record.round_times == [1_002.0, 1_012.0, 1_022.0]
    assert seen == [("r", 0, 1_002.0), ("r", 1, 1_012.0), ("r", 2, 1_022.0)]
    assert record.transitions[-1] == (1_032.0, RunStatus.RUNNING, RunStatus.FINISHED_COMPLETED)
    assert record.next_round_time() is None


def test_a_round_due_when_the_run_ends_does_not_start() -> None:
    store, clock, _ = _store()
    store.script(JobScript(rounds=3, round_seconds=15.0, running=Phase.after(30.0)))
    record = _job(store, "r")
    clock.now = 1_100.0
    store.sync()
    assert record.round_times == [1_002.0, 1_017.0]
    assert record.transitions[-1] == (1_032.0, RunStatus.RUNNING, RunStatus.FINISHED_COMPLETED)


def test_rounds_that_follow_polls_start_one_per_read_after_the_first() -> None:
    store, _clock, _ = _store()
    store.script(JobScript.by_polls(submitted=0, dispatched=0, running=6).with_(rounds=3))
    record = _job(store, "p")
    assert record.status is RunStatus.RUNNING
    assert record.round_times == [1_000.0]
    assert record.next_round_time() is None  # rounds follow reads, not the clock
    counts = []
    for _ in range(6):
        store.observe(record)
        counts.append(len(record.round_times))
    assert counts == [1, 2, 3, 3, 3, 3]
    store.observe(record)
    assert record.status is RunStatus.FINISHED_COMPLETED


def test_reads_of_a_waiting_job_start_no_round() -> None:
    store, _clock, _ = _store()
    store.script(JobScript.by_polls(submitted=4, dispatched=4, running=4))
    record = _job(store, "p")
    for _ in range(4):
        store.observe(record)
    assert record.status is RunStatus.SUBMITTED
    assert record.round_times == []


def test_observe_fires_at_the_given_time() -> None:
    store, clock, _ = _store()
    store.script(JobScript.by_polls(submitted=1, dispatched=1, running=1))
    record = _job(store, "p")
    store.observe(record, now=1_007.0)
    store.observe(record, now=1_007.0)
    assert record.transitions[0][0] == 1_007.0
    assert clock.now == 1_000.0


def _started(**fields: object) -> JobRecord:
    script = JobScript(rounds=3, running=Phase.after(30.0))
    values: dict = dict(meta={"job_id": "j", "status": "RUNNING"}, content=b"", script=script, seq=1)
    values.update(phase_start=100.0, started_at=100.0, in_runner=True, sites=["site-1", "site-2"])
    values.update(round_times=[100.0])
    values.update(fields)
    return JobRecord(**values)


def _failure(target: str) -> LoadFailure:
    return LoadFailure(target, "app", "config_fed_client.json", "executors", {}, "ModuleNotFoundError: x")


def test_next_round_time_only_while_running_in_the_runner_with_rounds_left() -> None:
    assert _started().next_round_time() == 110.0
    assert _started(round_times=[100.0, 110.0]).next_round_time() == 120.0
    assert _started(round_times=[100.0, 110.0, 120.0]).next_round_time() is None
    assert _started(in_runner=False).next_round_time() is None
    assert _started(started_at=None).next_round_time() is None


def test_next_round_time_waits_for_the_dead_sites_when_some_sites_fail_to_load() -> None:
    some = _started(load_failures=[_failure("site-2")])
    assert some.some_sites_dead
    assert some.next_round_time() == 100.0 + DEAD_SITE_DELAY
    assert _started(load_failures=[_failure("site-2")], round_times=[100.0, 170.0]).next_round_time() == (
        100.0 + DEAD_SITE_DELAY + 10.0
    )
    every = _started(load_failures=[_failure("site-1"), _failure("site-2")])
    assert not every.some_sites_dead
    assert every.next_round_time() is None
    polls = _started(load_failures=[_failure("site-2")], script=JobScript.by_polls(running=3).with_(rounds=3))
    assert polls.next_round_time() is None


# ------------------------------------------------------------------ waking waiting jobs


def test_a_site_connecting_wakes_one_waiting_job_per_free_slot_at_that_time() -> None:
    store, clock, online = _store([], max_jobs=3)
    jobs = [_job(store, name) for name in "abcd"]
    clock.now = 1_001.0
    store.sync()
    assert all(r.waiting and r.next_attempt is None for r in jobs)
    store.sites_changed(now=1_001.5)  # still no site: nobody wakes
    assert all(r.waiting for r in jobs)
    online.append("site-1")
    store.sites_changed(now=1_003.0)
    assert [r.waiting for r in jobs] == [False, False, False, True]
    assert [r.next_attempt for r in jobs[:3]] == [1_003.0] * 3
    clock.now = 1_003.0
    store.sync()
    assert [r.status for r in jobs] == [RunStatus.DISPATCHED] * 3 + [RunStatus.SUBMITTED]


def test_only_the_free_slots_wake_while_other_jobs_run() -> None:
    store, clock, online = _store(max_jobs=2)
    store.script(JobScript.hangs())
    running = _job(store, "running")
    store.advance_to(running.job_id, "RUNNING")
    online.clear()
    waiting = [_job(store, name) for name in "bcd"]
    clock.now = 1_001.0
    store.sync()
    assert all(r.waiting for r in waiting)
    online.append("site-1")
    store.sites_changed()
    assert [r.waiting for r in waiting] == [False, True, True]
    assert waiting[0].next_attempt == 1_001.0


def test_a_job_that_left_the_queue_does_not_take_the_free_slot() -> None:
    store, clock, _ = _store(max_jobs=1)
    store.script(JobScript.hangs())
    first = _job(store, "first")
    store.advance_to(first.job_id, "RUNNING")
    aborted = _job(store, "aborted")
    frozen = _job(store, "frozen")
    deleted = _job(store, "deleted")
    last = _job(store, "last")
    clock.now = 1_001.0
    store.sync()
    assert all(r.waiting for r in (aborted, frozen, deleted, last))
    store.abort(aborted)
    frozen.fault = "RuntimeError: frozen by a test"
    store.delete(deleted.job_id)
    store.abort(first, when=1_002.0)  # frees the slot
    assert last.waiting is False
    assert last.next_attempt == 1_002.0
    assert frozen.waiting is True
    clock.now = 1_002.0
    store.sync()
    assert last.status is RunStatus.DISPATCHED
    assert frozen.status is RunStatus.SUBMITTED


# ------------------------------------------------------------------ the test API's errors


def test_script_next_refuses_what_is_not_a_script_or_a_count() -> None:
    store, _clock, _ = _store()
    with pytest.raises(TypeError, match=r"^script must be a JobScript, got str$"):
        store.script_next("hangs")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^count must be >= 1, got 0$"):
        store.script_next(JobScript(), 0)
    with pytest.raises(TypeError, match=r"^script must be a JobScript, got NoneType$"):
        store.script(None)  # type: ignore[arg-type]


def test_step_of_a_finished_job_names_it() -> None:
    store, _clock, _ = _store()
    record = _job(store, "r")
    store.run_to_completion(record.job_id)
    with pytest.raises(JobStoreError, match=rf"^job {record.job_id} is already FINISHED:COMPLETED$"):
        store.step(record.job_id)


def test_script_next_scripts_the_next_submission_only_by_default() -> None:
    store, _clock, _ = _store()
    store.script_next(JobScript.hangs())
    first, second = _job(store, "a"), _job(store, "b")
    assert first.script.running.forever
    assert not second.script.running.forever


# ------------------------------------------------------------------ FLARE's scheduler crash


def test_a_resource_spec_without_a_site_that_passed_crashes_the_attempt_like_flare() -> None:
    """FLARE 2.3.12's ``cancel_client_resources`` raises ``KeyError: '<site>'`` for a site that passed the
    check but is missing from ``resource_spec``: the attempt leaves no history and is tried again next tick."""
    store, clock, _ = _store(["site-1", "site-2"])
    store.resources = ResourcePool({"site-1": GPUResources(), "site-2": GPUResources()})
    results: list[Optional[str]] = []
    store.on_schedule.append(lambda record, result, when: results.append(result))
    record = _job(store, "r", min_clients=2, resource_spec={"site-1": {"num_of_gpus": 1}})
    clock.now = 1_001.0
    store.sync()
    assert results == [None]
    assert store.crash_site == "site-2"
    assert record.status is RunStatus.SUBMITTED
    assert "schedule_history" not in record.meta
    assert record.next_attempt == 1_002.0
    crash = _SchedulerCrash("site-2")
    assert crash.args == ("site-2",) and crash.site == "site-2"


# ------------------------------------------------------------------ the timeline's stamps


def test_touching_a_job_whose_event_time_did_not_change_keeps_its_one_entry() -> None:
    store, _clock, _ = _store()
    record = _job(store, "r")
    assert len(store._timeline) == 1
    for _ in range(5):
        store._touch(record)
    assert len(store._timeline) == 1
    assert record.queued == (1_001.0, record.stamp)


def test_a_quarantined_job_fires_none_of_its_older_entries() -> None:
    store, times, fired = _store_with_scripted_times()
    record = store.create({"name": "r"}, b"")
    times[record.job_id] = 1_100.0
    store._touch(record)
    times[record.job_id] = 1_150.0
    store._touch(record)  # the 1,100 entry is stale now

    def explode(job: JobRecord) -> Optional[float]:
        raise RuntimeError("boom")

    store._event_time = explode  # type: ignore[method-assign,assignment]
    store._touch(record)
    assert record.fault == "RuntimeError: boom"
    store.sync(2_000.0)
    assert fired == []


def test_step_refuses_a_job_waiting_for_a_slot_or_a_site() -> None:
    store, clock, _ = _store([], max_jobs=2)
    record = _job(store, "w")
    clock.now = 1_001.0
    store.sync()
    assert record.waiting
    with pytest.raises(JobStoreError) as info:
        store.step(record.job_id)
    assert str(info.value) == (f"job {record.job_id} cannot be scheduled now (no free slot of 2, or no site connected)")


# ------------------------------------------------------------------ status changes


def test_the_scheduler_defaults_are_flares() -> None:
    store = JobStore(_Clock(), random.Random(1), lambda: [])
    assert (store.max_jobs, store.min_schedule_interval, store.max_schedule_interval) == (4, 10.0, 600.0)
    assert (store.max_schedule_count, store.scheduler_tick, store.abort_linger) == (10, 1.0, 4.0)
    assert store.crash_site == ""


def test_a_finished_job_is_out_of_the_runner_and_the_hooks_hear_each_move() -> None:
    store, clock, _ = _store()
    moves: list[tuple[str, str, float]] = []
    store.on_transition.append(lambda record, old, new, when: moves.append((old.value, new.value, when)))
    record = _job(store, "r")
    clock.now = 1_100.0
    store.sync()
    assert moves == [
        ("SUBMITTED", "DISPATCHED", 1_001.0),
        ("DISPATCHED", "RUNNING", 1_002.0),
        ("RUNNING", "FINISHED:COMPLETED", 1_032.0),
    ]
    assert record.finished_at == 1_032.0
    assert record.in_runner is False
    assert record.meta["duration"] == "0:00:30"


def test_a_move_flare_never_makes_is_refused_as_a_bug() -> None:
    store, _clock, _ = _store()
    record = _job(store, "r")
    store.run_to_completion(record.job_id)
    with pytest.raises(IllegalTransition) as info:
        store._set_status(record, RunStatus.RUNNING, 2_000.0)
    assert str(info.value) == f"job {record.job_id}: FINISHED:COMPLETED -> RUNNING is not a FLARE transition"


def test_a_slot_an_attempt_did_not_take_goes_to_the_next_waiting_job_at_once() -> None:
    store, clock, online = _store([], max_jobs=1)
    waiting = _job(store, "waiting")
    clock.now = 1_001.0
    store.sync()
    assert waiting.waiting
    online.append("site-1")  # no sites_changed: only the next attempt notices
    picky = _job(store, "picky", min_clients=5)
    clock.now = 1_002.0
    store.sync()
    assert picky.status is RunStatus.SUBMITTED
    assert waiting.transitions[0] == (1_002.0, RunStatus.SUBMITTED, RunStatus.DISPATCHED)


def test_deleting_a_job_that_crashes_the_scheduler_frees_the_jobs_behind_it() -> None:
    store, clock, _ = _store(["site-1", "site-2"])
    store.resources = ResourcePool({"site-1": GPUResources(), "site-2": GPUResources()})
    crashing = _job(store, "a", min_clients=2, resource_spec={"site-1": {"num_of_gpus": 1}})
    behind = _job(store, "b")
    clock.now = 1_001.0
    store.sync()
    assert behind.status is RunStatus.SUBMITTED
    store.delete(crashing.job_id)
    clock.now = 1_002.0
    store.sync()
    assert behind.status is RunStatus.DISPATCHED


def test_reset_hands_back_every_old_index_and_forgets_every_job() -> None:
    store, _clock, _ = _store()
    record = _job(store, "r")
    jobs, live = store._jobs, store._live
    old = store.reset()
    assert len(old) == 10
    assert old[0] is jobs and old[1] is live and jobs == {record.job_id: record}
    assert len(store) == 0 and store.get(record.job_id) is None
    assert store.candidates(None, None) == [] and store._timeline == []
    again = _job(store, "again")
    assert again.seq == 1
