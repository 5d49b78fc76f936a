"""A hypothesis state machine over the wire (Session → TLS → fake server) for the job lifecycle.

Rules submit, clone, abort, delete, step and inspect jobs and move the virtual clock (big jumps too, so
the session expires and is replaced). A plain Python model of the job ids (in submission order) is kept
next to the server; invariants check that no job is lost or invented, that every recorded status change
is a FLARE transition (reference 7.3), that a finished job's meta never changes again, and that
``list_jobs`` agrees with a model computed from ``server.jobs.meta`` (reference 6.1 and 8.6).
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from fakeserver.model.job_script import LEGAL_TRANSITIONS, RunStatus
from fakeserver.model.jobs import ACTIVE, JobStoreError
from flare_api import (
    InvalidArgumentError,
    JobNotDone,
    JobNotFound,
    MonitorReturnCode,
    Session,
    SessionInactive,
    VirtualClock,
    new_secure_session,
)
from tests.helpers import examples
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

USER = "admin@nvidia.com"
IDLE_TIMEOUT = 3600.0
MAX_JOBS = 3
#: Job folders by name (meta ``name`` == folder name); set up by the module fixture.
FOLDER_NAMES = ["alpha", "alphabet", "Beta", "beta-2", "gamma"]
FOLDERS: dict[str, str] = {}
_SERVER: Optional[FakeFlareServer] = None

# --------------------------------------------------------------------------------------------- strategies

OUTCOMES = ["COMPLETED", "EXECUTION_EXCEPTION", "ABNORMAL", "ABORTED", "ABANDONED", "FAILED_TO_RUN", "CAN_NOT_SCHEDULE"]
SECONDS = st.sampled_from([0.0, 0.5, 1.0, 2.0, 5.0, 30.0, 600.0])
PHASES = st.one_of(SECONDS.map(Phase.after), st.integers(0, 3).map(Phase.after_polls))
DEFAULT = st.none()  # the server's default script: 1 s queued, 1 s deploying, 30 s running, COMPLETED
BY_POLLS = st.builds(
    JobScript.by_polls,
    submitted=st.integers(0, 3),
    dispatched=st.integers(0, 3),
    running=st.integers(0, 3),
    outcome=st.sampled_from(OUTCOMES),
)
HANGS = st.builds(lambda q, d: JobScript.hangs(queued=q, deploying=d), PHASES, PHASES)
MIXED = st.builds(
    lambda o, q, d, r: JobScript(outcome=o, queued=q, deploying=d, running=r),
    st.sampled_from(OUTCOMES),
    PHASES,
    PHASES,
    PHASES,
)
UNSCHEDULABLE = st.just(JobScript(require_sites=3))  # back-off, then CAN_NOT_SCHEDULE after ten attempts
#: Weighted by repetition: mostly jobs that end by themselves, some that hang or never get scheduled.
SCRIPTS = st.one_of(DEFAULT, DEFAULT, MIXED, MIXED, MIXED, BY_POLLS, BY_POLLS, HANGS, UNSCHEDULABLE)
ADVANCES = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 10.0, 31.0, 120.0]),
    st.sampled_from([1800.0, 3599.0, 3600.0, 3601.0, 7200.0, 3 * 86400.0]),
)
LIMITS = st.sampled_from([None, 0, 1, 2, 3, 5, 100, -1, -2])
NAME_PREFIXES = st.one_of(
    st.none(), st.sampled_from(["", "a", "AL", "alpha", "alphab", "b", "BETA-", "hello", "g", "zz", "H"])
)
HEX_PREFIXES = st.one_of(st.none(), st.text("0123456789abcdefABCDEF", max_size=2))
#: (poll_interval, timeout) pairs that keep a monitor_job call to at most 21 polls.
MONITOR_ARGS = st.sampled_from([(0.5, 10.0), (1.0, 20.0), (5.0, 60.0), (30.0, 600.0), (60.0, 1200.0)])
RANK = {RunStatus.SUBMITTED: 0, RunStatus.DISPATCHED: 1, RunStatus.RUNNING: 2}


# --------------------------------------------------------------------------------------------- the model


def listed_duration(server: FakeFlareServer, meta: dict[str, Any], now: float) -> Any:
    """``duration`` as list_jobs shows it: recomputed live (``now - start``) for RUNNING jobs."""
    if meta["status"] != RunStatus.RUNNING.value:
        return meta["duration"]
    started = server.jobs.record(meta["job_id"]).started_at
    assert started is not None
    return str(datetime.timedelta(seconds=max(0.0, now - started)))


def expected_list_jobs(
    server: FakeFlareServer,
    detailed: bool,
    limit: Optional[int],
    id_prefix: Optional[str],
    name_prefix: Optional[str],
    reverse: bool,
) -> list[dict[str, Any]]:
    """Reference 6.1 ``list_jobs`` (and 8.6's command building), applied to ``server.jobs.meta`` of each job."""
    now = server.clock.time()
    metas = []
    for job_id in server.jobs.ids():  # store order == submission order
        meta = server.jobs.meta(job_id)
        meta["duration"] = listed_duration(server, meta, now)
        metas.append(meta)
    selected = [
        m
        for m in metas
        if (not id_prefix or m["job_id"].lower().startswith(id_prefix.lower()))
        and (not name_prefix or m["name"].lower().startswith(name_prefix.lower()))
    ]
    selected.sort(key=lambda m: m["submit_time"], reverse=reverse)  # stable: ties stay in submission order
    if limit:  # the client sends -m only for a truthy limit; -m N keeps the newest N either way
        selected = selected[:limit] if reverse else selected[-limit:]
    if detailed:
        return selected
    return [
        {
            "job_id": m["job_id"],
            "job_name": m.get("name") or m.get("job_folder_name", "No name"),
            "status": m["status"],
            "submit_time": m["submit_time_iso"],
            "duration": str(m["duration"]),
        }
        for m in selected
    ]


class JobLifecycle(RuleBasedStateMachine):
    """Session → TLS → fake server, next to a plain model of which jobs exist."""

    job_ids = Bundle("job_ids")

    def __init__(self) -> None:
        super().__init__()
        assert _SERVER is not None, "the module fixture starts the server"
        self.server = _SERVER
        self.server.reset()
        clock = self.server.clock
        assert isinstance(clock, VirtualClock)
        self.clock = clock
        self.session = self._login()
        self.last_active = self.clock.time()
        self.relogins = 0
        #: Job ids that exist, in submission order.
        self.ids: list[str] = []
        self.deleted: set[str] = set()
        #: Meta of each job when first seen finished.
        self.finished: dict[str, dict[str, Any]] = {}

    def _login(self) -> Session:
        return new_secure_session(USER, self.server.startup_kit(USER), clock=self.clock)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a Session method; after more than an hour idle the server has dropped the session (5.6)."""
        if self.clock.time() - self.last_active > IDLE_TIMEOUT:
            with pytest.raises(SessionInactive):
                self.session.list_jobs()
            self.session.close()
            self.session = self._login()
            self.relogins += 1
        try:
            return getattr(self.session, method)(*args, **kwargs)
        finally:
            self.last_active = self.clock.time()  # every command passed the login filter, even a failed one

    def status(self, job_id: str) -> RunStatus:
        return self.server.jobs.status(job_id)

    def active_count(self) -> int:
        return sum(1 for job_id in self.ids if self.status(job_id) in ACTIVE)

    def teardown(self) -> None:
        self.session.close()

    # ----------------------------------------------------------------------------------------- rules

    @initialize(target=job_ids, folder=st.sampled_from(FOLDER_NAMES), script=SCRIPTS)
    def first_job(self, folder: str, script: Optional[JobScript]) -> str:
        return self.submit(folder, script)

    @rule(target=job_ids, folder=st.sampled_from([*FOLDER_NAMES, "hello-numpy"]), script=SCRIPTS)
    def submit(self, folder: str, script: Optional[JobScript]) -> str:
        if script is not None:
            self.server.jobs.script_next(script)
        job_id = self.call("submit_job", FOLDERS[folder])
        assert job_id not in self.ids and job_id not in self.deleted
        meta = self.server.jobs.meta(job_id)
        assert meta["name"] == folder and meta["submit_time"] == self.clock.time()
        if script is not None:
            # fitted to the job's config: hello-numpy's num_rounds is 3, the other folders name none (default 3)
            assert self.server.jobs.record(job_id).script == script.for_job(3)
        self.ids.append(job_id)
        return job_id

    @rule(target=job_ids, source=job_ids, script=SCRIPTS)
    def clone(self, source: str, script: Optional[JobScript]) -> Any:
        if source in self.deleted:
            with pytest.raises(JobNotFound):
                self.call("clone_job", source)
            return multiple()
        if script is not None:
            self.server.jobs.script_next(script)
        original = self.server.jobs.meta(source)
        job_id = self.call("clone_job", source)
        assert job_id not in self.ids and job_id not in self.deleted
        meta = self.server.jobs.meta(job_id)
        assert meta["cloned_from"] == source and meta["name"] == original["name"]
        assert meta["submit_time"] == self.clock.time()
        self.ids.append(job_id)
        return job_id

    @rule(job_id=job_ids)
    def abort(self, job_id: str) -> None:
        if job_id in self.deleted:
            with pytest.raises(JobNotFound):
                self.call("abort_job", job_id)
            return
        before = self.server.jobs.meta(job_id)
        self.call("abort_job", job_id)
        after = self.server.jobs.meta(job_id)
        if before["status"].startswith("FINISHED"):
            assert after == before, "aborting a finished job changes nothing"
        else:
            assert after["status"] == RunStatus.FINISHED_ABORTED.value

    @rule(job_id=job_ids)
    def delete(self, job_id: str) -> None:
        if job_id in self.deleted:
            with pytest.raises(JobNotFound):
                self.call("delete_job", job_id)
            return
        before = self.status(job_id)
        if before in ACTIVE:
            with pytest.raises(JobNotDone):
                self.call("delete_job", job_id)
            assert self.status(job_id) is before, "a refused delete keeps the job as it was"
            return
        self.call("delete_job", job_id)
        self.ids.remove(job_id)
        self.deleted.add(job_id)
        self.finished.pop(job_id, None)

    @rule(seconds=ADVANCES)
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(seconds=st.sampled_from([1.0, 2.0, 5.0, 30.0, 60.0]))
    def advance_a_little(self, seconds: float) -> None:  # a second clock rule, so time moves more often
        self.clock.advance(seconds)

    @rule(job_id=job_ids)
    def step(self, job_id: str) -> None:
        if job_id in self.deleted:
            with pytest.raises(JobStoreError, match="no job"):
                self.server.jobs.step(job_id)
            return
        before = self.status(job_id)
        active = self.active_count()
        record = self.server.jobs.record(job_id)  # the live record: reading it does not sync the timeline
        seen = len(record.transitions)
        try:
            after = self.server.jobs.step(job_id)
        except JobStoreError:
            # Only a finished job, or a queued one while every max_jobs slot is taken, cannot move.
            assert before.finished or (before is RunStatus.SUBMITTED and active >= MAX_JOBS), (before, active)
            assert self.status(job_id) is before
            return
        assert not before.finished
        # One step is at least one move; zero-length phases after it are passed through at once.
        moves = record.transitions[seen:]
        assert moves and moves[0][1] is before and moves[-1][2] is after, moves
        assert all(when == self.clock.time() for when, _, _ in moves), moves

    @rule(job_id=job_ids, upper=st.booleans())
    def get_job_meta(self, job_id: str, upper: bool) -> None:
        wire_id = job_id.upper() if upper else job_id  # ids are looked up lowercased (reference 6.0)
        if job_id in self.deleted:
            with pytest.raises(JobNotFound):
                self.call("get_job_meta", wire_id)
            return
        meta = self.call("get_job_meta", wire_id)
        assert meta["job_id"] == job_id
        # The read may have ended a poll-based phase; the reply shows the state after that read.
        assert meta == self.server.jobs.meta(job_id)

    @rule(job_id=job_ids, args=MONITOR_ARGS)
    def monitor(self, job_id: str, args: tuple[float, float]) -> None:
        poll_interval, timeout = args
        if job_id in self.deleted:
            with pytest.raises(JobNotFound):
                self.call("monitor_job", job_id, timeout, poll_interval)
            return
        seen: list[RunStatus] = []
        polled_at: list[float] = []

        def cb(session: Session, jid: str, meta: dict[str, Any]) -> bool:
            assert session is self.session and jid == job_id
            seen.append(RunStatus(meta["status"]))
            polled_at.append(self.clock.time())
            return True

        started = self.clock.time()
        code = self.call("monitor_job", job_id, timeout, poll_interval, cb)
        self.last_active = polled_at[-1]  # a timeout sleeps once more after the last poll
        assert polled_at == [started + k * poll_interval for k in range(len(seen))]
        # Statuses only move forward, and a finished one ends the loop.
        assert all(not status.finished for status in seen[:-1]), seen
        ranks = [RANK.get(status, 3) for status in seen]
        assert ranks == sorted(ranks), seen
        if code is MonitorReturnCode.JOB_FINISHED:
            assert seen[-1].finished
            assert self.server.jobs.status(job_id) is seen[-1]
        else:
            assert code is MonitorReturnCode.TIMEOUT
            assert len(seen) == int(timeout // poll_interval) + 1
            assert self.clock.time() - started == len(seen) * poll_interval

    @rule(
        detailed=st.booleans(),
        limit=LIMITS,
        reverse=st.booleans(),
        name_prefix=NAME_PREFIXES,
        id_prefix=HEX_PREFIXES,
    )
    def list_jobs(
        self, detailed: bool, limit: Optional[int], reverse: bool, name_prefix: Optional[str], id_prefix: Optional[str]
    ) -> None:
        self._check_list(detailed, limit, id_prefix, name_prefix, reverse)

    @rule(
        source=job_ids,
        length=st.integers(1, 36),
        upper=st.booleans(),
        detailed=st.booleans(),
        limit=LIMITS,
        reverse=st.booleans(),
        name_prefix=NAME_PREFIXES,
    )
    def list_jobs_by_id_prefix(
        self, source: str, length: int, upper: bool, detailed: bool, limit: Optional[int], reverse: bool,
        name_prefix: Optional[str],
    ) -> None:  # fmt: skip
        prefix = source[:length]
        self._check_list(detailed, limit, prefix.upper() if upper else prefix, name_prefix, reverse)

    @rule(
        bad=st.sampled_from(
            [{"limit": True}, {"limit": False}, {"limit": 1.0}, {"limit": "2"}, {"detailed": 1}, {"reverse": None},
             {"id_prefix": 7}, {"name_prefix": b"a"}, {"id_prefix": "-d"}, {"name_prefix": "-r"}]
        )
    )  # fmt: skip
    def list_jobs_refuses_bad_arguments(self, bad: dict[str, Any]) -> None:
        with pytest.raises(InvalidArgumentError):
            self.session.list_jobs(**bad)  # refused before anything is sent: no idle check needed

    def _check_list(
        self, detailed: bool, limit: Optional[int], id_prefix: Optional[str], name_prefix: Optional[str], reverse: bool
    ) -> None:
        got = self.call(
            "list_jobs", detailed=detailed, limit=limit, id_prefix=id_prefix, name_prefix=name_prefix, reverse=reverse
        )
        want = expected_list_jobs(self.server, detailed, limit, id_prefix, name_prefix, reverse)
        assert got == want
        if not detailed:
            assert all(list(job) == ["job_id", "job_name", "status", "submit_time", "duration"] for job in got)

    # ----------------------------------------------------------------------------------------- invariants

    @invariant()
    def no_job_lost_or_invented(self) -> None:
        assert self.server.jobs.ids() == self.ids
        assert len(self.server.jobs) == len(self.ids)

    @invariant()
    def transitions_are_legal_and_consecutive(self) -> None:
        now = self.clock.time()
        for job_id in self.ids:
            record = self.server.jobs.record(job_id)
            previous, last_when = RunStatus.SUBMITTED, record.meta["submit_time"]
            for when, old, new in record.transitions:
                assert old is previous, record.transitions
                assert new in LEGAL_TRANSITIONS[old], record.transitions
                assert last_when <= when <= now, record.transitions
                previous, last_when = new, when
            assert previous is record.status

    @invariant()
    def finished_meta_never_changes(self) -> None:
        for job_id in self.ids:
            meta = self.server.jobs.meta(job_id)
            if job_id in self.finished:
                assert meta == self.finished[job_id]
            elif meta["status"].startswith("FINISHED"):
                self.finished[job_id] = copy.deepcopy(meta)

    @invariant()
    def scheduler_respects_max_jobs(self) -> None:
        active = self.active_count()
        assert active <= MAX_JOBS
        for job_id in self.ids:
            record = self.server.jobs.record(job_id)
            if record.waiting and record.status is RunStatus.SUBMITTED:
                assert active >= MAX_JOBS, f"job {job_id} waits for a slot while one is free"

    @invariant()
    def server_raised_nothing(self) -> None:
        assert self.server.errors == []


# --------------------------------------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def lifecycle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    """One server for the module (provisioning is too slow per example); each machine resets it."""
    global _SERVER
    jobs_dir = tmp_path_factory.mktemp("lifecycle-jobs")
    FOLDERS.clear()
    FOLDERS.update({name: str(write_job(jobs_dir, name)) for name in FOLDER_NAMES})
    FOLDERS["hello-numpy"] = str(example_job())
    server = FakeFlareServer(
        workspace=tmp_path_factory.mktemp("lifecycle-kits"), clock=VirtualClock(), max_jobs=MAX_JOBS
    )
    with server:
        _SERVER = server
        try:
            yield server
        finally:
            _SERVER = None


def test_job_lifecycle_state_machine(lifecycle_server: FakeFlareServer) -> None:
    run_state_machine_as_test(
        JobLifecycle,
        settings=settings(
            max_examples=examples(12),
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert lifecycle_server.errors == []
