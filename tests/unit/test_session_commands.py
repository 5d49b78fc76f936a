"""Session details no other fast test pins down: the certificate login's refusal, ``do_command`` with
``raise_errors=False`` (FLARE's dict for a missing reply, its errors before sending), the debug trace of
each request, and ``new_secure_session``'s arguments and interception (FLARE 2.3's
``new_secure_session(username, startup_kit_location, debug=False, timeout=10.0)``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import pytest

from fakeserver import FakeFlareServer
from fakeserver.poc_kit import write_poc_admin_kit
from flare_api import Session, intercept, new_secure_session
from flare_api.clock import VirtualClock
from flare_api.errors import AuthenticationError, ConnectionLost, InvalidArgumentError, NoConnection, SessionClosed
from flare_api.versions import FlareVersion, detect_flare_version
from flare_api.wire import Document, Item

from .test_session_unit import TABLE, Scripted, healthy

USER = "admin@nvidia.com"


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    """A secure kit's layout (``with_ssl`` and its three file names); the scripted transport needs no
    certificate, so the files only have to exist."""
    kit = write_poc_admin_kit(tmp_path / "admin", "127.0.0.9", 8003)
    config_path = kit / "startup" / "fed_admin.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    names = {"ca_cert": "rootCA.pem", "client_cert": "client.crt", "client_key": "client.key"}
    config["admin"].update(with_ssl=True, cred_type="cert", **names)
    config_path.write_text(json.dumps(config), encoding="utf-8")
    for name in names.values():
        (kit / "startup" / name).write_text("unused\n", encoding="utf-8")
    return kit


def _cert_healthy(line: str, token: Optional[str]) -> Optional[Document]:
    """A server that accepts the certificate login and answers everything else like ``healthy``."""
    if line.startswith("_cert_login"):
        return Document([Item.string("OK"), Item.token("tok-1")])
    return healthy(line, token)


def _secure(kit: Path, transport: Scripted, **kwargs: object) -> Session:
    return Session(USER, kit, secure_mode=True, transport=transport, **kwargs)  # type: ignore[arg-type]


def test_a_rejected_certificate_login_names_flares_status_and_text(kit: Path) -> None:
    transport = Scripted(lambda line, token: Document([Item.string("REJECT")]))
    s = _secure(kit, transport)
    with pytest.raises(AuthenticationError) as info:
        s.try_connect(1.0)
    assert str(info.value) == (
        "user not authenticated: ERROR_CERT: Incorrect user name or certificate ('admin@nvidia.com')"
    )
    assert [(line, token) for line, token, _ in transport.sent] == [(f"_cert_login {USER}", None)]
    with pytest.raises(SessionClosed):
        s.try_connect(1.0)


def test_do_command_without_raising_returns_flares_dict_for_a_missing_reply(kit: Path) -> None:
    def silent(line: str, token: Optional[str]) -> Optional[Document]:
        return None if line == "check_status server" else _cert_healthy(line, token)

    transport = Scripted(silent)
    s = _secure(kit, transport)
    s.try_connect(1.0)
    assert s.do_command("check_status server", raise_errors=False) == {
        "status": "ERROR_SERVER_CONNECTION",
        "details": "Server did not respond",
    }
    assert transport.sent[-1] == ("check_status server", "tok-1", None)


def test_do_command_without_raising_still_refuses_a_closed_or_new_session(kit: Path) -> None:
    transport = Scripted(_cert_healthy)
    s = _secure(kit, transport)
    with pytest.raises(SessionClosed) as info:
        s.do_command("list_jobs", raise_errors=False)
    assert str(info.value) == "the session is not logged in; call try_connect(timeout) first"
    s.try_connect(1.0)
    s.close()
    with pytest.raises(SessionClosed) as info:
        s.do_command("list_jobs", raise_errors=False)
    assert str(info.value) == "session closed"
    assert [line for line, _, _ in transport.sent] == [f"_cert_login {USER}", "_commands"]


def test_do_command_without_raising_reports_a_lost_connection_with_the_transports_text(kit: Path) -> None:
    def lost(line: str, token: Optional[str]) -> Optional[Document]:
        if line == "list_jobs":
            raise NoConnection("connecting to admin server 127.0.0.9:8003 failed after 0.01 s: refused")
        return _cert_healthy(line, token)

    s = _secure(kit, Scripted(lost))
    s.try_connect(1.0)
    with pytest.raises(ConnectionLost) as info:
        s.do_command("list_jobs", raise_errors=False)
    assert str(info.value) == "connecting to admin server 127.0.0.9:8003 failed after 0.01 s: refused"


def test_debug_traces_every_request_and_its_reply(kit: Path, caplog: pytest.LogCaptureFixture) -> None:
    ok = Document([Item.string("OK"), Item.token("tok-1")], time="t1")
    table = Document([Item.table(TABLE)], time="t2")
    fine = Document([Item.string("fine"), Item.success()], meta={"status": "ok", "info": ""}, time="t3")
    replies = {f"_cert_login {USER}": ok, "_commands": table, "check_status server": fine}
    s = _secure(kit, Scripted(lambda line, token: replies[line]), debug=True)
    with caplog.at_level(logging.INFO, logger="flare_api"):
        s.try_connect(1.0)
        s.do_command("check_status server", raise_errors=False)
    assert [record.getMessage() for record in caplog.records] == [
        f"_cert_login {USER} -> {ok.to_json()}",
        f"_commands -> {table.to_json()}",
        f"check_status server -> {fine.to_json()}",
    ]


def test_a_command_without_meta_is_returned_when_meta_is_not_enforced(kit: Path) -> None:
    bare = Document([Item.string("site-1 replied")])

    def no_meta(line: str, token: Optional[str]) -> Optional[Document]:
        return bare if line == "check_status client" else _cert_healthy(line, token)

    s = _secure(kit, Scripted(no_meta))
    s.try_connect(1.0)
    assert s._command("check_status", "client", enforce_meta=False) is bare


def test_new_secure_session_routes_through_the_interceptor_for_its_kit(kit: Path) -> None:
    transport = Scripted(_cert_healthy)
    clock = VirtualClock()
    asked: list[tuple[Path, float]] = []

    def resolver(kit_path: Path, timeout: float) -> Optional[intercept.Route]:
        asked.append((kit_path, timeout))
        return intercept.Route(transport, clock)

    intercept.register(resolver)
    try:
        s = new_secure_session(USER, kit, timeout=3.0, request_timeout=2.5)
        default = new_secure_session(USER, kit)
        own_clock = VirtualClock()
        chosen = new_secure_session(USER, kit, clock=own_clock)
    finally:
        intercept.unregister(resolver)
    assert asked == [(kit.resolve(), 2.5), (kit.resolve(), 10.0), (kit.resolve(), 10.0)]
    assert s.clock is clock and default.clock is clock and chosen.clock is own_clock
    assert s.is_ready() and s.username == USER and s.secure_mode is True and s.debug is False
    line, token, wait = transport.sent[0]
    assert (line, token) == (f"_cert_login {USER}", None) and wait == pytest.approx(3.0, abs=0.5)
    assert default.debug is False


def test_a_transport_given_to_new_secure_session_bypasses_the_interceptors(kit: Path) -> None:
    asked: list[Path] = []

    def resolver(kit_path: Path, timeout: float) -> Optional[intercept.Route]:
        asked.append(kit_path)
        return intercept.Route(Scripted(_cert_healthy), VirtualClock())

    transport = Scripted(_cert_healthy)
    intercept.register(resolver)
    try:
        s = new_secure_session(USER, kit, debug=True, transport=transport)
    finally:
        intercept.unregister(resolver)
    assert asked == []
    assert s._transport is transport and s.debug is True and s.is_ready()
    assert transport.sent[0] == (f"_cert_login {USER}", None, 5.0)  # the login wait, bounded by the transport's


def test_login_reads_the_token_only_from_token_items(kit: Path) -> None:
    """FLARE's login loop: string items give the result, token items the token, other items are ignored."""
    reply = Document([Item.string("OK"), Item.token("tok-1"), Item.success("done"), Item.command("x")])
    transport = Scripted(lambda line, token: reply if line.startswith("_cert_login") else _cert_healthy(line, token))
    s = _secure(kit, transport)
    s.try_connect(1.0)
    assert s.token == "tok-1"
    assert transport.sent[1][:2] == ("_commands", "tok-1")


def test_new_secure_session_builds_its_transport_with_the_request_timeout() -> None:
    with FakeFlareServer(clock=VirtualClock(), intercept=False) as server:
        s = new_secure_session(USER, server.startup_kit(USER), timeout=5.0, request_timeout=2.5)
        try:
            assert s._transport.timeout == 2.5 and s.is_ready() and s.debug is False
        finally:
            s.logout()


def test_try_connect_refusals_name_the_problem(kit: Path) -> None:
    s = _secure(kit, Scripted(_cert_healthy))
    with pytest.raises(InvalidArgumentError) as info:
        s.try_connect(-1)
    assert str(info.value) == "timeout must be a non-negative number of seconds, got -1"
    s.close()
    with pytest.raises(SessionClosed) as closed:
        s.try_connect(1.0)
    assert str(closed.value) == "session closed"


def test_login_reads_the_flare_version_from_the_command_table(kit: Path) -> None:
    s = _secure(kit, Scripted(_cert_healthy))
    s.try_connect(1.0)
    assert s.flare_version is detect_flare_version(s.commands) is FlareVersion.V2_4  # lacks 2.3-only commands


def test_a_zero_timeout_still_makes_one_login_attempt_with_the_minimum_wait(kit: Path) -> None:
    transport = Scripted(_cert_healthy)
    s = _secure(kit, transport)
    s.try_connect(0)
    assert s.is_ready()
    assert transport.sent[0] == (f"_cert_login {USER}", None, 0.05)
