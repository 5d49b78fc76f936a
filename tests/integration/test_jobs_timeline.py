"""Scripted job timelines on the virtual clock: phases, outcomes, the scheduler, stepping."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase, RunStatus
from fakeserver.example_jobs import example_job
from fakeserver.model.jobs import JobStoreError
from flare_api import MonitorReturnCode, Session, VirtualClock
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

HELLO = str(example_job())


def statuses_over_time(session: Session, clock: VirtualClock, job_id: str, step: float, until: float) -> list[str]:
    seen = []
    t = 0.0
    while t <= until:
        seen.append(session.get_job_status(job_id))
        clock.advance(step)
        t += step
    return seen


def test_default_timeline(flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock) -> None:
    job_id = flare_session.submit_job(HELLO)
    assert statuses_over_time(flare_session, flare_clock, job_id, 1.0, 33.0) == (
        ["SUBMITTED", "DISPATCHED"] + ["RUNNING"] * 30 + ["FINISHED:COMPLETED"] * 2
    )
    meta = flare_session.get_job_meta(job_id)
    start = flare.start_time
    assert meta["job_deploy_detail"] == ["server: OK", "site-1: OK", "site-2: OK"]
    assert meta["schedule_count"] == 1
    assert meta["last_schedule_time"] == start + 1.0
    assert meta["schedule_history"] == [f"{_hms(start + 1.0)}: scheduled"]
    assert meta["duration"] == "0:00:30"
    assert meta["start_time"].endswith(".000000")


def _hms(epoch: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def test_meta_keys_types_and_order(flare_session: Session, flare: FakeFlareServer) -> None:
    job_id = flare_session.submit_job(HELLO)
    meta = flare_session.get_job_meta(job_id)
    assert list(meta) == [
        "name", "resource_spec", "deploy_map", "min_clients", "job_folder_name",
        "submitter_name", "submitter_org", "submitter_role",
        "job_id", "submit_time", "submit_time_iso", "start_time", "duration", "status",
    ]  # fmt: skip
    assert isinstance(meta["submit_time"], float)
    assert meta["start_time"] == "" and meta["duration"] == "N/A" and meta["status"] == "SUBMITTED"
    assert len(meta["job_id"]) == 36 and meta["job_id"] == meta["job_id"].lower()
    assert (meta["submitter_name"], meta["submitter_org"], meta["submitter_role"]) == (
        "admin@nvidia.com",
        "nvidia",
        "project_admin",
    )
    flare.jobs.run_to_completion(job_id)
    done = flare_session.get_job_meta(job_id)
    assert list(done)[-4:] == ["job_deploy_detail", "schedule_count", "last_schedule_time", "schedule_history"]


@pytest.mark.parametrize(
    ("outcome", "has_duration", "ran"),
    [
        ("COMPLETED", True, True),
        ("EXECUTION_EXCEPTION", True, True),
        ("ABNORMAL", False, True),
        ("ABORTED", True, True),
        ("ABANDONED", False, True),
        ("FAILED_TO_RUN", False, False),
    ],
)
def test_outcomes(
    flare: FakeFlareServer,
    flare_session: Session,
    flare_clock: VirtualClock,
    outcome: str,
    has_duration: bool,
    ran: bool,
) -> None:
    flare.jobs.script_next(JobScript.ends(outcome, after=60))
    job_id = flare_session.submit_job(HELLO)
    flare_clock.advance(3600)
    meta = flare_session.get_job_meta(job_id)
    assert meta["status"] == RunStatus.__members__[
        {"COMPLETED": "FINISHED_COMPLETED", "EXECUTION_EXCEPTION": "FINISHED_EXECUTION_EXCEPTION",
         "ABNORMAL": "FINISHED_ABNORMAL", "ABORTED": "FINISHED_ABORTED", "ABANDONED": "ABANDONED",
         "FAILED_TO_RUN": "FAILED_TO_RUN"}[outcome]
    ].value  # fmt: skip
    assert (meta["duration"] == "0:01:00") is has_duration
    assert (meta["start_time"] != "") is ran
    if outcome == "FAILED_TO_RUN":
        assert meta["job_deploy_detail"] == ["server: scripted failure"]
        assert "schedule_count" not in meta  # FLARE stores only the deploy detail then
    record = flare.jobs.record(job_id)
    assert bool(record.workspace) is ran


def test_hanging_job_runs_until_aborted(flare: FakeFlareServer, flare_session_factory, flare_clock) -> None:
    flare.jobs.script_next(JobScript.hangs())
    job_id = flare_session_factory().submit_job(HELLO)
    flare_clock.advance(10 * 24 * 3600)
    flare_session = flare_session_factory()  # the first session went idle for longer than an hour
    assert flare_session.get_job_status(job_id) == "RUNNING"
    assert flare_session.get_system_info().job_info[0].job_id == job_id
    flare_session.abort_job(job_id)
    meta = flare_session.get_job_meta(job_id)
    assert meta["status"] == "FINISHED:ABORTED"
    assert meta["duration"] == "9 days, 23:59:58"  # it started 2 s after submission


def test_script_by_name_and_next(flare: FakeFlareServer, flare_session: Session, tmp_path) -> None:
    flare.jobs.script(JobScript.hangs(), name="slow")
    flare.jobs.script_next(JobScript.ends("ABNORMAL", after=1))
    slow = write_job(tmp_path, "slow")
    first = flare_session.submit_job(str(slow))  # the "next" script wins over the name
    second = flare_session.submit_job(str(slow))
    third = flare_session.submit_job(HELLO)
    assert flare.jobs.record(first).script.outcome is RunStatus.FINISHED_ABNORMAL
    assert flare.jobs.record(second).script.running.forever
    # the default script, fitted to the job's own config: hello-numpy's ScatterAndGather runs 3 rounds
    assert flare.jobs.record(third).script == flare.jobs.default_script.for_job(3)


def test_polls_script_sets_the_number_of_polls(flare: FakeFlareServer, flare_session: Session) -> None:
    flare.jobs.script_next(JobScript.by_polls(submitted=2, dispatched=1, running=3))
    job_id = flare_session.submit_job(HELLO)
    seen: list[str] = []
    code = flare_session.monitor_job(job_id, poll_interval=5.0, cb=lambda s, j, m: seen.append(m["status"]) or True)
    assert code is MonitorReturnCode.JOB_FINISHED
    assert seen == ["SUBMITTED", "SUBMITTED", "DISPATCHED", "RUNNING", "RUNNING", "RUNNING", "FINISHED:COMPLETED"]


def test_step_and_run_to_completion_without_a_clock(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = flare_session.submit_job(HELLO)
    assert flare.jobs.step(job_id) is RunStatus.DISPATCHED
    assert flare.jobs.step(job_id) is RunStatus.RUNNING
    assert flare.jobs.run_to_completion(job_id) == [RunStatus.FINISHED_COMPLETED]
    with pytest.raises(JobStoreError, match="already FINISHED:COMPLETED"):
        flare.jobs.step(job_id)
    other = flare_session.submit_job(HELLO)
    assert flare.jobs.advance_to(other, "RUNNING") is RunStatus.RUNNING
    flare.jobs.script_next(JobScript.hangs())
    hung = flare_session.submit_job(HELLO)
    with pytest.raises(JobStoreError, match="scripted to hang"):
        flare.jobs.run_to_completion(hung)
    with pytest.raises(JobStoreError, match="no job 'nope'"):
        flare.jobs.step("nope")


def test_min_clients_backoff_then_cannot_schedule(
    flare: FakeFlareServer, flare_session_factory, flare_clock: VirtualClock, tmp_path
) -> None:
    flare_session = flare_session_factory()
    folder = write_job(tmp_path, "needs3", min_clients=3, deploy_map={"app": ["server", "site-1", "site-2"]})
    with pytest.raises(Exception, match="min 3 clients required"):
        flare_session.submit_job(str(folder))  # the validator refuses it outright
    folder = write_job(tmp_path, "needs2", min_clients=2)
    flare.sites.disconnect("site-2")
    job_id = flare_session.submit_job(str(folder))
    flare_clock.advance(10_000)
    meta = flare_session_factory().get_job_meta(job_id)
    start = flare.start_time
    # attempts at 1 s, then after 10, 20, 40, 80, 160, 320, 600, 600, 600 s; the 11th is "exceeded"
    times = [1.0]
    for interval in (10, 20, 40, 80, 160, 320, 600, 600, 600):
        times.append(times[-1] + interval)
    history = [f"{_hms(start + t)}: connected sites (1) < min_sites (2)" for t in times]
    history.append(f"{_hms(start + times[-1] + 1.0)}: exceeded max schedule count 10")
    assert meta["schedule_history"] == history
    assert meta["schedule_count"] == 11
    assert meta["status"] == "FINISHED:CAN_NOT_SCHEDULE"
    assert meta["duration"] == "N/A" and meta["start_time"] == ""


def test_job_waits_for_sites_then_schedules(flare: FakeFlareServer, flare_session_factory, flare_clock) -> None:
    flare.sites.disconnect()
    job_id = flare_session_factory().submit_job(HELLO)
    flare_clock.advance(5000)
    flare_session = flare_session_factory()
    meta = flare_session.get_job_meta(job_id)
    assert meta["status"] == "SUBMITTED" and "schedule_history" not in meta  # 2.3.12: no attempts without sites
    flare.sites.connect("site-1")
    flare_clock.advance(1)
    meta = flare_session.get_job_meta(job_id)
    assert meta["schedule_history"][-1].endswith("connected sites (1) < min_sites (2)")
    flare.sites.connect("site-2")
    flare_clock.advance(10)
    assert flare_session.get_job_status(job_id) in ("DISPATCHED", "RUNNING")


def test_mandatory_client_missing(flare: FakeFlareServer, flare_session: Session, flare_clock, tmp_path) -> None:
    folder = write_job(tmp_path, "mand", min_clients=1, mandatory_clients=["site-2"])
    flare.sites.disconnect("site-2")
    job_id = flare_session.submit_job(str(folder))
    flare_clock.advance(1)
    assert flare_session.get_job_meta(job_id)["schedule_history"][0].endswith("missing required site site-2")


def test_require_sites_script(flare: FakeFlareServer, flare_session: Session, flare_clock) -> None:
    flare.jobs.script_next(JobScript(require_sites=3))
    job_id = flare_session.submit_job(HELLO)
    flare_clock.advance(1)
    assert flare_session.get_job_meta(job_id)["schedule_history"][0].endswith("connected sites (2) < min_sites (3)")


def test_cannot_schedule_script(flare: FakeFlareServer, flare_session_factory, flare_clock) -> None:
    flare_session = flare_session_factory()
    flare.jobs.script_next(JobScript(outcome="CAN_NOT_SCHEDULE"))
    job_id = flare_session.submit_job(HELLO)
    flare_clock.advance(1)
    assert flare_session.get_job_meta(job_id)["schedule_history"] == [
        f"{_hms(flare.start_time + 1)}: not enough sites have enough resources (ok sites 0 < min sites 2"
    ]
    flare_clock.advance(10_000)
    assert flare_session_factory().get_job_status(job_id) == "FINISHED:CAN_NOT_SCHEDULE"


def test_max_jobs_slots(tmp_path) -> None:
    clock = VirtualClock()
    with FakeFlareServer(workspace=tmp_path, clock=clock, max_jobs=2, default_script=JobScript.hangs()) as server:
        from flare_api import new_secure_session

        with new_secure_session("admin@nvidia.com", server.startup_kit(), clock=clock) as session:
            ids = [session.submit_job(HELLO) for _ in range(3)]
            clock.advance(100)
            assert [session.get_job_status(i) for i in ids] == ["RUNNING", "RUNNING", "SUBMITTED"]
            assert "schedule_history" not in session.get_job_meta(ids[2])  # skipped, not attempted
            session.abort_job(ids[0])
            clock.advance(2)
            assert session.get_job_status(ids[2]) == "RUNNING"
            assert session.get_job_meta(ids[2])["last_schedule_time"] == clock.time() - 2
        server.raise_errors()


def test_orphaned_job_cannot_be_aborted(flare: FakeFlareServer, flare_session: Session) -> None:
    flare.jobs.script_next(JobScript.hangs())
    job_id = flare_session.submit_job(HELLO)
    flare.jobs.advance_to(job_id, "RUNNING")
    flare.jobs.orphan(job_id)
    from flare_api import InternalError

    with pytest.raises(InternalError, match=f"server internal error \\(internal_error\\): Job {job_id} is not running"):
        flare_session.abort_job(job_id)
    assert flare.jobs.status(job_id) is RunStatus.RUNNING
    assert flare_session.get_system_info().server_info.status == "stopped"  # the runner does not know it


def test_script_validation() -> None:
    with pytest.raises(ValueError, match="unknown job outcome 'DONE'"):
        JobScript(outcome="DONE")
    with pytest.raises(ValueError, match="either seconds or polls"):
        Phase(seconds=1, polls=1)
    with pytest.raises(ValueError, match="cannot last forever"):
        JobScript(queued=Phase.never())
    with pytest.raises(ValueError, match="rounds must be >= 0"):
        JobScript(rounds=-1)
    with pytest.raises(ValueError, match="loadable must be a list"):
        JobScript(loadable="my_pkg.")  # type: ignore[arg-type]
    assert JobScript(outcome="finished:aborted").outcome is RunStatus.FINISHED_ABORTED


def test_reset_clears_jobs_and_scripts(flare: FakeFlareServer, flare_session: Session) -> None:
    flare.jobs.script(JobScript.hangs())
    flare_session.submit_job(HELLO)
    flare.reset()
    assert len(flare.jobs) == 0
    assert flare.jobs.default_script == JobScript()


def test_job_ids_and_tokens_come_from_the_seed(tmp_path) -> None:
    def ids(seed: int, workspace) -> tuple[list[str], str]:
        server = FakeFlareServer(workspace=workspace, clock=VirtualClock(), seed=seed)
        with server, server.session(in_process=True) as session:
            jobs = [session.submit_job(HELLO) for _ in range(3)]
            return jobs, str(session.token)

    first = ids(7, tmp_path / "a")
    assert first == ids(7, tmp_path / "b")
    assert first[0] != ids(8, tmp_path / "c")[0]
    assert all(len(job) == 36 and job[14] == "4" for job in first[0])  # UUID version 4


def test_advance_steps_or_runs_to_a_status(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = flare_session.submit_job(HELLO)
    assert flare.jobs.advance(job_id) is RunStatus.DISPATCHED
    assert flare.jobs.advance(job_id, to="FINISHED:COMPLETED") is RunStatus.FINISHED_COMPLETED
