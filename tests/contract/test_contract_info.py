"""The real nvflare 2.3.12 client runs the info commands and ``check_status client`` against the fake server.

For each command line, the real ``api.do_command`` result's ``data`` and ``meta`` must equal what our
``Session.do_command`` returns for the same line, on the same server state.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from fakeserver.model.policy import DEFAULT_POLICY, Policy
from flare_api import Session, new_secure_session

ADMIN = "admin@nvidia.com"
MEMBER = "member@nvidia.com"
#: Rounds an hour apart: ``current_round`` stays 0 while both clients ask.
HANGS = JobScript(queued=0.05, deploying=0.05, running=Phase.never(), round_seconds=3600.0)


@pytest.fixture
def job_id(real_clock_server: FakeFlareServer, ours: Session) -> Iterator[str]:
    """A job running on both sites until the test ends; every site answering again afterwards."""
    real_clock_server.jobs.script_next(HANGS)
    job = ours.submit_job(str(example_job()))
    real_clock_server.jobs.advance_to(job, "RUNNING")
    yield job
    real_clock_server.sites.connect()
    ours.abort_job(job)


def same(real, ours: Session, line: str) -> dict[str, Any]:
    """Run ``line`` with both clients; their ``data`` and ``meta`` must be equal. Returns ours."""
    theirs = real.api.do_command(line)
    mine = ours.do_command(line, raise_errors=False)
    assert theirs["data"] == mine["data"], line
    assert theirs["meta"] == mine["meta"], line
    assert str(theirs["status"].value) == mine["status"], line
    return mine


@pytest.mark.parametrize("command", ["show_stats", "show_errors", "reset_errors"])
@pytest.mark.parametrize("target", ["server", "client"])
def test_info_commands_read_the_same(real, ours, job_id: str, command: str, target: str) -> None:
    result = same(real, ours, f"{command} {job_id} {target}")
    assert result["meta"] == {}
    assert result["data"]


def test_show_errors_with_injected_errors_and_after_reset(real, ours, real_clock_server, job_id: str) -> None:
    value = real_clock_server.jobs.inject_error(job_id, "lost a site", group="ScatterAndGather")
    result = same(real, ours, f"show_errors {job_id} server")
    assert result["data"] == [{"type": "dict", "data": {"ScatterAndGather": {"error": value}}}]
    same(real, ours, f"reset_errors {job_id} server")
    assert same(real, ours, f"show_errors {job_id} server")["data"] == [{"type": "string", "data": "No Error"}]


def test_silent_site_reads_the_same(real, ours, real_clock_server, job_id: str) -> None:
    real_clock_server.sites.silence("site-2")
    assert same(real, ours, f"show_stats {job_id} client")["data"][3] == {
        "type": "string",
        "data": "Bad responses from clients",
    }
    rows = same(real, ours, "check_status client")["data"][0]["rows"]
    assert rows[1:] == [["site-1", "app", job_id, "started"], ["site-2", "?", "?", "No Reply"]]


def test_site_denials_read_the_same(
    nvflare_api, real_clock_server: FakeFlareServer, job_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = copy.deepcopy(DEFAULT_POLICY)
    document["permissions"]["member"] = {"view": "o:site"}
    monkeypatch.setattr(real_clock_server, "policy", Policy(document))
    real = nvflare_api.new_secure_session(MEMBER, str(real_clock_server.startup_kit(MEMBER)), timeout=15.0)
    try:
        with new_secure_session(MEMBER, real_clock_server.startup_kit(MEMBER), timeout=15.0) as ours:
            rows = same(real, ours, "check_status client")["data"][0]["rows"]
            assert rows[2] == ["site-2", "?", "?", f"user '{MEMBER}' is not authorized for 'check_status'"]
            data = same(real, ours, f"show_stats {job_id} client")["data"]
            assert data[3] == {"type": "string", "data": "Bad responses from clients"}
    finally:
        real.close()


@pytest.mark.parametrize(
    "line",
    [
        "show_stats",
        "show_stats {job}",
        "show_errors {job} client site-1",
        "reset_errors no-such-job server",
        "show_stats {job} nowhere",
    ],
)
def test_refusals_read_the_same(real, ours, job_id: str, line: str) -> None:
    result = same(real, ours, line.format(job=job_id))
    assert [item["type"] for item in result["data"]] == ["error"]


def test_a_job_that_is_not_running_reads_the_same(real, ours, real_clock_server) -> None:
    real_clock_server.jobs.script_next(HANGS.with_(queued=Phase.after(3600.0)))  # stays SUBMITTED
    job = ours.submit_job(str(example_job()))
    try:
        result = same(real, ours, f"show_stats {job} server")
        assert result["data"] == [{"type": "error", "data": f"Job_id: {job} is not running."}]
    finally:
        ours.abort_job(job)


@pytest.mark.parametrize("command", ["show_stats", "show_errors", "reset_errors"])
def test_target_all_gets_no_reply_in_both(real, ours, job_id: str, command: str) -> None:
    line = f"{command} {job_id} all"
    theirs = real.api.do_command(line)
    assert theirs == {"status": theirs["status"], "details": "Server did not respond"}
    assert ours.do_command(line, raise_errors=False) == {
        "status": str(theirs["status"].value),
        "details": "Server did not respond",
    }


def test_our_methods_agree_with_the_real_wire(real, ours, job_id: str) -> None:
    stats = ours.show_stats(job_id, "all")
    assert [stats["server"]] == [i["data"] for i in real.api.do_command(f"show_stats {job_id} server")["data"]]
    client = real.api.do_command(f"show_stats {job_id} client")["data"]
    assert {"site-1": client[1]["data"], "site-2": client[3]["data"]} == {k: stats[k] for k in ("site-1", "site-2")}
