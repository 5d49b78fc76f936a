"""Login, sessions and tokens over real TLS on loopback, seen from both the client and the server."""

from __future__ import annotations

import socket
import ssl
from types import SimpleNamespace

import pytest

from fakeserver import FakeFlareServer, provision
from fakeserver.protocol import messages as msg
from fakeserver.provision import AdminUser, client_ssl_context_from_pem
from flare_api import (
    AuthenticationError,
    FlareError,
    NoConnection,
    Session,
    SessionClosed,
    SessionInactive,
    VirtualClock,
    new_secure_session,
)
from flare_api.transport import Transport
from flare_api.wire import ItemType
from tests.helpers import ADMIN, USERS, assert_client_timed_out, login, raw, wire

pytestmark = pytest.mark.fake_flare_only


@pytest.mark.parametrize("user", USERS)
def test_every_default_user_logs_in_and_gets_system_info(flare: FakeFlareServer, user: str) -> None:
    with new_secure_session(user, flare.startup_kit(user), timeout=5.0) as session:
        info = session.get_system_info()
    assert info.server_info.status == "stopped"
    assert [c.name for c in info.client_info] == ["site-1", "site-2"]
    sessions = flare.sessions.all()
    assert [(s.user_name, s.org, s.role) for s in sessions] == [
        (user, flare.project.admin(user).org, flare.project.admin(user).role)
    ]


def test_cert_login_reply_on_the_wire(flare: FakeFlareServer) -> None:
    reply = raw(flare, f"_cert_login {ADMIN}")
    assert [i.type for i in reply.items] == [ItemType.STRING, ItemType.TOKEN]
    assert reply.items[0].data == "OK"
    assert reply.meta == {}
    token = reply.items[1].data
    assert isinstance(token, str) and len(token) == 36


@pytest.mark.parametrize(
    "line",
    [
        "_cert_login lead@nvidia.com",  # a name that is not the certificate's CN
        "_cert_login ADMIN@nvidia.com",  # CN comparison is case-sensitive
        "_cert_login",  # wrong number of args
        f"_cert_login {ADMIN} extra",
    ],
)
def test_cert_login_rejects_on_the_wire(flare: FakeFlareServer, line: str) -> None:
    reply = raw(flare, line)
    assert wire(reply) == [{"type": "string", "data": "REJECT"}]
    assert reply.meta == {}
    assert len(flare.sessions) == 0


def session_time(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> list[float]:
    """Run ``Session.try_connect``'s retry loop on ``clock``; returns the list of the pauses it takes."""
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        clock.sleep(seconds)

    monkeypatch.setattr("flare_api.session.time", SimpleNamespace(monotonic=clock.monotonic, sleep=sleep))
    return pauses


def test_login_with_a_name_that_is_not_the_cn_raises_authentication_error_at_once(
    flare: FakeFlareServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = flare.startup_kit(ADMIN)
    session = Session("lead@nvidia.com", kit)
    pauses = session_time(monkeypatch, VirtualClock())
    with pytest.raises(AuthenticationError, match="Incorrect user name or certificate"):
        session.try_connect(30.0)
    assert pauses == []  # no retry: not after the 30 s timeout, as FLARE would
    assert session.closed
    assert len(flare.sessions) == 0
    with pytest.raises(SessionClosed):
        session.try_connect(1.0)


def test_password_login_is_refused_by_a_secure_server(flare: FakeFlareServer) -> None:
    assert wire(raw(flare, "_login admin admin")) == [{"type": "string", "data": "REJECT"}]


def test_client_without_certificate_fails_the_handshake(flare: FakeFlareServer) -> None:
    context = ssl.create_default_context(cafile=str(flare.provisioned.root_ca_path))
    context.check_hostname = False
    host, port = flare.address
    before = flare.stats.handshake_failures
    with pytest.raises(NoConnection, match=rf"{host}:{port}"):
        Transport(host, port, context, timeout=5.0).request(f"_cert_login {ADMIN}")
    assert flare.wait_until(lambda: flare.stats.handshake_failures == before + 1)
    assert "certificate" in flare.handshake_errors[-1].lower()
    assert len(flare.sessions) == 0


def test_certificate_from_a_foreign_ca_is_refused(flare: FakeFlareServer, tmp_path) -> None:
    foreign = provision(workspace=tmp_path / "foreign")
    cert = (foreign.kit(ADMIN) / "startup" / "client.crt").read_bytes()
    key = (foreign.kit(ADMIN) / "startup" / "client.key").read_bytes()
    context = client_ssl_context_from_pem(flare.provisioned.ca_cert_pem, cert, key)
    host, port = flare.address
    before = flare.stats.handshake_failures
    with pytest.raises(NoConnection, match=rf"{host}:{port}"):
        Transport(host, port, context, timeout=5.0).request(f"_cert_login {ADMIN}")
    assert flare.wait_until(lambda: flare.stats.handshake_failures == before + 1)
    assert "certificate verify failed" in flare.handshake_errors[-1]
    # and through the Session: a kit whose CA does not know the server's certificate
    with pytest.raises(NoConnection, match=r"cannot connect to FLARE in 1\.0 seconds"):
        new_secure_session(ADMIN, foreign.kit(ADMIN), timeout=1.0)


def test_certificate_without_org_and_role_logs_in_but_cannot_be_authorized(flare: FakeFlareServer) -> None:
    user = AdminUser("nobody@nvidia.com", "nvidia", "member")
    cert, key = flare.provisioned.issue_admin_certificate(user, include_org=False, include_role=False)
    host, port = flare.address
    transport = Transport(host, port, client_ssl_context_from_pem(flare.provisioned.ca_cert_pem, cert, key))
    reply = transport.request("_cert_login nobody@nvidia.com")
    assert reply is not None and reply.items[0].data == "OK"
    token = reply.items[1].data
    reply = transport.request("check_status server", token)
    assert reply is not None
    assert wire(reply) == [
        {"type": "error", "data": "Exception Occurred: TypeError: User org must be a str but got <class 'NoneType'>"}
    ]
    assert flare.errors == []  # a reproduced FLARE crash, not a bug of ours


def test_missing_token(flare: FakeFlareServer) -> None:
    reply = raw(flare, "check_status server")
    assert wire(reply) == [{"type": "error", "data": "not authenticated - no token"}]
    assert reply.meta == {"status": "error", "info": "not authenticated - no token"}


def test_unknown_token(flare: FakeFlareServer) -> None:
    reply = raw(flare, "check_status server", token="no-such-token")
    assert wire(reply) == [
        {"type": "error", "data": "session_inactive"},
        {
            "type": "string",
            "data": "user not authenticated or session timed out after 3600 seconds of inactivity - logged out",
        },
    ]
    assert reply.meta == {"status": "error", "info": "session_inactive"}


def test_token_expires_after_the_idle_timeout_on_the_virtual_clock(
    flare: FakeFlareServer, flare_clock: VirtualClock
) -> None:
    token = login(flare)
    flare_clock.advance(3599)
    assert raw(flare, "check_status server", token).meta["status"] == "ok"  # activity resets the idle time
    flare_clock.advance(3600)
    assert raw(flare, "check_status server", token).meta["status"] == "ok"  # exactly the timeout: still alive
    flare_clock.advance(3600.5)
    reply = raw(flare, "check_status server", token)
    assert [i.data for i in reply.items] == [
        msg.SESSION_INACTIVE,
        msg.SESSION_TIMED_OUT_FILTER.format(timeout=3600),
    ]


def test_expired_session_raises_session_inactive_through_the_client(flare_session: Session, flare_clock) -> None:
    flare_clock.advance(3601)
    with pytest.raises(SessionInactive, match=r"server internal error \(error\): session_inactive") as caught:
        flare_session.get_system_info()
    assert isinstance(caught.value, FlareError)


def test_check_session_does_not_refresh_and_uses_its_own_wording(flare: FakeFlareServer, flare_clock) -> None:
    token = login(flare)
    assert wire(raw(flare, "_check_session", token)) == [{"type": "string", "data": "OK"}]
    flare_clock.advance(2000)
    raw(flare, "_check_session", token)  # does not count as activity
    flare_clock.advance(2000)
    reply = raw(flare, "_check_session", token)
    assert wire(reply) == [
        {"type": "error", "data": "session_inactive"},
        {"type": "string", "data": "admin client session timed out after 3600 seconds of inactivity - logging out"},
    ]
    assert reply.meta == {"status": "error", "info": "session_inactive"}
    assert wire(raw(flare, "_check_session"))[0] == {"type": "error", "data": "session_inactive"}


def test_logout_ends_the_session(flare: FakeFlareServer) -> None:
    token = login(flare)
    assert wire(raw(flare, "_logout", token)) == [{"type": "string", "data": "OK"}]
    assert raw(flare, "check_status server", token).items[0].data == "session_inactive"
    assert wire(raw(flare, "_logout")) == [{"type": "error", "data": "not authenticated - no token"}]


def test_scoped_login_name_does_not_skip_the_login_filter(flare: FakeFlareServer) -> None:
    # FLARE's login filter compares args[0] as typed with the bare names.
    assert wire(raw(flare, f"login._cert_login {ADMIN}")) == [{"type": "error", "data": "not authenticated - no token"}]


def test_session_logout_method(flare_session: Session, flare: FakeFlareServer) -> None:
    flare_session.logout()
    assert flare_session.closed
    assert len(flare.sessions) == 0
    with pytest.raises(SessionClosed, match="session closed"):
        flare_session.get_system_info()


def test_close_is_local_and_idempotent(flare_session: Session, flare: FakeFlareServer) -> None:
    flare_session.close()
    flare_session.close()
    assert len(flare.sessions) == 1  # like FLARE: no _logout on close
    with pytest.raises(SessionClosed, match="session closed"):
        flare_session.get_system_info()


def test_refused_connection_raises_no_connection_naming_host_port_and_time(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeFlareServer(workspace=tmp_path) as server:
        kit = server.startup_kit(ADMIN)
        host, port = server.address
    # the server is gone: its port refuses connections
    pauses = session_time(monkeypatch, VirtualClock())
    with pytest.raises(NoConnection) as caught:
        new_secure_session(ADMIN, kit, timeout=0.3)
    # one attempt, one pause to just past the timeout, one last attempt, then it gives up
    assert pauses == [pytest.approx(0.31)]
    text = str(caught.value)
    assert "cannot connect to FLARE in 0.3 seconds" in text
    assert f"{host}:{port}" in text and "0.31 s elapsed" in text
    assert "ConnectionRefusedError" in text


def test_silent_server_times_out_with_no_connection(tmp_path) -> None:
    with FakeFlareServer(workspace=tmp_path) as server:
        kit = server.startup_kit(ADMIN)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    try:
        host, port = listener.getsockname()
        transport = Transport(host, port, None, timeout=0.2)
        with pytest.raises(NoConnection, match=rf"{host}:{port} failed after \d+\.\d\d s") as caught:
            transport.request("_commands")
        assert_client_timed_out(str(caught.value), 0.2)  # the listener never answers nor closes
    finally:
        listener.close()
    assert kit.is_dir()


def test_poc_mode_logs_in_with_admin_admin(tmp_path) -> None:
    from flare_api import new_insecure_session

    with FakeFlareServer(workspace=tmp_path, secure=False) as server:
        with new_insecure_session(server.startup_kit(), timeout=5.0) as session:
            assert session.get_system_info().server_info.status == "stopped"
        (only,) = server.sessions.all()
        assert (only.user_name, only.org, only.role) == ("admin", "global", "super")
        assert wire(raw(server, "_login admin wrong")) == [{"type": "string", "data": "REJECT"}]
        assert wire(raw(server, f"_cert_login {ADMIN}")) == [{"type": "string", "data": "REJECT"}]
        server.raise_errors()
