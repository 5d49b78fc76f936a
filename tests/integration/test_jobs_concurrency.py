"""Sixteen sessions hammer one fake server with job commands at once; jobs move on polls and a virtual clock.

No real time is involved: "alpha" jobs move one status per read of their meta, "beta" jobs on the
server's virtual clock, which the threads themselves advance ("tick"), and "hanger" jobs run until aborted.
What interleaves is only the threads' requests, so a slow machine changes the interleaving, never the verdict.

Each thread runs a fixed number of random operations (seeded per thread) and tolerates only the errors
a concurrent world explains: ``JobNotDone`` for deleting an active job, ``JobNotFound`` for a job some
thread deleted. Afterwards the store must agree with what the threads saw, every status change must be a
FLARE transition (reference 7.3), the scheduler must never have run more than ``max_jobs`` jobs at once,
and every job must end FINISHED once hanging ones are aborted and the rest run to completion.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.model.job_script import LEGAL_TRANSITIONS, RunStatus
from fakeserver.model.jobs import ACTIVE, JobRecord
from flare_api import JobNotDone, JobNotFound, Session, new_secure_session
from flare_api.clock import VirtualClock
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

USER = "admin@nvidia.com"
THREADS = 16
OPS_PER_THREAD = 15
RANK = {RunStatus.SUBMITTED: 0, RunStatus.DISPATCHED: 1, RunStatus.RUNNING: 2}
#: Jobs move while the threads work: on reads of their meta ("alpha"), on the virtual clock the threads
#: advance ("beta"), or not at all once running ("hanger", until aborted).
DEFAULT_SCRIPT = JobScript.by_polls(submitted=1, dispatched=1, running=1)
NAMED_SCRIPTS = {
    "beta": JobScript.ends("EXECUTION_EXCEPTION", after=2.0, queued=0.5, deploying=1.0),
    "hanger": JobScript.hangs(queued=Phase.after_polls(1), deploying=Phase.after_polls(1)),
}
TICK = 0.5  # virtual seconds a "tick" moves the server's clock
FOLDER_NAMES = ["alpha", "beta", "hanger"]


class Shared:
    """What the threads learned, behind one lock."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock  # the server's clock, which "tick" advances
        self.lock = threading.Lock()
        self.submitted: list[str] = []
        self.deleted: list[str] = []
        self.not_found: list[tuple[str, str]] = []
        self.listed: set[str] = set()
        self.counts: dict[str, int] = defaultdict(int)

    def known(self) -> list[str]:
        with self.lock:
            return list(self.submitted)

    def add(self, job_id: str) -> None:
        with self.lock:
            self.submitted.append(job_id)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1


def worker(index: int, server: FakeFlareServer, folders: dict[str, str], shared: Shared) -> None:
    rng = random.Random(1000 + index)
    ops = ["submit"] * 2 + ["clone"] + ["abort"] * 2 + ["delete"] * 2 + ["meta"] * 3 + ["list"] + ["tick"] * 2
    last_rank: dict[str, int] = {}  # per job: this thread's reads must never see a status go back
    with new_secure_session(USER, server.startup_kit(USER)) as session:
        for _ in range(OPS_PER_THREAD):
            known = shared.known()
            op = rng.choice(ops) if known else "submit"
            job_id = rng.choice(known) if known else ""
            try:
                run_op(op, job_id, rng, session, folders, shared, last_rank)
            except JobNotFound:
                with shared.lock:
                    shared.not_found.append((op, job_id))
                shared.count(f"{op}:JobNotFound")
            except JobNotDone:
                assert op == "delete", op
                shared.count("delete:JobNotDone")


def run_op(
    op: str, job_id: str, rng: random.Random, session: Session, folders: dict[str, str], shared: Shared,
    last_rank: dict[str, int],
) -> None:  # fmt: skip
    if op == "tick":
        shared.clock.advance(TICK)
    elif op == "submit":
        shared.add(session.submit_job(folders[rng.choice(FOLDER_NAMES)]))
    elif op == "clone":
        shared.add(session.clone_job(job_id))
    elif op == "abort":
        session.abort_job(job_id)
    elif op == "delete":
        session.delete_job(job_id)
        with shared.lock:
            shared.deleted.append(job_id)
    elif op == "meta":
        meta = session.get_job_meta(job_id)
        assert meta["job_id"] == job_id
        rank = RANK.get(RunStatus(meta["status"]), 3)
        assert rank >= last_rank.get(job_id, 0), (job_id, meta["status"])
        last_rank[job_id] = rank
    else:
        jobs = session.list_jobs(
            detailed=rng.random() < 0.3, limit=rng.choice([None, 0, 3, 10]), reverse=rng.random() < 0.5,
            name_prefix=rng.choice([None, "a", "HANG"]),
        )  # fmt: skip
        times = [job["submit_time"] for job in jobs]
        with shared.lock:
            shared.listed.update(job["job_id"] for job in jobs)
        assert len(set(job["job_id"] for job in jobs)) == len(jobs)
        assert times in (sorted(times), sorted(times, reverse=True))
    shared.count(op)


def finish_everything(server: FakeFlareServer, session: Session) -> None:
    """Abort the jobs scripted to hang, then run the others to completion.

    Under the state lock, so no read can start more jobs meanwhile: active jobs first (they
    hold the ``max_jobs`` slots), then the queued ones one at a time, in submission order.
    """
    for job_id in server.jobs.ids():
        record = server.jobs.record(job_id)
        if not record.status.finished and record.script.running.forever:
            session.abort_job(job_id)
    with server._state.lock:
        server._state.sync()
        store = server._state.jobs
        records = sorted(store, key=lambda r: r.seq)
        for record in sorted(records, key=lambda r: r.status not in ACTIVE):
            if not record.status.finished:
                store.run_to_completion(record.job_id)


@pytest.mark.parametrize("max_jobs", [4, 2])
def test_sixteen_sessions_keep_the_store_consistent(tmp_path: Path, max_jobs: int) -> None:
    folders = {name: str(write_job(tmp_path / "jobs", name)) for name in FOLDER_NAMES}
    timeline: list[tuple[str, RunStatus, RunStatus, float]] = []

    def on_transition(record: JobRecord, old: RunStatus, new: RunStatus, when: float) -> None:
        timeline.append((record.job_id, old, new, when))  # runs under the server's state lock

    clock = VirtualClock()
    server = FakeFlareServer(workspace=tmp_path / "kits", clock=clock, default_script=DEFAULT_SCRIPT, max_jobs=max_jobs)
    with server:
        for name, script in NAMED_SCRIPTS.items():
            server.jobs.script(script, name=name)
        server._state.jobs.on_transition.append(on_transition)
        shared = Shared(clock)
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(worker, i, server, folders, shared) for i in range(THREADS)]
            for future in futures:
                future.result()  # re-raise any unexpected error of a thread

        # No lost jobs, no phantom jobs: the store holds exactly what was submitted and not deleted.
        assert len(shared.submitted) == len(set(shared.submitted)), "a job id was handed out twice"
        assert len(shared.deleted) == len(set(shared.deleted)), "a job was deleted twice"
        assert set(shared.deleted) <= set(shared.submitted)
        assert set(server.jobs.ids()) == set(shared.submitted) - set(shared.deleted)
        assert {job_id for _, job_id in shared.not_found} <= set(shared.deleted)
        assert shared.listed <= set(shared.submitted)
        assert (
            sum(shared.counts[op] for op in ("submit", "clone", "abort", "delete", "meta", "list", "tick"))
            + sum(n for what, n in shared.counts.items() if ":" in what)
            == THREADS * OPS_PER_THREAD
        )

        check_timeline(server, timeline, max_jobs)
        assert server.errors == []
        assert server.stats.handshake_failures == 0, server.handshake_errors

        with new_secure_session(USER, server.startup_kit(USER)) as session:
            finish_everything(server, session)
            for job_id in server.jobs.ids():
                record = server.jobs.record(job_id)
                assert record.status.finished, (job_id, record.status)
                if record.script.running.forever:
                    assert record.status is RunStatus.FINISHED_ABORTED
                assert session.get_job_meta(job_id)["status"] == record.status.value
        check_timeline(server, timeline, max_jobs)
        assert server.errors == []
        assert server.stats.handshake_failures == 0, server.handshake_errors


def check_timeline(
    server: FakeFlareServer, timeline: list[tuple[str, RunStatus, RunStatus, float]], max_jobs: int
) -> None:
    """Every change is legal and follows the job's previous status; at most ``max_jobs`` jobs are active at once."""
    by_job: dict[str, list[tuple[float, RunStatus, RunStatus]]] = defaultdict(list)
    active: set[str] = set()
    peak = 0
    # White-box: read the records and the timeline at one instant, under the state lock; on the real clock
    # a job may otherwise move on between the two reads and show a transition the snapshot lacks.
    with server._state.lock:
        records = {job_id: server.jobs.record(job_id) for job_id in server.jobs.ids()}
        transitions = {job_id: list(record.transitions) for job_id, record in records.items()}
        statuses = {job_id: record.status for job_id, record in records.items()}
        events = list(timeline)
    for job_id, old, new, when in events:
        changes = by_job[job_id]
        assert old is (changes[-1][2] if changes else RunStatus.SUBMITTED), (job_id, changes, old, new)
        assert new in LEGAL_TRANSITIONS[old], (job_id, old, new)
        changes.append((when, old, new))
        if new in ACTIVE:
            active.add(job_id)
        else:
            active.discard(job_id)
        peak = max(peak, len(active))
        assert len(active) <= max_jobs, f"{len(active)} jobs DISPATCHED or RUNNING at once (max_jobs={max_jobs})"
    assert peak >= 1
    # The live records hold the same histories as the timeline (deleted jobs are only in the timeline).
    for job_id, history in transitions.items():
        assert history == by_job.get(job_id, [])
        assert statuses[job_id] is (history[-1][2] if history else RunStatus.SUBMITTED)
