"""Behaviour any FLARE 2.3 deployment shows, written only against ``flare_session``.

These run against the fake server by default and, unchanged, against a real deployment with
``pytest tests/behaviour --flare-kit /path/to/admin/kit`` (the user needs submit/manage rights, e.g. a
project admin or a lead). On the fake the clock is virtual, so the waits below cost nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fakeserver.example_jobs import example_job
from flare_api import InvalidJobDefinition, JobNotFound, MonitorReturnCode, Session
from tests.jobfolders import write_job

#: Generous for a real federation running the tiny example job; free on the fake's virtual clock.
JOB_TIMEOUT = 1800.0


def _job(tmp_path: Path) -> str:
    target = tmp_path / "hello-numpy"
    shutil.copytree(example_job(), target)
    return str(target)


def test_system_info_lists_the_server_status(flare_session: Session) -> None:
    info = flare_session.get_system_info()
    assert info.server_info.status in ("started", "stopped")
    assert isinstance(info.server_info.start_time, float)
    assert all(client.name for client in info.client_info)


def test_submit_monitor_download_delete(flare_session: Session, tmp_path: Path) -> None:
    job_id = flare_session.submit_job(_job(tmp_path))
    statuses: list[str] = []
    code = flare_session.monitor_job(job_id, JOB_TIMEOUT, 1.0, lambda s, j, m: statuses.append(m["status"]) or True)
    assert code is MonitorReturnCode.JOB_FINISHED
    assert statuses[-1] == "FINISHED:COMPLETED"  # the bundled job runs on a real FLARE 2.3.12 too
    meta = flare_session.get_job_meta(job_id)
    assert meta["job_id"] == job_id and meta["submitter_name"] == flare_session.username
    path = flare_session.download_job_result(job_id)
    assert os.path.isdir(os.path.join(path, "job"))
    flare_session.delete_job(job_id)
    with pytest.raises(JobNotFound):
        flare_session.get_job_meta(job_id)


def test_list_jobs_filters(flare_session: Session, tmp_path: Path) -> None:
    job_id = flare_session.submit_job(_job(tmp_path))
    try:
        listed = flare_session.list_jobs(id_prefix=job_id[:8])
        assert [job["job_id"] for job in listed] == [job_id]
        assert listed[0]["job_name"] == "hello-numpy"
        detailed = flare_session.list_jobs(detailed=True, id_prefix=job_id)
        assert detailed[0]["deploy_map"] == {"app": ["@ALL"]}
        assert flare_session.list_jobs(name_prefix="no-such-job-name-prefix") == []
    finally:
        flare_session.abort_job(job_id)


def test_clone_and_abort_before_it_runs(flare_session: Session, tmp_path: Path) -> None:
    job_id = flare_session.submit_job(_job(tmp_path))
    clone_id = flare_session.clone_job(job_id)
    assert clone_id != job_id
    assert flare_session.get_job_meta(clone_id)["cloned_from"] == job_id
    for jid in (job_id, clone_id):
        flare_session.abort_job(jid)
        assert flare_session.monitor_job(jid, JOB_TIMEOUT, 1.0) is MonitorReturnCode.JOB_FINISHED


def test_unknown_job(flare_session: Session) -> None:
    with pytest.raises(JobNotFound, match="no such job: 00000000-no-such-job"):
        flare_session.get_job_meta("00000000-no-such-job")


def test_invalid_job_definition(flare_session: Session, tmp_path: Path) -> None:
    folder = write_job(tmp_path, "no_deploy_map", deploy_map={})
    with pytest.raises(InvalidJobDefinition, match="deploy_map is empty for job no_deploy_map"):
        flare_session.submit_job(str(folder))


def test_wait_for_job_returns_the_final_meta(flare_session: Session, tmp_path: Path) -> None:
    job_id = flare_session.submit_job(_job(tmp_path))
    meta = flare_session.wait_for_job(job_id, JOB_TIMEOUT, 1.0)
    assert meta["status"] == "FINISHED:COMPLETED" and meta["job_id"] == job_id
