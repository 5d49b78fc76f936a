"""Session details no other test pinned down (found by mutation testing): repr, readiness, login diagnostics,
FLARE's sample monitor callback, and the POC factory's arguments.

A scripted transport stands in for the server: each test says what the server answers to each command.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable, Optional

import pytest

from fakeserver import FakeFlareServer
from fakeserver.poc_kit import write_poc_admin_kit
from flare_api import Session, new_insecure_session
from flare_api.clock import VirtualClock
from flare_api.errors import AuthenticationError, InternalError, InvalidArgumentError, NoConnection, SessionClosed
from flare_api.monitor import basic_cb_with_print
from flare_api.wire import Document, Item

Answer = Callable[[str, Optional[str]], Optional[Document]]

TABLE = [
    ["SCOPE", "COMMAND", "DESCRIPTION", "USAGE", "CONFIRM", "CLIENTCMD", "VISIBLE"],
    ["job_mgmt", "list_jobs", "list jobs", "list_jobs", "none", None, "True"],
    ["training", "check_status", "check status", "check_status server|client", "none", None, "True"],
]


class Scripted:
    """A RequestTransport whose replies come from ``answer(line, token)``; it records what was sent."""

    def __init__(self, answer: Answer) -> None:
        self.host, self.port, self.timeout = "127.0.0.9", 8003, 5.0
        self.answer = answer
        self.sent: list[tuple[str, Optional[str], Optional[float]]] = []

    def request(self, line: str, token: Optional[str] = None, *, timeout: Optional[float] = None) -> Optional[Document]:
        self.sent.append((line, token, timeout))
        return self.answer(line, token)


def healthy(line: str, token: Optional[str]) -> Optional[Document]:
    if line.startswith("_login"):
        return Document([Item.string("OK"), Item.token("tok-1")])
    if line == "_commands":
        return Document([Item.table(TABLE)])
    return Document([Item.string("fine"), Item.success()], meta={"status": "ok", "info": ""})


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    return write_poc_admin_kit(tmp_path / "admin", "127.0.0.9", 8003)


def session(kit: Path, answer: Answer = healthy, **kwargs: object) -> tuple[Session, Scripted]:
    transport = Scripted(answer)
    return Session("admin", kit, secure_mode=False, transport=transport, **kwargs), transport  # type: ignore[arg-type]


def test_repr_names_user_address_and_state(kit: Path) -> None:
    s, _ = session(kit)
    assert repr(s) == "<Session admin @ 127.0.0.9:8003 (not connected)>"
    assert not s.is_ready()
    s.try_connect(1.0)
    assert repr(s) == "<Session admin @ 127.0.0.9:8003 (ready)>"
    assert s.is_ready() and s.token == "tok-1" and s.host == "127.0.0.9" and s.port == 8003
    s.close()
    assert repr(s) == "<Session admin @ 127.0.0.9:8003 (closed)>"
    assert not s.is_ready() and s.closed


def test_is_ready_needs_token_and_command_list(kit: Path) -> None:
    s, _ = session(kit)
    s.try_connect(1.0)
    s._commands = None  # the command list alone missing is enough
    assert not s.is_ready()


def test_login_sends_the_poc_line_bounded_by_the_transport_timeout(kit: Path) -> None:
    s, transport = session(kit)
    s.try_connect(60.0)
    assert transport.sent[0] == ("_login admin admin", None, 5.0)
    assert transport.sent[1] == ("_commands", "tok-1", 5.0)


def test_login_without_a_result_reports_the_reply_texts(kit: Path) -> None:
    def answer(line: str, token: Optional[str]) -> Optional[Document]:
        return Document([Item.error("boom"), Item.string("late")])

    s, transport = session(kit, answer)
    with pytest.raises(NoConnection) as info:
        s.try_connect(0)
    message = str(info.value)
    assert message.startswith("cannot connect to FLARE in 0 seconds (127.0.0.9:8003, ")
    assert message.endswith("s elapsed): login got no answer: boom; late")
    assert len(transport.sent) == 1


@pytest.mark.parametrize(
    ("reply", "described"),
    [(None, "no reply document"), (Document([Item.table([["a"]])]), "no text in reply")],
)
def test_login_failure_descriptions(kit: Path, reply: Optional[Document], described: str) -> None:
    s, _ = session(kit, lambda line, token: reply)
    with pytest.raises(NoConnection, match=f"login got no answer: {described}$"):
        s.try_connect(0)


def test_a_missing_command_list_is_reported(kit: Path) -> None:
    def answer(line: str, token: Optional[str]) -> Optional[Document]:
        if line == "_commands":
            return Document([Item.string("no table"), Item.error("denied")])
        return healthy(line, token)

    s, _ = session(kit, answer)
    with pytest.raises(NoConnection, match=r"Can't fetch command list from server: no table; denied$"):
        s.try_connect(0)
    assert not s.is_ready() and s.token is None


def test_login_result_is_the_last_string_before_an_error(kit: Path) -> None:
    """FLARE reads the last string before the first error; a token after the error is ignored."""

    def answer(line: str, token: Optional[str]) -> Optional[Document]:
        if line.startswith("_login"):
            return Document([Item.string("REJECT"), Item.string("OK"), Item.error("x"), Item.token("t2")])
        return healthy(line, token)

    s, transport = session(kit, answer)
    s.try_connect(1.0)
    assert s.token is None and s.is_ready() is False
    assert transport.sent[1][:2] == ("_commands", None)


def test_reject_raises_authentication_error_and_closes(kit: Path) -> None:
    s, _ = session(kit, lambda line, token: Document([Item.string("REJECT")]))
    with pytest.raises(AuthenticationError, match=r"ERROR_AUTHENTICATION: Incorrect user name or password \('admin'\)"):
        s.try_connect(5.0)
    assert s.closed
    with pytest.raises(SessionClosed):
        s.try_connect(5.0)


@pytest.mark.parametrize("timeout", [-1, True, "1"])
def test_try_connect_refuses_bad_timeouts(kit: Path, timeout: object) -> None:
    s, _ = session(kit)
    with pytest.raises(InvalidArgumentError):
        s.try_connect(timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [0, -2.0, True])
def test_constructor_refuses_bad_request_timeouts(kit: Path, timeout: object) -> None:
    with pytest.raises(InvalidArgumentError, match="timeout must be a positive number"):
        session(kit, timeout=timeout)


def test_commands_property_needs_a_login(kit: Path) -> None:
    s, _ = session(kit)
    with pytest.raises(SessionClosed, match="not logged in"):
        _ = s.commands


def test_logout_sends_logout_once_and_closes(kit: Path) -> None:
    s, transport = session(kit)
    s.try_connect(1.0)
    s.logout()
    assert transport.sent[-1][:2] == ("_logout", "tok-1") and s.closed
    s.logout()
    assert [line for line, _, _ in transport.sent].count("_logout") == 1


def test_logout_before_login_sends_nothing(kit: Path) -> None:
    s, transport = session(kit)
    s.logout()
    assert transport.sent == [] and s.closed


def test_new_insecure_session_passes_its_arguments(kit: Path) -> None:
    transport = Scripted(healthy)
    clock = VirtualClock()
    s = new_insecure_session(kit, debug=True, timeout=3.0, clock=clock, request_timeout=2.5, transport=transport)
    assert s.username == "admin" and s.secure_mode is False and s.debug and s.clock is clock and s.is_ready()


def test_factories_keep_flares_signature_defaults() -> None:
    """FLARE 2.3: ``new_insecure_session(startup_kit_location, debug=False, timeout=10.0)``."""
    params = inspect.signature(new_insecure_session).parameters
    assert (params["debug"].default, params["timeout"].default, params["request_timeout"].default) == (
        False,
        10.0,
        10.0,
    )


def test_new_insecure_session_builds_its_transport_with_the_request_timeout() -> None:
    with FakeFlareServer(secure=False, clock=VirtualClock()) as server:
        s = new_insecure_session(server.startup_kit(), timeout=5.0, request_timeout=2.5)
        assert s._transport.timeout == 2.5 and s.is_ready()
        assert new_insecure_session(server.startup_kit())._transport.timeout == 10.0


def test_new_insecure_session_defaults(kit: Path) -> None:
    s = new_insecure_session(kit, transport=Scripted(healthy))
    assert not s.debug and s.is_ready()


# ----------------------------------------------------------------------------------------------- basic_cb_with_print
def test_basic_cb_with_print_prints_like_flare(capsys: pytest.CaptureFixture[str]) -> None:
    counter = {"count": 0}
    running = {"status": "RUNNING"}
    for _ in range(4):
        assert basic_cb_with_print(None, "J", running, cb_run_counter=counter) is True
    assert basic_cb_with_print(None, "J", {"status": "FINISHED:COMPLETED"}, cb_run_counter=counter) is True
    assert counter["count"] == 5
    out = capsys.readouterr().out
    assert out == "{'status': 'RUNNING'}\n" * 3 + "." + "\n{'status': 'FINISHED:COMPLETED'}\n"


@pytest.mark.parametrize("kwargs", [{}, {"cb_run_counter": {}}, {"cb_run_counter": 3}])
def test_basic_cb_with_print_needs_the_counter(kwargs: dict) -> None:
    with pytest.raises(InvalidArgumentError, match="cb_run_counter"):
        basic_cb_with_print(None, "J", {"status": "RUNNING"}, **kwargs)


# ----------------------------------------------------------------------------------------------- get_system_info
def status_reply(meta: dict) -> Answer:
    def answer(line: str, token: Optional[str]) -> Optional[Document]:
        if line == "check_status server":
            return Document([Item.string("Engine status: started"), Item.success()], meta={"status": "ok", **meta})
        return healthy(line, token)

    return answer


def test_get_system_info_reads_every_field(kit: Path) -> None:
    meta = {
        "server_status": "started",
        "server_start_time": 1.5,
        "clients": [{"client_name": "site-1", "client_last_conn_time": 2.5}],
        "jobs": [{"app_name": "app", "job_id": "J"}],
    }
    s, _ = session(kit, status_reply(meta))
    s.try_connect(1.0)
    info = s.get_system_info()
    assert (info.server_info.status, info.server_info.start_time) == ("started", 1.5)
    assert [(c.name, c.last_connect_time) for c in info.client_info] == [("site-1", 2.5)]
    assert [(j.app_name, j.job_id) for j in info.job_info] == [("app", "J")]


def test_get_system_info_without_clients_or_jobs(kit: Path) -> None:
    s, _ = session(kit, status_reply({"server_status": "started", "server_start_time": 1.0}))
    s.try_connect(1.0)
    info = s.get_system_info()
    assert info.client_info == [] and info.job_info == []


def test_get_system_info_names_the_missing_meta(kit: Path) -> None:
    s, _ = session(kit, status_reply({"server_status": "started"}))
    s.try_connect(1.0)
    with pytest.raises(InternalError, match=r"^check_status reply lacks expected meta 'server_start_time': \{"):
        s.get_system_info()


def test_shutdown_item_factory() -> None:
    assert Item.shutdown("bye").to_json() == {"type": "shutdown", "data": "bye"}
