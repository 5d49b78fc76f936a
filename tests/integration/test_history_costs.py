"""A long history does not make requests walk every job; reset frees it off the request path.

Counted, not timed: the number of timeline evaluations a request makes, the words argparse receives.
(Timings are in tests/bench/test_bench_history.py, run by ``tox -e bench``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase, RunStatus
from fakeserver.model.jobs import JobStore
from fakeserver.model.reaper import REAPER
from flare_api.clock import VirtualClock

from ..bench import history

pytestmark = pytest.mark.fake_flare_only


@pytest.fixture()
def server(tmp_path: Path):
    with FakeFlareServer(workspace=tmp_path / "ws", clock=VirtualClock(), default_script=history.INSTANT) as started:
        yield started
        started.raise_errors()


def test_a_request_evaluates_only_due_jobs_not_the_queue(server: FakeFlareServer, tmp_path: Path, monkeypatch) -> None:
    folder = history.write_job_folder(tmp_path)
    session = server.session(history.ADMIN, in_process=True)
    history.fill(server, session, history.submit_line(folder), 200, 0, pending=True)  # 200 queued for a year
    probe = session.submit_job(folder)
    session.get_job_meta(probe)
    evaluated: list[str] = []
    original = JobStore._event_time

    def counting(self: JobStore, record):  # type: ignore[no-untyped-def]
        evaluated.append(record.job_id)
        return original(self, record)

    monkeypatch.setattr(JobStore, "_event_time", counting)
    for _ in range(5):
        assert session.get_job_meta(probe)["status"] == RunStatus.FINISHED_COMPLETED.value
    session.list_jobs(limit=3)
    server.sessions.all()
    assert evaluated == []  # nothing was due: no job was looked at, although 200 are queued
    server.clock.advance(365 * 86400.0)
    server.session(history.ADMIN, in_process=True).get_job_meta(probe)  # the old session idled out
    assert len(set(evaluated)) == 200  # now each queued job's attempt was due, and each was replayed


def test_the_queued_jobs_still_run_in_submit_order_when_due(server: FakeFlareServer, tmp_path: Path) -> None:
    folder = history.write_job_folder(tmp_path)
    session = server.session(history.ADMIN, in_process=True)
    server.jobs.script_next(JobScript(queued=Phase.after(100.0), running=Phase.after(5.0)), 12)
    ids = [session.submit_job(folder) for _ in range(12)]
    server.clock.advance(100.0)
    session.list_jobs()
    running = [job_id for job_id in ids if server.jobs.status(job_id) is not RunStatus.SUBMITTED]
    assert running == ids[:4]  # max_jobs slots, taken in submit order; the rest wait for a free slot
    server.clock.advance(3600.0)
    assert {server.jobs.status(job_id) for job_id in ids} == {RunStatus.FINISHED_COMPLETED}


def test_list_jobs_with_20000_repeated_flags_answers_as_with_one(server: FakeFlareServer, tmp_path: Path) -> None:
    folder = history.write_job_folder(tmp_path)
    session = server.session(history.ADMIN, in_process=True)
    job_id = session.submit_job(folder)
    once = session.do_command(f"list_jobs -d -m 5 {job_id[:6]}")
    many = session.do_command("list_jobs " + "-d " * 20_000 + "-m 9 " * 1_000 + f"-m 5 {job_id[:6]}")
    assert many["meta"] == once["meta"] and many["data"] == once["data"]
    assert [job["job_id"] for job in many["meta"]["jobs"]] == [job_id]


def test_reset_moves_the_workspace_aside_and_frees_it_in_the_background(
    server: FakeFlareServer, tmp_path: Path
) -> None:
    folder = history.write_job_folder(tmp_path)
    session = server.session(history.ADMIN, in_process=True)
    job_id = session.submit_job(folder)
    session.get_job_meta(job_id)
    root = server.sites.workspace("server").parent
    assert any(p.name == job_id for site in server.sites.connected() for p in (root / site).iterdir())
    server.reset()
    assert len(server.jobs) == 0
    assert not any(p.name == job_id for site in server.sites.connected() for p in (root / site).iterdir())
    assert (server.sites.workspace("server") / "startup").is_dir()  # laid out again
    REAPER.drain()
    assert [p.name for p in root.parent.iterdir() if ".discarded-" in p.name] == []


def test_polling_a_running_job_does_not_grow_the_timeline(tmp_path: Path) -> None:
    """Each read of a job's meta re-queues its event only if its time changed."""
    clock = VirtualClock()
    with FakeFlareServer(workspace=tmp_path / "ws", clock=clock) as server:
        server.jobs.script_next(JobScript(running=Phase.after(3600.0), rounds=1))
        folder = history.write_job_folder(tmp_path)
        session = server.session(history.ADMIN, in_process=True)
        job_id = session.submit_job(folder)
        server.jobs.advance_to(job_id, "RUNNING")
        store = server._state.jobs  # the model itself: the queue's length is what this test is about
        for _ in range(2_000):
            assert session.get_job_meta(job_id)["status"] == RunStatus.RUNNING.value
        assert len(store._timeline) <= 2 * len(store._live) + 64
        clock.advance(3600.0)
        assert session.get_job_meta(job_id)["status"] == RunStatus.FINISHED_COMPLETED.value
        server.raise_errors()
