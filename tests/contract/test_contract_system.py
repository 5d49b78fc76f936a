"""The real nvflare 2.3.12 client runs the system commands against the fake server and reads what we read.

For each command line the real client's ``api.do_command(line)`` must give the same ``data``, ``meta`` and
client-side status as our ``Session.do_command(line, raise_errors=False)``; the client-only commands
(``list_sp``, ``get_active_sp``, ``promote_sp``, ``shutdown_system``) must agree with our methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from flare_api import JobNotDone, Session, new_secure_session
from flare_api.errors import OverseerError

ADMIN = "admin@nvidia.com"
LEAD = "lead@nvidia.com"


@pytest.fixture
def running(real_clock_server: FakeFlareServer, ours: Session) -> Iterator[str]:
    real_clock_server.jobs.script_next(JobScript.hangs())
    job_id = ours.submit_job(str(example_job()))
    real_clock_server.jobs.advance_to(job_id, "RUNNING")
    yield job_id
    ours.abort_job(job_id)


def assert_same(real: Any, ours: Session, line: str) -> dict[str, Any]:
    """The real client's result equals ours, sent just before or just after (a heartbeat may tick between)."""
    before = ours.do_command(line, raise_errors=False)
    theirs = real.api.do_command(line)
    after = ours.do_command(line, raise_errors=False)
    assert (theirs["data"], theirs["meta"], theirs["status"]) in (
        (before["data"], before["meta"], before["status"]),
        (after["data"], after["meta"], after["status"]),
    ), line
    return theirs


@pytest.mark.parametrize(
    "line",
    [
        "check_status server",
        "check_status client",
        "check_status client site-2",
        "sys_info server",
        "sys_info client",
        "sys_info all",
        "report_resources server",
        "report_resources client site-1",
        "show_scopes all",
        "cells",
        "conns server",
        "conns site-1",
        "conns nope",
        "conns",
        "peers server",
        "list_pools server",
        "dead site-1 job",
        "sys_info bogus",
        "remove_client site-9",
    ],
)
def test_real_client_reads_what_we_read(real: Any, ours: Session, line: str) -> None:
    assert_same(real, ours, line)


def test_set_timeout(real: Any, ours: Session, real_clock_server: FakeFlareServer) -> None:
    try:
        theirs = assert_same(real, ours, "set_timeout 5")
        assert theirs["data"][0] == {"type": "string", "data": "admin command timeout has been set to: 5.0"}
        assert real_clock_server.admin_timeout == 5.0
        assert_same(real, ours, "set_timeout")
    finally:
        ours.set_timeout(10.0)


def test_refusals_while_a_job_runs(real: Any, ours: Session, running: str) -> None:
    for line in (
        "restart server",
        "restart client",
        "restart all",
        "shutdown server",
        "shutdown client",
        "shutdown all",
    ):
        theirs = assert_same(real, ours, line)
        assert theirs["meta"]["status"] == "error" and "There are still jobs running" in theirs["meta"]["info"]
    check = real.api.do_command("check_status client")
    assert check["data"][0]["rows"][1][2] == running


def test_shutdown_server_refused_with_active_clients(real: Any, ours: Session) -> None:
    theirs = assert_same(real, ours, "shutdown server")
    text = "There are still active clients. Shutdown all clients first."
    assert theirs["data"] == [{"type": "error", "data": text}]
    assert theirs["meta"] == {"status": "error", "info": text}


def test_authorization_refusals_agree(nvflare_api: Any, real_clock_server: FakeFlareServer) -> None:
    kit = str(real_clock_server.startup_kit(LEAD))
    real = nvflare_api.new_secure_session(LEAD, kit, timeout=15.0)
    try:
        with new_secure_session(LEAD, kit, timeout=15.0) as ours:
            for line in ("dead site-1 job", "sys_info client", "report_resources client", "restart bogus"):
                assert_same(real, ours, line)
    finally:
        real.close()


def test_get_cell_conn_info(real: Any, ours: Session) -> None:
    for fqcn in ("server", "site-2", "nope"):
        assert real.get_cell_conn_info(fqcn) == ours.get_cell_conn_info(fqcn)


def test_client_side_service_provider_commands(real: Any, ours: Session) -> None:
    listed = real.api.do_command("list_sp")
    assert listed["data"] == ours.list_sp()
    active = real.api.do_command("get_active_sp")
    sp = ours.get_active_sp()
    fields = ", ".join(f"{key}={value!r}" for key, value in sp.items())
    assert active["details"] == f"SP({fields})"
    promoted = real.api.do_command("promote_sp example.com:8002:8003")
    with pytest.raises(OverseerError) as caught:
        ours.promote_sp("example.com:8002:8003")
    assert str(caught.value).endswith(promoted["details"])
    assert str(promoted["status"]).endswith("ERROR_RUNTIME")


def test_shutdown_system_is_refused_by_the_dummy_agent(real: Any, ours: Session, capsys: Any) -> None:
    theirs = real.api.do_command("shutdown_system")
    assert theirs["details"] == "Error: this functionality is not supported by the dummy agent"
    with pytest.raises(OverseerError, match=r"^this functionality is not supported by the dummy agent$"):
        ours.shutdown_system()
    capsys.readouterr()  # FLARE prints "Shutting down the system..."


def test_shutdown_system_refused_while_a_job_runs(real: Any, ours: Session, running: str) -> None:
    theirs = real.api.do_command("shutdown_system")
    assert theirs["details"].startswith("Error: There are still jobs running.")
    with pytest.raises(JobNotDone):
        ours.shutdown_system()
