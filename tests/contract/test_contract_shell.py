"""The real nvflare 2.3.12 client runs the shell commands against the fake server and reads what our tests assert.

For every line, the real ``api.do_command`` result (``data``, ``meta``, ``status``) equals our client's
``do_command`` dict; a few replies are also checked exactly, and the real ``Session._do_command`` raises the
same kind of error for a denial as our shell methods do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from fakeserver import FakeFlareServer
from fakeserver.model.workspaces import service_session_id
from fakeserver.protocol import messages as msg
from flare_api import AuthorizationError, Session, new_secure_session

USERS = ["admin@nvidia.com", "member@nvidia.com", "lead@other.org"]
TARGETS = ("server", "site-1", "site-2")
NOTES = "alpha one\nbeta two\nsay hello world\n"
LINES = [
    "pwd server",
    "pwd site-1",
    "ls server",
    "ls site-1 -a startup",
    "ls site-2 -R",
    "cat server notes.txt",
    "cat site-2 -n notes.txt",
    "tail server -n 2 notes.txt",
    "tail site-1 -c 5 notes.txt",
    "head site-2 -n 1 notes.txt",
    "grep server -n beta notes.txt",
    'grep site-1 -i "HELLO world" notes.txt',
    "sys.grep site-2 -b say notes.txt",
    "cat server missing.txt",
    "ls",
    "pwd server extra",
    "cat server x.bin",
    "cat server ../notes.txt",
    "tail server -z notes.txt",
    "ls site-9",
    'ls server ""',
]


@pytest.fixture(scope="module")
def federation(real_clock_server: FakeFlareServer) -> FakeFlareServer:
    for target in TARGETS:
        (real_clock_server.sites.workspace(target) / "notes.txt").write_text(f"{target}\n{NOTES}")
    return real_clock_server


@pytest.fixture(scope="module")
def sessions(nvflare_api, federation: FakeFlareServer) -> Iterator[dict[str, tuple[Any, Session]]]:
    """A real and one of our sessions per user."""
    opened: dict[str, tuple[Any, Session]] = {}
    try:
        for user in USERS:
            kit = str(federation.startup_kit(user))
            real = nvflare_api.new_secure_session(user, kit, timeout=15.0)
            opened[user] = (real, new_secure_session(user, kit, timeout=15.0))
        yield opened
    finally:
        for real, ours in opened.values():
            real.close()
            ours.close()


def _real(result: dict[str, Any]) -> tuple[Any, Any, str]:
    status = result["status"]
    return result["data"], result["meta"], getattr(status, "value", status)


def _ours(result: dict[str, Any]) -> tuple[Any, Any, str]:
    return result["data"], result["meta"], result["status"]


@pytest.mark.parametrize("user", USERS)
def test_real_client_reads_every_reply_as_ours_does(sessions, user: str) -> None:
    real, ours = sessions[user]
    for line in LINES:
        assert _real(real.api.do_command(line)) == _ours(ours.do_command(line, raise_errors=False)), line


def test_exact_replies_for_an_admin(sessions, federation: FakeFlareServer) -> None:
    real, _ = sessions["admin@nvidia.com"]
    server_folder = str(federation.sites.workspace("server"))
    assert _real(real.api.do_command("pwd server")) == ([{"type": "string", "data": server_folder}], {}, "SUCCESS")
    assert _real(real.api.do_command("head site-2 -n 2 notes.txt")) == (
        [{"type": "string", "data": "site-2\nalpha one"}],
        {},
        "SUCCESS",
    )
    assert _real(real.api.do_command('grep site-1 -n "hello world" notes.txt')) == (
        [{"type": "string", "data": "4:say hello world"}],
        {},
        "SUCCESS",
    )
    error = msg.SHELL_INVALID_CLIENT.format(name="site-9")
    assert _real(real.api.do_command("ls site-9")) == (
        [{"type": "error", "data": error}],
        {"status": "error", "info": error},
        "ERROR_INVALID_CLIENT",
    )
    assert _real(real.api.do_command("ls")) == (
        [{"type": "error", "data": msg.SHELL_MISSING_TARGET}],
        {"status": "error", "info": msg.SHELL_MISSING_TARGET},
        "SUCCESS",
    )


@pytest.mark.parametrize(("user", "target"), [("member@nvidia.com", "site-1"), ("lead@other.org", "site-1")])
def test_site_denial_is_a_string_the_real_client_calls_an_authorization_error(
    sessions, nvflare_api, user: str, target: str
) -> None:
    real, ours = sessions[user]
    denial = f"user '{user}' is not authorized for 'tail'"
    line = f"tail {target} notes.txt"
    assert _real(real.api.do_command(line)) == ([{"type": "string", "data": denial}], {}, "ERROR_AUTHORIZATION")
    with pytest.raises(nvflare_api.AuthorizationError, match=f"^user not authorized for the action '{line}'$"):
        real._do_command(line, enforce_meta=False)
    with pytest.raises(AuthorizationError):
        ours.tail_target(target, file="notes.txt")


def test_server_denial_has_meta_for_the_real_client(sessions, nvflare_api) -> None:
    real, ours = sessions["lead@other.org"]
    info = "user 'lead@other.org' is not authorized for 'ls'"
    assert _real(real.api.do_command("ls server")) == (
        [{"type": "error", "data": f"Authorization Error: {info}"}],
        {"status": "not_authorized", "info": info},
        "ERROR_AUTHORIZATION",
    )
    with pytest.raises(nvflare_api.AuthorizationError):
        real._do_command("ls server", enforce_meta=False)
    with pytest.raises(AuthorizationError):
        ours.ls_target("server")
    assert "fed_client.json" in ours.ls_target("site-2", path="startup").splitlines()


def test_silent_site_times_out_for_the_real_client(sessions, federation: FakeFlareServer) -> None:
    real, ours = sessions["admin@nvidia.com"]
    federation.sites.silence("site-2")
    try:
        theirs = real.api.do_command("pwd site-2")
        assert _real(theirs) == _ours(ours.do_command("pwd site-2", raise_errors=False))
        assert _real(theirs)[:2] == (
            [{"type": "error", "data": msg.SHELL_NO_REPLY}],
            {"status": "error", "info": msg.SHELL_NO_REPLY},
        )
    finally:
        federation.sites.connect("site-2")


def test_real_client_reads_the_provisioned_startup_files_and_log_lines(sessions, federation) -> None:
    """fed_server.json / fed_client.json / readme.txt carry nvflare provision's text; the logs the real ones' lines."""
    real, ours = sessions["admin@nvidia.com"]
    fed_server = json.loads(real.api.do_command("cat server startup/fed_server.json")["data"][0]["data"])
    project = federation.project
    assert fed_server["servers"][0]["name"] == project.name
    assert fed_server["servers"][0]["service"] == {"target": f"localhost:{project.fl_port}", "scheme": "grpc"}
    end_point = f"localhost:{project.fl_port}:{project.admin_port}"
    assert fed_server["overseer_agent"]["args"] == {"sp_end_point": end_point}
    fed_client = json.loads(real.api.do_command("cat site-2 startup/fed_client.json")["data"][0]["data"])
    assert fed_client["client"] == {
        "ssl_private_key": "client.key",
        "ssl_cert": "client.crt",
        "ssl_root_cert": "rootCA.pem",
    }
    readme = real.api.do_command("head site-1 -n 2 readme.txt")["data"][0]["data"]
    assert readme == "*********************************\nFederated Learning Client package"
    token = federation.sites.get("site-1").token
    found = real.api.do_command("grep site-1 Successfully log.txt")["data"][0]["data"]
    ssid = service_session_id(project)
    registered = f"Successfully registered client:site-1 for project {project.name}. Token:{token} SSID:{ssid}"
    assert found.endswith(registered)
    joined = real.api.do_command('grep server "New client site-1" log.txt')["data"][0]["data"]
    assert joined.endswith(f"Client: New client site-1@127.0.0.1 joined. Sent token: {token}.  Total clients: 1")
    assert _real(real.api.do_command("tail server -n 3 log.txt")) == _ours(ours.do_command("tail server -n 3 log.txt"))
