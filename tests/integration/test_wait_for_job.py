"""``Session.wait_for_job``: the final meta when the job finishes, ``JobTimeout`` when it does not in time.

On the fake's virtual clock: polls happen at 0, 10, ... 60 s; the check before the poll at 70 s finds the
60 s timeout passed (reference 8.7: the timeout is checked before each poll).
"""

from __future__ import annotations

import itertools

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from flare_api import FlareError, JobTimeout, Session, VirtualClock


def polls(server: FakeFlareServer, job_id: str) -> int:
    return sum(1 for entry in server.audit if entry.command == f"get_job_meta {job_id}")


def test_a_job_that_hangs_raises_job_timeout_with_its_last_status(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    flare.jobs.script_next(JobScript.hangs())
    job_id = flare_session.submit_job(str(example_job()))
    started = flare_clock.time()
    with pytest.raises(JobTimeout) as caught:
        flare_session.wait_for_job(job_id, timeout=60.0, poll_interval=10.0)
    assert str(caught.value) == f"job {job_id} did not finish within 60.0 seconds (last status: RUNNING)"
    assert isinstance(caught.value, FlareError) and isinstance(caught.value, TimeoutError)
    assert flare_clock.time() - started == 70.0
    assert polls(flare, job_id) == 7
    assert flare.jobs.record(job_id).status.value == "RUNNING"  # giving up does not abort the job


def test_a_job_that_finishes_after_the_timeout_times_out_then_can_be_waited_for_again(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    flare.jobs.script_next(JobScript.ends("ABNORMAL", after=100.0, queued=20.0, deploying=5.0))
    job_id = flare_session.submit_job(str(example_job()))
    with pytest.raises(JobTimeout, match=r"within 10\.0 seconds \(last status: SUBMITTED\)$"):
        flare_session.wait_for_job(job_id, timeout=10.0, poll_interval=5.0)
    with pytest.raises(JobTimeout, match=r"within 20\.0 seconds \(last status: RUNNING\)$"):
        flare_session.wait_for_job(job_id, timeout=20.0, poll_interval=5.0)
    meta = flare_session.wait_for_job(job_id, timeout=200.0, poll_interval=5.0)
    assert meta["status"] == "FINISHED:ABNORMAL" and meta["job_id"] == job_id


def test_no_timeout_waits_as_long_as_the_job_runs(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    flare.jobs.script_next(JobScript.completes(after=3600.0))
    job_id = flare_session.submit_job(str(example_job()))
    meta = flare_session.wait_for_job(job_id, poll_interval=60.0)  # timeout 0: no limit, like FLARE's
    assert meta["status"] == "FINISHED:COMPLETED"
    assert flare_clock.time() - flare.start_time >= 3600.0


def test_timing_out_before_the_first_poll_reports_an_unknown_status(
    flare: FakeFlareServer, flare_session: Session
) -> None:
    job_id = flare_session.submit_job(str(example_job()))
    jumps = itertools.count(0.0, 100.0)  # every reading of this clock is 100 s after the last

    class JumpingClock:
        def time(self) -> float:
            return next(jumps)

        def monotonic(self) -> float:
            return next(jumps)

        def sleep(self, seconds: float) -> None:
            raise AssertionError("wait_for_job slept, but the timeout had passed")

    flare_session.clock = JumpingClock()
    with pytest.raises(JobTimeout, match=r"within 5\.0 seconds \(last status: unknown\)$"):
        flare_session.wait_for_job(job_id, timeout=5.0)
    assert polls(flare, job_id) == 0
