"""System commands on the wire and through our client: training (set_timeout, show_scopes, shutdown, restart,
remove_client), sys (sys_info, report_resources, dead), cellnet, and the client-only FLARE API methods.

Reference sections 3.4, 4, 5.3, 6.0, 6.2, 6.4–6.6, 10, 12 and appendix A; where it is silent, nvflare 2.3.12's
``training_cmds.py``, ``cmd_utils.py``, ``sys_cmd.py`` (server and client) and ``net_manager.py``/``net_agent.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from fakeserver.model.policy import DEFAULT_POLICY, Policy
from flare_api import (
    AuthorizationError,
    ClientsStillRunning,
    InternalError,
    InvalidArgumentError,
    InvalidTarget,
    JobNotDone,
    NoClientsAvailable,
    NoConnection,
    Session,
    SessionClosed,
    SessionInactive,
    TargetType,
    VirtualClock,
)
from flare_api.errors import ArgumentSyntaxError, ArgumentTypeError, OverseerError, TargetSyntaxError
from flare_api.wire import Document
from tests.helpers import ADMIN, login, raw, wire

pytestmark = pytest.mark.fake_flare_only

ORG_ADMIN = "orgadmin@nvidia.com"
LEAD = "lead@nvidia.com"
LEAD_OTHER = "lead@other.org"
MEMBER = "member@nvidia.com"
SessionFactory = Any

APPENDIX_A = Path(__file__).resolve().parent.parent / "data" / "commands_2_3_8_py310.json"
MY_COMMANDS = {
    "cellnet": None,  # all of them
    "training": {"remove_client", "restart", "set_timeout", "show_scopes", "shutdown"},
    "sys": {"sys_info", "report_resources"},
}
DEAD_ROW = ["sys", "dead", "send dead client msg to SJ", "dead <client-name>", "none", None, "False"]
OK = {"status": "ok", "info": ""}


# ------------------------------------------------------------------------------------------- helpers
@pytest.fixture(autouse=True)
def server_comes_back(flare: FakeFlareServer) -> Iterator[None]:
    """A test may shut the server down; let it serve again after the test (not every user resets it first)."""
    yield
    flare.faults.clear()


def error_meta(text: str, status: str = "error", info: Optional[str] = None) -> dict[str, str]:
    return {"status": status, "info": text if info is None else info}


def assert_error(reply: Document, text: str, status: str = "error", info: Optional[str] = None) -> None:
    """Exactly one error item; meta status/info (info defaults to the text)."""
    assert wire(reply) == [{"type": "error", "data": text}]
    assert reply.meta == error_meta(text, status, info)


def denied(user: str, right: str) -> str:
    return f"Authorization Error: user '{user}' is not authorized for '{right}'"


def assert_denied(reply: Document, user: str, right: str) -> None:
    assert_error(reply, denied(user, right), "not_authorized", f"user '{user}' is not authorized for '{right}'")


def site_denial(user: str, right: str) -> str:
    return f"user '{user}' is not authorized for '{right}'"


def running_job(flare: FakeFlareServer, session: Session) -> str:
    flare.jobs.script_next(JobScript.hangs())
    job_id = session.submit_job(str(example_job()))
    flare.jobs.advance_to(job_id, "RUNNING")
    return job_id


def use_policy(flare: FakeFlareServer, monkeypatch: pytest.MonkeyPatch, **roles: Any) -> None:
    document = json.loads(json.dumps(DEFAULT_POLICY))
    document["permissions"].update(roles)
    monkeypatch.setattr(flare, "policy", Policy(document))


def tokens(flare: FakeFlareServer) -> dict[str, str]:
    return {name: flare.sites.get(name).token for name in flare.sites.connected()}


def table(reply: Document, index: int = 0) -> list[list[Any]]:
    tables = [item.rows for item in reply.items if item.type.value == "table"]
    return tables[index]


# ------------------------------------------------------------------------------------------- _commands
def test_commands_table_rows_are_appendix_a(flare: FakeFlareServer) -> None:
    rows = json.loads(APPENDIX_A.read_text())[1:]
    expected = [r for r in rows if r[0] in MY_COMMANDS and (MY_COMMANDS[r[0]] is None or r[1] in MY_COMMANDS[r[0]])]
    expected.append(DEAD_ROW)
    (item,) = raw(flare, "_commands", login(flare)).items
    got = {(r[0], r[1]): r for r in item.rows[1:]}
    assert len(expected) == 13 + 5 + 3
    for row in expected:
        assert got[(row[0], row[1])] == row
    assert not {"bulk", "change_root", "stop_cell", "stop_net"} & {r[1] for r in item.rows}


@pytest.mark.parametrize("name", ["bulk", "change_root", "stop_cell", "stop_net", "cellnet.bulk"])
def test_disabled_cellnet_commands_are_unknown(flare: FakeFlareServer, name: str) -> None:
    assert_error(raw(flare, name, login(flare)), f'Unknown command "{name}"')


# ------------------------------------------------------------------------------------------- set_timeout
@pytest.mark.parametrize(("value", "shown"), [("5", "5.0"), ("1e3", "1000.0"), ("2.5", "2.5"), ("-2", "-2.0")])
def test_set_timeout(flare: FakeFlareServer, value: str, shown: str) -> None:
    reply = raw(flare, f"set_timeout {value}", login(flare))
    assert wire(reply) == [
        {"type": "string", "data": f"admin command timeout has been set to: {shown}"},
        {"type": "success", "data": ""},
    ]
    assert reply.meta == OK
    assert flare.admin_timeout == float(value)
    flare.reset()
    assert flare.admin_timeout == 10.0


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("set_timeout", "Exception Occurred: IndexError: list index out of range"),
        ("set_timeout abc", "Exception Occurred: ValueError: could not convert string to float: 'abc'"),
    ],
)
def test_set_timeout_bad_values_crash_like_flare(flare: FakeFlareServer, line: str, error: str) -> None:
    assert_error(raw(flare, line, login(flare)), error)
    assert flare.errors == []


@pytest.mark.parametrize(("user", "allowed"), [(ORG_ADMIN, True), (LEAD, True), (LEAD_OTHER, False), (MEMBER, False)])
def test_set_timeout_authorization(flare: FakeFlareServer, user: str, allowed: bool) -> None:
    reply = raw(flare, "set_timeout", login(flare, user), user)  # authorization comes before the crash
    if allowed:
        assert_error(reply, "Exception Occurred: IndexError: list index out of range")
    else:
        assert_denied(reply, user, "set_timeout")


def test_client_set_and_unset_timeout(flare: FakeFlareServer, flare_session: Session) -> None:
    flare_session.unset_timeout()  # never set: nothing is sent
    assert not [a for a in flare.audit if a.command.startswith("set_timeout")]
    flare_session.set_timeout(30)
    assert flare.admin_timeout == 30.0
    assert flare.audit[-1].command == "set_timeout 30.0"
    flare_session.unset_timeout()
    assert flare.admin_timeout == 10.0
    assert flare.audit[-1].command == "set_timeout 10.0"


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("5", ArgumentTypeError, "timeout must be a number but got <class 'str'>"),
        (True, ArgumentTypeError, "timeout must be a number but got <class 'bool'>"),
        (0, InvalidArgumentError, "invalid timeout value 0.0 - must be > 0.0"),
        (-1.5, InvalidArgumentError, "invalid timeout value -1.5 - must be > 0.0"),
        (float("nan"), InvalidArgumentError, "invalid timeout value nan - must be > 0.0"),
    ],
)
def test_client_set_timeout_argument_checks(
    flare: FakeFlareServer, flare_session: Session, value: Any, error: type, message: str
) -> None:
    before = len(flare.audit)
    with pytest.raises(error) as caught:
        flare_session.set_timeout(value)
    assert str(caught.value) == message
    assert isinstance(caught.value, TypeError if error is ArgumentTypeError else ValueError)
    assert len(flare.audit) == before


def test_client_set_timeout_denied(flare_session_factory: SessionFactory) -> None:
    with pytest.raises(AuthorizationError, match=r"set_timeout 5\.0: user 'member@nvidia.com' is not authorized"):
        flare_session_factory(MEMBER).set_timeout(5)


# ------------------------------------------------------------------------------------------- show_scopes
def test_show_scopes(flare: FakeFlareServer) -> None:
    token = login(flare)
    header = ["SITE", "SCOPES", "DEFAULT"]
    cases = {
        "server": [header, ["server", "", ""]],
        "client": [header, ["site-1", "", ""], ["site-2", "", ""]],
        "client site-2": [header, ["site-2", "", ""]],
        "all": [header, ["server", "", ""], ["site-1", "", ""], ["site-2", "", ""]],
    }
    for args, rows in cases.items():
        reply = raw(flare, f"show_scopes {args}", token)
        assert wire(reply) == [{"type": "table", "rows": rows}], args
        assert reply.meta == {}


def test_show_scopes_silent_and_refusing_sites(flare: FakeFlareServer, monkeypatch: pytest.MonkeyPatch) -> None:
    use_policy(flare, monkeypatch, member={"view": "o:site"})
    flare.sites.silence("site-1")
    reply = raw(flare, "show_scopes client", login(flare, MEMBER), MEMBER)
    text = site_denial(MEMBER, "show_scopes")
    # FLARE joins the site's error body as if it were the list of scope names
    assert table(reply) == [["SITE", "SCOPES", "DEFAULT"], ["site-1", "", "no reply"], ["site-2", ", ".join(text), ""]]
    assert reply.meta == {}


def test_show_scopes_all_without_clients(flare: FakeFlareServer) -> None:
    flare.sites.disconnect()
    reply = raw(flare, "show_scopes all", login(flare))
    assert wire(reply) == [
        {"type": "table", "rows": [["SITE", "SCOPES", "DEFAULT"], ["server", "", ""]]},
        {"type": "error", "data": "no responses from clients"},
    ]
    assert reply.meta == error_meta("no responses from clients")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ("", "missing target type (server or client)"),
        (" bogus", "unknown target type bogus"),
        (" client site-9", "invalid client(s): site-9"),
    ],
)
@pytest.mark.parametrize("command", ["show_scopes", "shutdown", "restart", "sys_info", "report_resources"])
def test_target_errors(flare: FakeFlareServer, command: str, args: str, error: str) -> None:
    assert_error(raw(flare, command + args, login(flare, MEMBER), MEMBER), error)  # before authorization


@pytest.mark.parametrize("command", ["show_scopes", "shutdown", "restart", "sys_info", "report_resources"])
def test_client_target_without_clients(flare: FakeFlareServer, command: str) -> None:
    flare.sites.disconnect()
    assert_error(raw(flare, f"{command} client", login(flare)), "no clients available")


@pytest.mark.parametrize(
    ("command", "right_kind"),
    [("show_scopes", "view"), ("shutdown", "operate"), ("restart", "operate"), ("sys_info", "operate"),
     ("report_resources", "operate")],
)  # fmt: skip
@pytest.mark.parametrize("target", ["server", "all"])
def test_server_targets_are_authorized_on_the_server(
    flare: FakeFlareServer, command: str, right_kind: str, target: str
) -> None:
    for user in (MEMBER, LEAD_OTHER):
        reply = raw(flare, f"{command} {target}", login(flare, user), user)
        if right_kind == "view":
            assert reply.meta.get("status") != "not_authorized"
        else:
            assert_denied(reply, user, command)


# ------------------------------------------------------------------------------------------- remove_client
def test_remove_client_without_names_removes_all_and_they_come_back(
    flare: FakeFlareServer, flare_clock: VirtualClock
) -> None:
    before = tokens(flare)
    reply = raw(flare, "remove_client", login(flare))
    assert wire(reply) == [{"type": "success", "data": ""}]
    assert reply.meta == OK
    assert flare.sites.connected() == []
    flare_clock.advance(9.9)
    assert flare.sites.connected() == []
    flare_clock.advance(0.1)  # the next heartbeat registers them again, with new tokens
    after = tokens(flare)
    assert list(after) == ["site-1", "site-2"]
    assert not set(after.values()) & set(before.values())


def test_remove_client_by_name_and_by_token(flare: FakeFlareServer, flare_clock: VirtualClock) -> None:
    token = login(flare)
    assert raw(flare, "remove_client site-2", token).meta == OK
    assert flare.sites.connected() == ["site-1"]
    assert raw(flare, f"remove_client {flare.sites.get('site-1').token}", token).meta == OK
    assert flare.sites.connected() == []
    flare_clock.advance(10)
    assert flare.sites.connected() == ["site-1", "site-2"]


def test_remove_client_silent_site_does_not_come_back(flare: FakeFlareServer, flare_clock: VirtualClock) -> None:
    flare.sites.silence("site-2")
    assert raw(flare, "remove_client site-2", login(flare)).meta == OK
    flare_clock.advance(60)
    assert flare.sites.connected() == ["site-1"]


@pytest.mark.parametrize(
    ("args", "error"),
    [(" site-9 site-1 nope", "invalid client(s): site-9 nope"), (" server", "invalid client(s): server")],
)
def test_remove_client_invalid_names(flare: FakeFlareServer, args: str, error: str) -> None:
    assert_error(raw(flare, "remove_client" + args, login(flare)), error)
    assert flare.sites.connected() == ["site-1", "site-2"]


def test_remove_client_without_clients(flare: FakeFlareServer) -> None:
    flare.sites.disconnect()
    assert_error(raw(flare, "remove_client", login(flare)), "no clients available")


@pytest.mark.parametrize(
    ("user", "allowed"), [(ADMIN, True), (ORG_ADMIN, True), (LEAD, True), (LEAD_OTHER, False), (MEMBER, False)]
)
def test_remove_client_authorization(flare: FakeFlareServer, user: str, allowed: bool) -> None:
    # always checked on the server (org nvidia), even for site-2 of org "other"
    reply = raw(flare, "remove_client site-2", login(flare, user), user)
    if allowed:
        assert reply.meta == OK
    else:
        assert_denied(reply, user, "remove_client")
        assert flare.sites.connected() == ["site-1", "site-2"]


def test_remove_client_through_our_client(flare: FakeFlareServer, flare_session: Session) -> None:
    result = flare_session.do_command("remove_client site-1")
    assert result["data"] == [{"type": "success", "data": ""}] and result["meta"] == OK
    with pytest.raises(InternalError, match=r"invalid client\(s\): site-1"):
        flare_session.do_command("remove_client site-1")


# ------------------------------------------------------------------------------------------- shutdown
JOBS_RUNNING_SHUTDOWN = "There are still jobs running. Please let them finish or abort_job before shutdown."
CLIENTS_ACTIVE = "There are still active clients. Shutdown all clients first."
SERVER_DOWN = [
    {"type": "string", "data": "FL app has been shutdown."},
    {"type": "shutdown", "data": "Bye bye"},
    {"type": "success", "data": ""},
]
CLIENTS_SHUT_DOWN = {
    "type": "table",
    "rows": [["CLIENT", "RESPONSE"], ["site-1", "Shutdown the client..."], ["site-2", "Shutdown the client..."]],
}


def assert_gone(flare: FakeFlareServer) -> None:
    """New connections are closed before the handshake, over TLS and in-process alike."""
    with pytest.raises(NoConnection):
        raw(flare, "_cert_login admin@nvidia.com")
    with pytest.raises(NoConnection):
        flare.in_process_transport().request("_cert_login admin@nvidia.com")


@pytest.mark.parametrize("target", ["server", "client", "client site-1", "all"])
def test_shutdown_refused_while_a_job_runs(flare: FakeFlareServer, flare_session: Session, target: str) -> None:
    running_job(flare, flare_session)
    assert_error(raw(flare, f"shutdown {target}", login(flare)), JOBS_RUNNING_SHUTDOWN)
    assert flare.sites.connected() == ["site-1", "site-2"]


def test_shutdown_after_the_job_was_aborted(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    flare_session.abort_job(job_id)
    reply = raw(flare, "shutdown client", login(flare))
    assert wire(reply) == [CLIENTS_SHUT_DOWN, {"type": "success", "data": ""}]


def test_shutdown_server_refused_while_clients_are_registered(flare: FakeFlareServer) -> None:
    flare.sites.silence("site-1", "site-2")  # silent ones still count
    assert_error(raw(flare, "shutdown server", login(flare)), CLIENTS_ACTIVE)
    assert raw(flare, "check_status server", login(flare)).meta["status"] == "ok"


def test_shutdown_client(flare: FakeFlareServer) -> None:
    token = login(flare)
    reply = raw(flare, "shutdown client", token)
    assert wire(reply) == [CLIENTS_SHUT_DOWN, {"type": "success", "data": ""}]
    assert reply.meta == OK
    assert flare.sites.connected() == []
    assert raw(flare, "check_status server", token).items[2].data == "Registered clients: 0 "


def test_shutdown_some_clients_and_a_silent_one(flare: FakeFlareServer) -> None:
    flare.sites.silence("site-2")
    reply = raw(flare, "shutdown client site-2 site-1", login(flare))
    # a silent site's response cell is empty and it counts as shut down (it stays registered until dropped)
    assert wire(reply) == [
        {"type": "table", "rows": [["CLIENT", "RESPONSE"], ["site-2", ""], ["site-1", "Shutdown the client..."]]},
        {"type": "success", "data": ""},
    ]
    assert flare.sites.connected() == ["site-2"]


def test_shutdown_client_refused_by_a_site(flare: FakeFlareServer) -> None:
    reply = raw(flare, "shutdown client", login(flare, LEAD), LEAD)  # site-2 belongs to org "other"
    assert wire(reply) == [
        {
            "type": "table",
            "rows": [
                ["CLIENT", "RESPONSE"],
                ["site-1", "Shutdown the client..."],
                ["site-2", site_denial(LEAD, "shutdown")],
            ],
        }
    ]
    assert reply.meta == {}
    assert flare.sites.connected() == ["site-2"]


def test_shutdown_server(flare: FakeFlareServer) -> None:
    flare.sites.disconnect()
    reply = raw(flare, "shutdown server", login(flare))
    assert wire(reply) == SERVER_DOWN
    assert reply.meta == OK
    assert_gone(flare)
    flare.reset()
    assert raw(flare, "check_status server", login(flare)).items[0].data == "Engine status: stopped"


def test_shutdown_all(flare: FakeFlareServer) -> None:
    reply = raw(flare, "shutdown all", login(flare))
    assert wire(reply) == [
        {"type": "string", "data": "Trying to shutdown clients before server..."},
        CLIENTS_SHUT_DOWN,
        *SERVER_DOWN,
    ]
    assert reply.meta == OK
    assert_gone(flare)


def test_shutdown_all_without_clients(flare: FakeFlareServer) -> None:
    flare.sites.disconnect()
    assert wire(raw(flare, "shutdown all", login(flare))) == SERVER_DOWN
    assert_gone(flare)


def test_shutdown_all_refused_by_a_site_keeps_the_server_up(flare: FakeFlareServer) -> None:
    token = login(flare, LEAD)
    reply = raw(flare, "shutdown all", token, LEAD)
    assert wire(reply) == [
        {"type": "string", "data": "Trying to shutdown clients before server..."},
        {
            "type": "table",
            "rows": [
                ["CLIENT", "RESPONSE"],
                ["site-1", "Shutdown the client..."],
                ["site-2", site_denial(LEAD, "shutdown")],
            ],
        },
        {"type": "success", "data": ""},  # FLARE still ends with success
    ]
    assert reply.meta == OK
    assert flare.sites.connected() == ["site-2"]
    assert raw(flare, "check_status server", token, LEAD).meta["status"] == "ok"


@pytest.mark.parametrize(("user", "allowed"), [(ORG_ADMIN, True), (LEAD, True), (LEAD_OTHER, False), (MEMBER, False)])
def test_shutdown_server_authorization(flare: FakeFlareServer, user: str, allowed: bool) -> None:
    flare.sites.disconnect()
    reply = raw(flare, "shutdown server", login(flare, user), user)
    if allowed:
        assert wire(reply) == SERVER_DOWN
    else:
        assert_denied(reply, user, "shutdown")


def test_shutdown_client_is_authorized_by_each_site(flare: FakeFlareServer) -> None:
    reply = raw(flare, "shutdown client", login(flare, MEMBER), MEMBER)
    assert table(reply)[1:] == [
        ["site-1", site_denial(MEMBER, "shutdown")],
        ["site-2", site_denial(MEMBER, "shutdown")],
    ]
    assert reply.meta == {}
    assert flare.sites.connected() == ["site-1", "site-2"]


def test_client_shutdown_server_closes_the_session(flare: FakeFlareServer, flare_session: Session) -> None:
    flare_session.shutdown(TargetType.CLIENT)
    assert flare.sites.connected() == []
    flare_session.shutdown("server")
    assert flare_session.closed
    with pytest.raises(SessionClosed):
        flare_session.get_system_info()
    assert_gone(flare)


def test_client_shutdown_errors(
    flare: FakeFlareServer, flare_session: Session, flare_session_factory: SessionFactory
) -> None:
    job_id = running_job(flare, flare_session)
    with pytest.raises(JobNotDone, match="There are still jobs running") as running:
        flare_session.shutdown("client", ["site-2"])
    assert isinstance(running.value, InternalError)
    flare_session.abort_job(job_id)
    with pytest.raises(ClientsStillRunning, match="There are still active clients") as caught:
        flare_session.shutdown("server")
    assert isinstance(caught.value, InternalError)
    with pytest.raises(AuthorizationError, match=r"'shutdown client': site-2: user 'lead@nvidia.com' is not auth"):
        flare_session_factory(LEAD).shutdown("client")
    with pytest.raises(AuthorizationError, match=r"'shutdown all': site-2: user 'lead@nvidia.com'"):
        flare_session_factory(LEAD).shutdown("all")
    with pytest.raises(AuthorizationError, match=r"user 'member@nvidia\.com' is not authorized for 'shutdown'"):
        flare_session_factory(MEMBER).shutdown("all")
    with pytest.raises(InvalidTarget, match=r"invalid client\(s\): site-9"):
        flare_session.shutdown("client", ["site-9"])
    flare.sites.disconnect()
    with pytest.raises(NoClientsAvailable, match="no clients available") as no_clients:
        flare_session.shutdown("client")
    assert isinstance(no_clients.value, InternalError)
    assert not flare_session.closed


@pytest.mark.parametrize(
    ("target", "names", "error", "message"),
    [
        ("bogus", None, InvalidTarget, "invalid target_type bogus - must be in ['all', 'server', 'client']"),
        (None, None, InvalidTarget, "invalid target_type None - must be in ['all', 'server', 'client']"),
        ("client", "site-1", TargetSyntaxError, "targets is not a list."),
        ("client", ["site-1", 2], TargetSyntaxError, "all targets in the list of targets must be strings."),
        ("client", ["site 1"], TargetSyntaxError, "invalid target site 1"),
        ("client", ["site-1", ""], TargetSyntaxError, "invalid target "),
    ],
)
@pytest.mark.parametrize("method", ["shutdown", "restart", "report_resources"])
def test_client_target_argument_checks(
    flare: FakeFlareServer, flare_session: Session, method: str, target: Any, names: Any, error: type, message: str
) -> None:
    before = len(flare.audit)
    with pytest.raises(error) as caught:
        getattr(flare_session, method)(target, names)
    assert str(caught.value) == message
    assert isinstance(caught.value, SyntaxError if error is TargetSyntaxError else ValueError)
    assert len(flare.audit) == before


def test_client_names_are_ignored_unless_the_target_is_client(flare: FakeFlareServer, flare_session: Session) -> None:
    flare.sites.disconnect()
    flare_session.restart("server", ["not a valid name"])  # FLARE only checks names for target client
    assert flare.audit[-1].command == "restart server"


# ------------------------------------------------------------------------------------------- restart
JOBS_RUNNING_RESTART = "There are still jobs running. Please let them finish or abort_job before restart."
RESTART_BOTH = "client:site-1 : Restart the client...\nclient:site-2 : Restart the client...\n"


@pytest.mark.parametrize("target", ["server", "client", "client site-2", "all"])
def test_restart_refused_while_a_job_runs(flare: FakeFlareServer, flare_session: Session, target: str) -> None:
    running_job(flare, flare_session)
    assert_error(raw(flare, f"restart {target}", login(flare)), JOBS_RUNNING_RESTART)


@pytest.mark.parametrize("target", ["server", "all"])
def test_restart_server(flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock, target: str) -> None:
    flare.jobs.script_next(JobScript(deploying=Phase.never()))
    deploying = flare_session.submit_job(str(example_job()))
    flare.jobs.advance_to(deploying, "DISPATCHED")
    flare.jobs.script_next(JobScript.hangs())
    lost = flare_session.submit_job(str(example_job()))
    flare.jobs.advance_to(lost, "RUNNING")
    flare.jobs.orphan(lost)  # RUNNING in the store, not in the runner: restart is not refused
    old_tokens = tokens(flare)
    old_start = flare.start_time
    flare_session.set_timeout(3)
    flare_clock.advance(100)
    submitted = flare_session.submit_job(str(example_job()))  # not scheduled yet: survives
    token = login(flare)
    reply = raw(flare, f"restart {target}", token)
    assert wire(reply) == [
        {"type": "string", "data": "Trying to restart all clients before restarting server..."},
        {"type": "string", "data": RESTART_BOTH},
        {"type": "string", "data": "Server scheduled for restart"},
        {"type": "success", "data": ""},
    ]
    assert reply.meta == OK
    # a new server process: sessions gone, new start time, unfinished jobs abandoned, default timeout
    assert wire(raw(flare, "check_status server", token))[0] == {"type": "error", "data": "session_inactive"}
    assert flare.start_time == old_start + 100
    assert flare.jobs.status(deploying).value == "FINISHED:ABANDONED"
    assert flare.jobs.status(lost).value == "FINISHED:ABANDONED"
    assert flare.jobs.status(submitted).value == "SUBMITTED"
    assert flare.admin_timeout == 10.0
    with pytest.raises(SessionInactive):
        flare_session.list_jobs()
    # the sites register again at their next heartbeat, with new tokens
    assert flare.sites.connected() == []
    flare_clock.advance(10)
    assert list(tokens(flare)) == ["site-1", "site-2"]
    assert not set(tokens(flare).values()) & set(old_tokens.values())
    meta = raw(flare, "check_status server", login(flare)).meta
    assert meta["server_start_time"] == old_start + 100


def test_restart_server_without_clients(flare: FakeFlareServer) -> None:
    flare.sites.disconnect()
    reply = raw(flare, "restart server", login(flare))
    assert wire(reply) == [
        {"type": "string", "data": "Server scheduled for restart"},
        {"type": "success", "data": ""},
    ]


def test_restart_server_with_a_refusing_and_a_silent_site(flare: FakeFlareServer, flare_clock: VirtualClock) -> None:
    flare.sites.silence("site-1")
    reply = raw(flare, "restart server", login(flare, LEAD), LEAD)
    assert wire(reply)[1] == {
        "type": "string",
        "data": f"client:site-1 : No replies\nclient:site-2 : {site_denial(LEAD, 'restart')}\n",
    }
    assert reply.meta == OK
    flare_clock.advance(10)
    assert flare.sites.connected() == ["site-2"]  # the silent one does not come back


def test_restart_client(flare: FakeFlareServer, flare_clock: VirtualClock) -> None:
    token = login(flare)
    start = flare.start_time
    before = tokens(flare)
    reply = raw(flare, "restart client site-2", token)
    assert wire(reply) == [
        {"type": "string", "data": "client:site-2 : Restart the client...\n"},
        {"type": "success", "data": ""},
    ]
    assert reply.meta == OK
    assert flare.sites.connected() == ["site-1"]
    assert raw(flare, "check_status server", token).meta["status"] == "ok"  # the session lives on
    flare_clock.advance(10)
    assert flare.sites.connected() == ["site-1", "site-2"]
    assert tokens(flare)["site-2"] != before["site-2"] and tokens(flare)["site-1"] == before["site-1"]
    assert flare.start_time == start


def test_restart_client_refused_by_a_site(flare: FakeFlareServer) -> None:
    reply = raw(flare, "restart client", login(flare, LEAD), LEAD)
    assert wire(reply) == [
        {
            "type": "string",
            "data": f"client:site-1 : Restart the client...\nclient:site-2 : {site_denial(LEAD, 'restart')}\n",
        },
        {"type": "success", "data": ""},
    ]
    assert flare.sites.connected() == ["site-2"]


@pytest.mark.parametrize(("user", "allowed"), [(ORG_ADMIN, True), (LEAD, True), (LEAD_OTHER, False), (MEMBER, False)])
def test_restart_server_authorization(flare: FakeFlareServer, user: str, allowed: bool) -> None:
    flare.sites.disconnect()
    reply = raw(flare, "restart server", login(flare, user), user)
    if allowed:
        assert reply.meta == OK
    else:
        assert_denied(reply, user, "restart")


def test_client_restart(flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock) -> None:
    result = flare_session.restart(TargetType.CLIENT, ["site-1"])
    assert result == {**OK, "client_status": {"site-1": "Restart the client..."}}
    flare.sites.silence("site-2")
    assert flare_session.restart("client") == {**OK, "client_status": {"site-2": "no_reply"}}
    flare_clock.advance(10)
    assert flare_session.restart("all") == {
        **OK,
        "client_status": {"site-1": "Restart the client...", "site-2": "no_reply"},
    }
    with pytest.raises(SessionInactive):
        flare_session.get_system_info()


def test_client_restart_errors(
    flare: FakeFlareServer, flare_session: Session, flare_session_factory: SessionFactory
) -> None:
    job_id = running_job(flare, flare_session)
    with pytest.raises(JobNotDone, match="before restart"):
        flare_session.restart("all")
    flare_session.abort_job(job_id)
    flare.clock.advance(5)  # the aborted run's process exits a few seconds after the abort, as in FLARE
    with pytest.raises(AuthorizationError, match=r"user 'member@nvidia\.com' is not authorized for 'restart'"):
        flare_session_factory(MEMBER).restart("server")
    lead = flare_session_factory(LEAD).restart("client")
    assert lead["client_status"]["site-2"] == site_denial(LEAD, "restart")
    flare.sites.disconnect()
    with pytest.raises(NoClientsAvailable):
        flare_session.restart("client")


def test_restart_is_refused_until_an_aborted_run_has_exited(flare: FakeFlareServer, flare_session: Session) -> None:
    """Measured on a real 2.3.12 deployment: right after abort_job the job reads FINISHED:ABORTED and the
    engine "stopped", but restart is refused for a few seconds more (the run's process is still exiting)."""
    job_id = running_job(flare, flare_session)
    flare_session.abort_job(job_id)
    assert flare_session.get_system_info().server_info.status == "stopped"
    with pytest.raises(JobNotDone, match="before restart"):
        flare_session.restart("client")
    flare.clock.advance(3.9)
    with pytest.raises(JobNotDone, match="before restart"):
        flare_session.restart("client")
    flare.clock.advance(0.2)
    assert flare_session.restart("client")["status"] == "ok"


# ------------------------------------------------------------------------------------------- sys_info
SERVER_MEMORY = [
    ["total", "17179869184"],
    ["available", "12884901888"],
    ["percent", "25.0"],
    ["used", "3758096384"],
    ["free", "8589934592"],
    ["active", "5368709120"],
    ["inactive", "2147483648"],
    ["buffers", "536870912"],
    ["cached", "4294967296"],
    ["shared", "268435456"],
    ["slab", "402653184"],
    ["available_percent", "75.0"],
]
SITE_MEMORY = [
    ["total", "8589934592"],
    ["available", "4294967296"],
    ["percent", "50.0"],
    ["used", "3221225472"],
    ["free", "3221225472"],
    ["active", "3758096384"],
    ["inactive", "1073741824"],
    ["buffers", "268435456"],
    ["cached", "1879048192"],
    ["shared", "134217728"],
    ["slab", "201326592"],
    ["available_percent", "75.0"],  # FLARE computes this row from the server's memory, even for a site
]
METRICS = ["METRICS", "VALUE"]


def site_info(name: str, rows: list[list[str]]) -> list[dict[str, Any]]:
    return [{"type": "string", "data": f"Client: {name}"}, {"type": "table", "rows": [METRICS, *rows]}]


def test_sys_info_server(flare: FakeFlareServer) -> None:
    reply = raw(flare, "sys_info server", login(flare))
    assert wire(reply) == [{"type": "table", "rows": [METRICS, *SERVER_MEMORY]}]
    assert reply.meta == {}


def test_sys_info_client(flare: FakeFlareServer) -> None:
    token = login(flare)
    reply = raw(flare, "sys_info client", token)
    assert wire(reply) == site_info("site-1", SITE_MEMORY) + site_info("site-2", SITE_MEMORY)
    assert reply.meta == {}
    assert wire(raw(flare, "sys_info client site-2", token)) == site_info("site-2", SITE_MEMORY)


def test_sys_info_client_silent_and_refusing_sites(flare: FakeFlareServer) -> None:
    flare.sites.silence("site-1")
    reply = raw(flare, "sys_info client", login(flare, LEAD), LEAD)
    assert wire(reply) == [
        *site_info("site-1", []),
        {"type": "string", "data": ": No replies"},
        *site_info("site-2", [[site_denial(LEAD, "sys_info"), ""]]),
    ]
    assert reply.meta == {}


@pytest.mark.parametrize("command", ["sys_info", "report_resources"])
def test_sys_target_all_is_an_invalid_target_string(flare: FakeFlareServer, command: str) -> None:
    reply = raw(flare, f"{command} all", login(flare))
    text = "invalid target type all. Usage: sys_info server|client <client-name>"
    assert wire(reply) == [{"type": "string", "data": text}]
    assert reply.meta == {}


@pytest.mark.parametrize("command", ["sys_info", "report_resources"])
@pytest.mark.parametrize(("user", "allowed"), [(ORG_ADMIN, True), (LEAD, True), (LEAD_OTHER, False), (MEMBER, False)])
def test_sys_server_authorization(flare: FakeFlareServer, command: str, user: str, allowed: bool) -> None:
    reply = raw(flare, f"{command} server", login(flare, user), user)
    if allowed:
        assert reply.items[0].type.value == "table" and reply.meta == {}
    else:
        assert_denied(reply, user, command)


def test_sys_client_targets_are_authorized_by_the_sites(flare: FakeFlareServer) -> None:
    reply = raw(flare, "sys_info client", login(flare, LEAD_OTHER), LEAD_OTHER)
    assert wire(reply) == [
        *site_info("site-1", [[site_denial(LEAD_OTHER, "sys_info"), ""]]),
        *site_info("site-2", SITE_MEMORY),
    ]


def test_sys_info_through_our_client(flare_session: Session) -> None:
    result = flare_session.do_command("sys_info client site-1")
    assert result["data"] == site_info("site-1", SITE_MEMORY)
    assert result["meta"] == {} and result["status"] == "SUCCESS"


# ------------------------------------------------------------------------------------------- report_resources
REPORT = "{'resources': [], 'reserved_resources': {}}"


def test_report_resources(flare: FakeFlareServer) -> None:
    token = login(flare)
    cases = {
        "server": [["server", "unlimited"]],
        "client": [["site-1", REPORT], ["site-2", REPORT]],
        "client site-2 site-1": [["site-2", REPORT], ["site-1", REPORT]],
    }
    for args, rows in cases.items():
        reply = raw(flare, f"report_resources {args}", token)
        assert wire(reply) == [{"type": "table", "rows": [["SITES", "RESOURCES"], *rows]}], args
        assert reply.meta == {}


def test_report_resources_silent_and_refusing_sites(flare: FakeFlareServer) -> None:
    flare.sites.silence("site-2")
    reply = raw(flare, "report_resources client", login(flare, MEMBER), MEMBER)
    assert table(reply) == [
        ["SITES", "RESOURCES"],
        ["site-1", site_denial(MEMBER, "report_resources")],
        ["site-2", "No replies"],
    ]


def test_client_report_resources(flare: FakeFlareServer, flare_session: Session) -> None:
    assert flare_session.report_resources("server") == {"server": "unlimited"}
    report = {"resources": [], "reserved_resources": {}}
    assert flare_session.report_resources(TargetType.CLIENT) == {"site-1": report, "site-2": report}
    assert flare_session.report_resources("client", ["site-2"]) == {"site-2": report}
    flare.sites.silence("site-2")
    assert flare_session.report_resources("client") == {"site-1": report, "site-2": "No replies"}
    with pytest.raises(InvalidTarget, match=r"invalid target type all\. Usage: sys_info") as caught:
        flare_session.report_resources("all")
    assert isinstance(caught.value, InternalError)
    with pytest.raises(InvalidTarget, match=r"invalid client\(s\): site-3"):
        flare_session.report_resources("client", ["site-3"])


def test_client_report_resources_errors(flare_session_factory: SessionFactory) -> None:
    member = flare_session_factory(MEMBER)
    with pytest.raises(AuthorizationError, match=r"'report_resources server: user 'member@nvidia\.com'"):
        member.report_resources("server")
    assert member.report_resources("client")["site-1"] == site_denial(MEMBER, "report_resources")


# ------------------------------------------------------------------------------------------- dead (2.3.12)
def test_dead(flare: FakeFlareServer) -> None:
    token = login(flare)
    reply = raw(flare, "dead site-1 some-job", token)
    assert wire(reply) == [
        {"type": "string", "data": "called notify_dead_job for client client_name='site-1' job_id='some-job'"}
    ]
    assert reply.meta == {}
    quoted = raw(flare, 'dead "it\'s" j', token)
    assert quoted.items[0].data == "called notify_dead_job for client client_name=\"it's\" job_id='j'"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("dead", "Usage: dead client_name job_id"),
        ("dead site-1", "Usage: dead client_name job_id"),
        ("dead site-1 job extra", "Usage: dead client_name job_id"),
        ("sys.dead site-1", "Usage: sys.dead client_name job_id"),
    ],
)
def test_dead_usage(flare: FakeFlareServer, line: str, error: str) -> None:
    assert_error(raw(flare, line, login(flare)), error)


@pytest.mark.parametrize("user", [ORG_ADMIN, LEAD, MEMBER])
def test_dead_is_for_project_admins_only(flare: FakeFlareServer, user: str) -> None:
    reply = raw(flare, "dead", login(flare, user), user)  # the role check comes before the usage check
    assert_error(reply, "Not authorized as project_admin.", "not_authorized", "")


# ------------------------------------------------------------------------------------------- cellnet
def strings(reply: Document) -> list[str]:
    return [item.data for item in reply.items if item.type.value == "string"]


def test_cells(flare: FakeFlareServer) -> None:
    reply = raw(flare, "cells", login(flare, MEMBER), MEMBER)  # no authorization for cellnet
    assert wire(reply) == [
        {"type": "string", "data": "server"},
        {"type": "string", "data": "site-1"},
        {"type": "string", "data": "site-2"},
        {"type": "string", "data": "Total Cells: 3"},
    ]
    assert reply.meta == {}


def test_cells_with_a_running_job_and_a_silent_site(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    token = login(flare)
    cells = ["server", f"server.{job_id}", "site-1", f"site-1.{job_id}", "site-2", f"site-2.{job_id}"]
    assert strings(raw(flare, "cells extra args are ignored", token)) == [*cells, "Total Cells: 6"]
    flare.sites.silence("site-1")
    reply = raw(flare, "cells", token)
    error = "no reply from site-1: timeout"
    assert wire(reply)[0] == {"type": "error", "data": error}
    assert strings(reply) == ["server", f"server.{job_id}", error, "site-2", f"site-2.{job_id}", "Total Cells: 4"]
    assert reply.meta == error_meta(error)


def test_cells_of_a_starting_job(flare: FakeFlareServer, flare_session: Session) -> None:
    flare.jobs.script_next(JobScript(deploying=Phase.never()))
    job_id = flare_session.submit_job(str(example_job()))
    flare.jobs.advance_to(job_id, "DISPATCHED")
    cells = ["server", f"server.{job_id}", "site-1", f"site-1.{job_id}", "site-2", f"site-2.{job_id}"]
    assert strings(raw(flare, "cells", login(flare))) == [*cells, "Total Cells: 6"]


def conns(reply: Document) -> Any:
    (item,) = reply.items
    assert item.type.value == "dict" and reply.meta == {}
    return item.data


def test_conns(flare: FakeFlareServer, flare_session: Session) -> None:
    token = login(flare)
    server = conns(raw(flare, "conns server", token))
    assert list(server) == ["int_listener", "ext_listeners"]
    assert server["ext_listeners"] == [{"url": "grpc://0:8002", "handle": "CH00001", "type": "listener"}]
    assert server["int_listener"]["handle"] == "CH00002" and server["int_listener"]["type"] == "listener"
    assert server["int_listener"]["url"].startswith("tcp://localhost:")
    site = conns(raw(flare, "conns site-1", token))
    assert site["bb_ext_connector"] == {"url": "grpc://localhost:8002", "handle": "CH00001", "type": "connector"}
    assert site["int_listener"]["url"] != server["int_listener"]["url"]
    job_id = running_job(flare, flare_session)
    job_cell = conns(raw(flare, f"conns server.{job_id}", token))
    assert job_cell == {"bb_int_connector": {**server["int_listener"], "handle": "CH00001", "type": "connector"}}
    assert conns(raw(flare, "conns site-1", token)) == site  # deterministic


@pytest.mark.parametrize(
    ("target", "rc"),
    [("site-9", "target_unreachable"), ("server.no-such-job", "target_unreachable"), ("a@b", "invalid_target"),
     ("a..b", "invalid_target"), ("site-2", "timeout")],
)  # fmt: skip
def test_conns_errors(flare: FakeFlareServer, target: str, rc: str) -> None:
    flare.sites.silence("site-2")
    data = conns(raw(flare, f"conns {target}", login(flare)))
    assert data == {"error": "processing error", "reply": {"cn__return_code": rc}}


@pytest.mark.parametrize("line", ["conns", "conns server site-1"])
def test_conns_usage(flare: FakeFlareServer, line: str) -> None:
    reply = raw(flare, line, login(flare))
    assert wire(reply) == [{"type": "string", "data": "Usage: conns target_cell"}]
    assert reply.meta == {}


def test_client_get_cell_conn_info(flare: FakeFlareServer, flare_session: Session) -> None:
    assert flare_session.get_cell_conn_info("server") == conns(raw(flare, "conns server", login(flare)))
    assert flare_session.get_cell_conn_info("nope") == {
        "error": "processing error",
        "reply": {"cn__return_code": "target_unreachable"},
    }
    for bad in ("", "a b", None):
        with pytest.raises(InvalidArgumentError, match="fqcn must be a non-empty str without whitespace"):
            flare_session.get_cell_conn_info(bad)  # type: ignore[arg-type]


def test_peers(flare: FakeFlareServer, flare_session: Session) -> None:
    token = login(flare)
    assert strings(raw(flare, "peers server", token)) == ["site-1", "site-2", "Total Agents: 2"]
    assert strings(raw(flare, "peers site-2", token)) == ["server", "Total Agents: 1"]
    job_id = running_job(flare, flare_session)
    assert strings(raw(flare, "peers site-1", token)) == ["server", f"site-1.{job_id}", "Total Agents: 2"]
    assert strings(raw(flare, f"peers site-1.{job_id}", token)) == ["site-1", "server", "Total Agents: 2"]
    reply = raw(flare, "peers nope", token)
    assert wire(reply) == [
        {
            "type": "dict",
            "data": {"error": "return code: target_unreachable", "reply": {"cn__return_code": "target_unreachable"}},
        },
        {"type": "string", "data": "No peers"},
    ]
    assert strings(raw(flare, "peers", token)) == ["Usage: peers target_cell"]


def test_url_use(flare: FakeFlareServer) -> None:
    token = login(flare)
    server_int = conns(raw(flare, "conns server", token))["int_listener"]["url"]
    assert conns(raw(flare, "url_use grpc://0:8002", token)) == {"server": "ext_listen"}
    assert conns(raw(flare, f"url_use {server_int}", token)) == {"server": "int_listen"}
    assert conns(raw(flare, "url_use grpc://localhost:8002", token)) == {
        "site-1": "bb_ext_connect",
        "site-2": "bb_ext_connect",
    }
    assert wire(raw(flare, "url_use tcp://nowhere:1", token)) == [
        {"type": "string", "data": "No cell uses tcp://nowhere:1"}
    ]
    flare.sites.silence("site-2")
    assert conns(raw(flare, "url_use grpc://0:8002", token)) == {"server": "ext_listen", "site-2": "error timeout"}
    assert strings(raw(flare, "url_use", token)) == ["Usage: url_use url"]


def test_route(flare: FakeFlareServer) -> None:
    token = login(flare)
    reply = raw(flare, "route site-2 site-1", token)
    kinds = [item.type.value for item in reply.items]
    assert kinds == ["string", "string", "dict", "string", "dict"] and reply.meta == {}
    assert strings(reply) == ["Route Info from site-1 to site-2", "Request Headers:", "Reply Headers:"]
    request, answer = reply.items[2].data, reply.items[4].data
    assert request["cn__origin"] == "site-1" and request["cn__destination"] == "site-2"
    assert [hop for hop, _ in request["cn__route"]] == ["site-1", "server", "site-2"]  # forwarded by the server
    assert request["cn__from"] == "server" and request["cn__topic"] == "route"
    assert answer["cn__return_code"] == "ok" and answer["cn__req_id"] == request["cn__req_id"]
    direct = raw(flare, "route site-1", token).items[2].data
    assert [hop for hop, _ in direct["cn__route"]] == ["server", "site-1"]


def test_route_errors(flare: FakeFlareServer) -> None:
    token = login(flare)
    reply = raw(flare, "route site-1 nope", token)
    assert wire(reply) == [
        {"type": "string", "data": "Route Info from nope to site-1"},
        {"type": "error", "data": "error in reply target_unreachable"},
        {"type": "string", "data": "Reply Headers:"},
        {"type": "dict", "data": {"cn__return_code": "target_unreachable"}},
    ]
    assert reply.meta == error_meta("error in reply target_unreachable")
    bad = raw(flare, "route x@y", token)
    assert bad.items[1].data == "error in reply process_exception"
    assert bad.items[3].data["cn__error"] == "bad target fqcn invalid char"
    unreachable = raw(flare, "route site-9", token)
    assert wire(unreachable)[1:] == [
        {"type": "string", "data": "Request Headers:"},
        {"type": "dict", "data": {"error": "Reply ReturnCode: target_unreachable"}},
        {"type": "string", "data": "Reply Headers:"},
        {"type": "dict", "data": {"cn__return_code": "target_unreachable"}},
    ]
    assert strings(raw(flare, "route", token)) == ["Usage: route to_cell [from_cell]"]


def test_speed(flare: FakeFlareServer) -> None:
    token = login(flare)
    result = conns(raw(flare, "speed server site-1 10 2", token))
    assert list(result) == [
        "test_time", "test", "prep", "timeouts", "comm_errors", "size_errors", "proc_errors", "other_errors",
        "total", "average",
    ]  # fmt: skip
    assert result["test"] == "2KB 10 rounds between server and site-1"
    assert result["timeouts"] == result["other_errors"] == 0
    assert (
        conns(raw(flare, "speed site-1 site-2 0 -5", token))["test"] == "1,000KB 100 rounds between site-1 and site-2"
    )
    assert conns(raw(flare, "speed server site-9 3", token))["other_errors"] == 3
    flare.sites.silence("site-2")
    assert conns(raw(flare, "speed server site-2 4", token))["timeouts"] == 4
    assert conns(raw(flare, "speed site-2 server", token)) == {"test_time": 0.0, "error": "return code timeout"}
    assert conns(raw(flare, "speed a@b server", token)) == {"error": "invalid from_fqcn a@b: invalid char"}
    assert conns(raw(flare, "speed server a..b", token)) == {"error": "invalid to_fqcn a..b: empty part"}


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("speed server site-1 x", "'x' is not a valid number: ValueError: invalid literal for int() with base 10: 'x'"),
        (
            "speed server site-1 1 2.5",
            "'2.5' is not a valid number: ValueError: invalid literal for int() with base 10: '2.5'",
        ),
        ("stress many", "'many' is not a valid number: ValueError: invalid literal for int() with base 10: 'many'"),
        ("stress 1 5.0", "'5.0' is not a valid number: ValueError: invalid literal for int() with base 10: '5.0'"),
    ],
)
def test_cellnet_number_errors(flare: FakeFlareServer, line: str, error: str) -> None:
    assert_error(raw(flare, line, login(flare)), error)


def test_speed_usage(flare: FakeFlareServer) -> None:
    expected = ["Usage: speed from_fqcn to_fqcn [num_tries] [payload_size]"]
    assert strings(raw(flare, "speed server", login(flare))) == expected


def test_stress(flare: FakeFlareServer) -> None:
    token = login(flare)
    reply = raw(flare, "stress 4", token)
    assert wire(reply) == [
        {"type": "string", "data": "starting stress test on ['server', 'site-1', 'site-2']"},
        {"type": "dict", "data": {
            "site-1": {"counts": {"server": 2, "site-2": 2}, "time": 0.008},
            "site-2": {"counts": {"server": 2, "site-1": 2}, "time": 0.008},
        }},
        {"type": "string", "data": "total errors: 0"},
    ]  # fmt: skip
    assert reply.meta == {}
    flare.sites.silence("site-2")
    error = "no reply from site-2: timeout"
    reply = raw(flare, "stress 2", token)
    assert wire(reply) == [
        {"type": "error", "data": error},
        {"type": "string", "data": f"starting stress test on ['server', 'site-1', '{error}']"},
        {"type": "dict", "data": {
            "site-1": {"counts": {"server": 1, error: 1}, "errors": {error: 1}, "time": 0.004},
            error: "RC=invalid_target",
        }},
        {"type": "string", "data": "total errors: 1"},
    ]  # fmt: skip
    flare.sites.disconnect()
    assert wire(raw(flare, "stress", token))[1] == {"type": "dict", "data": {"error": "no targets for stress test"}}


@pytest.mark.parametrize(
    ("mode", "cell"),
    [("", "1"), ("c", "1"), ("percent", "1.0"), ("a", "1.500e-03"), ("max", "1.500e-03"), ("min", "1.500e-03")],
)
def test_msg_stats(flare: FakeFlareServer, mode: str, cell: str) -> None:
    reply = raw(flare, f"msg_stats site-1 {mode}".strip(), login(flare))
    assert wire(reply) == [{"type": "table", "rows": [["CATEGORY", "0.001-0.002"], ["reply:_net_manager:cells", cell]]}]
    assert reply.meta == {}


def test_msg_stats_errors(flare: FakeFlareServer) -> None:
    token = login(flare)
    modes = "['count', 'percent', 'avg', 'max', 'min']"
    assert_error(raw(flare, "msg_stats server bogus", token), f"invalid mode '': must be one of {modes}")
    assert_error(raw(flare, "msg_stats nope", token), "error: target_unreachable")
    assert strings(raw(flare, "msg_stats", token)) == ["Usage: msg_stats target [mode]"]


def test_list_and_show_pools(flare: FakeFlareServer) -> None:
    token = login(flare)
    pools = table(raw(flare, "list_pools server", token))
    assert pools[0] == ["POOL", "TYPE", "DESCRIPTION"]
    assert [row[0] for row in pools[1:]] == sorted(row[0] for row in pools[1:])
    assert ["request_response", "hist", "Request/response time in secs (sender)"] in pools
    assert ["sent_msg_counters", "counter", "Result counters of sent messages"] in pools
    assert table(raw(flare, "show_pool site-2 Sent_Msg_Counters", token)) == [
        ["CATEGORY", "SENT"],
        ["req:_net_manager:cells", "1"],
    ]
    assert table(raw(flare, "show_pool server msg_travel avg", token)) == [["CATEGORY"]]
    assert table(raw(flare, "show_pool server request_response p", token))[1] == ["reply:_net_manager:cells", "1.0"]
    assert_error(raw(flare, "show_pool server nope", token), "invalid_request: unknown pool 'nope'")
    assert_error(raw(flare, "show_pool nope request_response", token), "target_unreachable: ")
    assert_error(
        raw(flare, "show_pool server request_response zz", token),
        "invalid mode '': must be one of ['count', 'percent', 'avg', 'max', 'min']",
    )
    assert strings(raw(flare, "show_pool server", token)) == ["Usage: show_pool target pool_name [mode]"]


@pytest.mark.parametrize("command", ["list_pools", "show_comm_config", "show_config_vars", "process_info"])
def test_target_commands_errors(flare: FakeFlareServer, command: str) -> None:
    token = login(flare)
    flare.sites.silence("site-2")
    assert_error(raw(flare, f"{command} site-9", token), "target_unreachable: ")
    assert_error(raw(flare, f"{command} site-2", token), "timeout: ")
    assert_error(raw(flare, f"{command} bad@cell", token), "invalid_target: ")
    assert strings(raw(flare, command, token)) == [f"Usage: {command} target"]


def test_comm_config_vars_and_process_info(flare: FakeFlareServer) -> None:
    token = login(flare)
    assert conns(raw(flare, "show_comm_config site-1", token)) == {
        "allow_adhoc": False,
        "adhoc_scheme": "tcp",
        "adhoc_resources": {},
        "internal_scheme": "tcp",
        "internal_resources": {"host": "localhost"},
        "config": "none",
    }
    assert conns(raw(flare, "show_config_vars server", token))["max_message_size"] == 2144337904
    rows = table(raw(flare, "process_info server", token))
    assert rows[0] == ["RESOURCE", "VALUE"]
    assert [row[0] for row in rows[1:4]] == ["Process ID", "Memory Usage", "Thread Count"]
    assert int(rows[3][1]) == len(rows) - 4
    assert rows == table(raw(flare, "process_info server", token))


# ------------------------------------------------------------------------------------------- client-only methods
def test_client_connected_clients_and_job_status(flare: FakeFlareServer, flare_session: Session) -> None:
    assert [c.name for c in flare_session.get_connected_client_list()] == ["site-1", "site-2"]
    no_jobs = {"app_name": "?", "job_id": "?", "status": "No Jobs"}
    assert flare_session.get_client_job_status() == [
        {"client_name": "site-1", **no_jobs},
        {"client_name": "site-2", **no_jobs},
    ]
    job_id = running_job(flare, flare_session)
    flare.sites.silence("site-2")
    assert flare_session.get_client_job_status(["site-2", "site-1"]) == [
        {"client_name": "site-2", "app_name": "?", "job_id": "?", "status": "No Reply"},
        {"client_name": "site-1", "app_name": "app", "job_id": job_id, "status": "started"},
    ]
    with pytest.raises(InvalidTarget, match=r"invalid client\(s\): site-7"):
        flare_session.get_client_job_status(["site-7"])
    with pytest.raises(TargetSyntaxError, match=r"^targets is not a list\.$"):
        flare_session.get_client_job_status("site-1")  # type: ignore[arg-type]
    flare.sites.disconnect()
    assert flare_session.get_connected_client_list() == []
    with pytest.raises(NoClientsAvailable):
        flare_session.get_client_job_status()


def test_client_service_providers(flare: FakeFlareServer, flare_session: Session) -> None:
    host, port = flare.address
    end_point = f"{host}:8002:{port}"
    primary = {
        "sp_end_point": end_point,
        "service_session_id": "ebc6125d-0a56-4688-9b08-355fe9e4d61a",
        "primary": True,
        "state": "online",
    }
    assert flare_session.list_sp() == {"primary_sp": primary, "sp_list": [primary], "system": "ready"}
    assert flare_session.get_active_sp() == {
        "name": host,
        "fl_port": "8002",
        "admin_port": str(port),
        "service_session_id": "ebc6125d-0a56-4688-9b08-355fe9e4d61a",
        "primary": True,
        "props": {},
    }
    dummy = "runtime error encountered: ERROR_RUNTIME: Error: this functionality is not supported by the dummy agent"
    with pytest.raises(OverseerError) as caught:
        flare_session.promote_sp("example.com:8002:8003")
    assert str(caught.value) == dummy and isinstance(caught.value, RuntimeError)
    for bad in ("example.com:8002", "exa mple.com:1:2", "-bad.com:1:2", 5):
        with pytest.raises(ArgumentSyntaxError, match=r"^sp_string must be of the format example\.com:8002:8003$"):
            flare_session.promote_sp(bad)  # type: ignore[arg-type]
    flare_session.close()
    for method in (flare_session.list_sp, flare_session.get_active_sp, lambda: flare_session.promote_sp("a:1:2")):
        with pytest.raises(SessionClosed):
            method()


def test_client_shutdown_system(
    flare: FakeFlareServer, flare_session: Session, flare_session_factory: SessionFactory
) -> None:
    with pytest.raises(OverseerError, match=r"^this functionality is not supported by the dummy agent$"):
        flare_session.shutdown_system()
    with pytest.raises(AuthorizationError) as caught:
        flare_session_factory(LEAD).shutdown_system()
    assert str(caught.value) == "user not authorized for the action 'admin_check_status server: '"
    running_job(flare, flare_session)
    with pytest.raises(JobNotDone, match=r"^there are still running jobs$"):
        flare_session.shutdown_system()
    assert flare.sites.connected() == ["site-1", "site-2"]  # nothing was shut down


def test_client_available_apps(flare_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flare_session, "upload_dir", str(tmp_path / "missing"))
    assert flare_session.get_available_apps_to_upload() == []
    for name in ("zeta", "alpha"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("not an app folder")
    monkeypatch.setattr(flare_session, "upload_dir", str(tmp_path))
    assert flare_session.get_available_apps_to_upload() == ["alpha", "zeta"]
