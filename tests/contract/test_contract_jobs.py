"""The real nvflare 2.3.12 FLARE API runs the whole job lifecycle against the fake server.

Every scenario also runs with our client on the same server state, and both must agree.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from flare_api import (
    InvalidJobDefinition,
    JobNotDone,
    JobNotFound,
    MonitorReturnCode,
)
from tests.jobfolders import write_job

ADMIN = "admin@nvidia.com"
FAST = JobScript(queued=Phase.after(0.05), deploying=Phase.after(0.05), running=Phase.after(0.4))


@pytest.fixture(scope="module")
def contract_server(fast_server: FakeFlareServer) -> FakeFlareServer:
    """This module's real/ours sessions use the fast-script server."""
    return fast_server


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    """Real clock, short phases: the real client sleeps in real time; ours talks TLS as it does."""
    with FakeFlareServer(workspace=tmp_path_factory.mktemp("kits"), default_script=FAST, intercept=False) as server:
        yield server
        server.raise_errors()


def _job_copy(tmp_path: Path, name: str = "hello-numpy") -> str:
    """A copy of the example job: the real client writes signature files into the folder it submits."""
    target = tmp_path / name
    shutil.copytree(example_job(), target)
    return str(target)


def test_real_client_submits_and_monitors_to_completion(real, fast_server, tmp_path: Path) -> None:
    job_id = real.submit_job(_job_copy(tmp_path))
    seen: list[str] = []

    def record(session, jid, meta, *args, **kwargs) -> bool:
        assert session is real and jid == job_id and args == ("x",) and kwargs == {"k": 1}
        seen.append(meta["status"])
        return True

    code = real.monitor_job(job_id, 30.0, 0.05, record, "x", k=1)
    assert code == 0  # MonitorReturnCode.JOB_FINISHED
    assert seen[-1] == "FINISHED:COMPLETED"
    assert seen[0] in ("SUBMITTED", "DISPATCHED", "RUNNING")
    assert "RUNNING" in seen
    order = ["SUBMITTED", "DISPATCHED", "RUNNING", "FINISHED:COMPLETED"]
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)
    # the real client signed the folder in place; the server accepted the signed zip
    assert (Path(tmp_path) / "hello-numpy" / ".__nvfl_sig.json").is_file()


def test_real_client_get_meta_clone_download_delete(real, ours, fast_server, tmp_path: Path) -> None:
    job_id = real.submit_job(_job_copy(tmp_path))
    real.monitor_job(job_id, 30.0, 0.05)
    meta = real.get_job_meta(job_id)
    assert meta == ours.get_job_meta(job_id)
    assert meta["status"] == "FINISHED:COMPLETED" and meta["submitter_name"] == ADMIN
    clone_id = real.clone_job(job_id)
    assert real.get_job_meta(clone_id)["cloned_from"] == job_id
    path = real.download_job_result(job_id)
    assert path == os.path.join(real.download_dir, job_id)
    assert (Path(path) / "job" / "hello-numpy" / "meta.json").is_file()
    assert (Path(path) / "workspace" / "log.txt").read_text().count("Round") == 3
    assert (Path(path) / "workspace" / "models" / "server.npy").is_file()
    ours_path = ours.download_job_result(job_id)
    assert sorted(p.relative_to(ours_path).as_posix() for p in Path(ours_path).rglob("*")) == sorted(
        p.relative_to(path).as_posix() for p in Path(path).rglob("*")
    )
    real.monitor_job(clone_id, 30.0, 0.05)
    real.delete_job(clone_id)
    with pytest.raises(Exception) as caught:
        real.get_job_meta(clone_id)
    assert type(caught.value).__name__ == "JobNotFound"
    assert str(caught.value) == f"no such job: {clone_id}"


def test_list_jobs_every_flag_combination_agrees(real, ours, fast_server, tmp_path: Path) -> None:
    ids = [real.submit_job(_job_copy(tmp_path / str(i))) for i in range(3)]
    for job_id in ids:
        real.monitor_job(job_id, 30.0, 0.05)
    prefix = ids[1][:6]
    combos = itertools.product([False, True], [None, 0, 2], [None, prefix], [None, "hello", "nope"], [False, True])
    checked = 0
    for detailed, limit, id_prefix, name_prefix, reverse in combos:
        kwargs = dict(detailed=detailed, limit=limit, id_prefix=id_prefix, name_prefix=name_prefix, reverse=reverse)
        theirs = real.list_jobs(**kwargs)
        mine = ours.list_jobs(**kwargs)
        assert theirs == mine, kwargs
        if id_prefix and name_prefix != "nope":
            assert [j["job_id"] for j in theirs] == [ids[1]]
        if name_prefix == "nope":
            assert theirs == []
        checked += 1
    assert checked == 2 * 3 * 2 * 3 * 2


def test_real_client_aborts_a_running_job(real, fast_server, tmp_path: Path) -> None:
    fast_server.jobs.script_next(JobScript(queued=0.05, deploying=0.05, running=Phase.never()))
    job_id = real.submit_job(_job_copy(tmp_path))
    statuses: list[str] = []
    real.monitor_job(job_id, 30.0, 0.05, lambda s, j, m: statuses.append(m["status"]) or m["status"] != "RUNNING")
    assert statuses[-1] == "RUNNING"
    with pytest.raises(Exception) as caught:
        real.delete_job(job_id)
    assert type(caught.value).__name__ == "JobNotDone"
    assert str(caught.value) == f"job {job_id} is still running"
    real.abort_job(job_id)
    assert real.get_job_meta(job_id)["status"] == "FINISHED:ABORTED"
    real.delete_job(job_id)


def test_real_client_errors_match_ours(real, ours, nvflare_api, fast_server, tmp_path: Path) -> None:
    with pytest.raises(nvflare_api.JobNotFound, match="no such job: no-such-job"):
        real.get_job_meta("no-such-job")
    with pytest.raises(JobNotFound, match="no such job: no-such-job"):
        ours.get_job_meta("no-such-job")
    bad = write_job(tmp_path, "empty_deploy", deploy_map={})
    message = "invalid job definition: ValueError: deploy_map is empty for job empty_deploy"
    with pytest.raises(nvflare_api.InvalidJobDefinition) as theirs:
        real.submit_job(str(bad))
    assert str(theirs.value) == message
    with pytest.raises(InvalidJobDefinition) as mine:
        ours.submit_job(str(bad))
    assert str(mine.value) == message
    fast_server.jobs.script_next(JobScript(queued=0.05, deploying=0.05, running=Phase.never()))
    job_id = ours.submit_job(str(example_job()))
    fast_server.jobs.advance_to(job_id, "RUNNING")
    with pytest.raises(nvflare_api.JobNotDone):
        real.delete_job(job_id)
    with pytest.raises(JobNotDone, match=f"job {job_id} is still running"):
        ours.delete_job(job_id)
    ours.abort_job(job_id)
    assert ours.monitor_job(job_id, 5.0, 0.01) is MonitorReturnCode.JOB_FINISHED


def test_real_client_sees_the_same_check_status_while_a_job_runs(real, ours, fast_server, tmp_path) -> None:
    fast_server.jobs.script_next(JobScript(queued=0.05, deploying=0.05, running=Phase.never()))
    job_id = ours.submit_job(str(example_job()))
    fast_server.jobs.advance_to(job_id, "RUNNING")
    info = real.get_system_info()
    assert info.server_info.status == "started"
    assert [(j.job_id, j.app_name) for j in info.job_info] == [(job_id, "app")]
    raw = real.api.do_command("check_status client")
    assert raw["data"][0]["rows"][1:] == [["site-1", "app", job_id, "started"], ["site-2", "app", job_id, "started"]]
    real.abort_job(job_id)


def test_real_client_sees_starting_then_started_and_abort_task_sent(real, ours, fast_server, tmp_path) -> None:
    """check_status client says ``starting`` while the job is DISPATCHED, ``started`` once it runs; abort_task on
    a finished job answers "sent" on every site, as real 2.3.12 sites do."""
    fast_server.jobs.script_next(JobScript(queued=0.05, deploying=Phase.never(), running=Phase.never()))
    job_id = ours.submit_job(str(example_job()))
    fast_server.jobs.advance_to(job_id, "DISPATCHED")
    rows = real.api.do_command("check_status client")["data"][0]["rows"][1:]
    assert rows == [["site-1", "app", job_id, "starting"], ["site-2", "app", job_id, "starting"]]
    fast_server.jobs.advance_to(job_id, "RUNNING")
    rows = real.api.do_command("check_status client")["data"][0]["rows"][1:]
    assert rows == [["site-1", "app", job_id, "started"], ["site-2", "app", job_id, "started"]]
    real.abort_job(job_id)
    assert ours.get_job_meta(job_id)["status"] == "FINISHED:ABORTED"
    sent = "Abort signal has been sent to the current task."
    reply = real.api.do_command(f"abort_task {job_id}")
    assert reply["data"][0]["rows"] == [["CLIENT", "RESPONSE"], ["site-1", sent], ["site-2", sent]]
