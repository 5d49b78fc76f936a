"""Fault injection: each fault kind, seen by our client over TLS and over the in-process transport."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer, FaultKind
from flare_api import ConnectionLost, InternalError, NoConnection, ProtocolError, Session
from flare_api.transport import Transport
from tests.helpers import assert_client_timed_out

pytestmark = pytest.mark.fake_flare_only


@pytest.fixture(params=[False, True], ids=["tls", "in_process"])
def session(request: pytest.FixtureRequest, flare: FakeFlareServer) -> Session:
    session = flare.session(in_process=request.param, timeout=1.0)
    yield session
    session.close()


def test_drop_raises_connection_lost_and_is_consumed(flare: FakeFlareServer, session: Session) -> None:
    flare.inject_fault("drop", command="check_status")
    with pytest.raises(ConnectionLost, match=r"connection closed before end of transmission \(0 bytes received\)"):
        session.get_system_info()
    assert isinstance(ConnectionLost("x"), InternalError)  # FLARE reports this as InternalError
    assert session.get_system_info().server_info.status == "stopped"  # the fault fired once
    assert flare.stats.faults_fired == 1


def test_fault_for_another_command_does_not_fire(flare: FakeFlareServer, session: Session) -> None:
    flare.inject_fault("drop", command="list_jobs")
    session.get_system_info()
    assert len(flare.faults) == 1
    with pytest.raises(ConnectionLost):
        session.list_jobs()
    assert len(flare.faults) == 0
    assert session.list_jobs() == []


def test_garbage_reply_is_a_protocol_error(flare: FakeFlareServer, session: Session) -> None:
    flare.inject_fault(FaultKind.GARBAGE)
    with pytest.raises(ProtocolError, match=r"invalid reply document .*document is not valid JSON"):
        session.get_system_info()


def test_empty_reply_is_a_protocol_error(flare: FakeFlareServer, session: Session) -> None:
    flare.inject_fault("empty")
    with pytest.raises(ProtocolError, match="server did not respond to 'check_status server'"):
        session.get_system_info()


def test_partial_reply(flare: FakeFlareServer, session: Session) -> None:
    flare.inject_fault("partial")
    with pytest.raises(ConnectionLost, match="connection closed before end of transmission"):
        session.get_system_info()


def test_reply_without_end_times_out_over_tls(flare: FakeFlareServer) -> None:
    host, port = flare.address
    transport = Transport(host, port, flare.provisioned.client_ssl_context("admin@nvidia.com"), timeout=0.2)
    flare.inject_fault("no_end", seconds=5.0)  # then the server closes: a client without a deadline sees that
    with pytest.raises(NoConnection, match=rf"waiting for the reply of admin server {host}:{port} failed") as caught:
        transport.request("_commands")
    assert_client_timed_out(str(caught.value), 0.2)


def test_delay_is_served_late_but_whole(flare: FakeFlareServer, session: Session) -> None:
    flare.inject_fault("delay", seconds=0.05, command="check_status")
    assert session.get_system_info().server_info.status == "stopped"


def test_delay_longer_than_the_timeout_fails(flare: FakeFlareServer) -> None:
    with flare.session(timeout=0.2) as session:
        flare.inject_fault("delay", seconds=2.0, command="check_status")
        with pytest.raises(ConnectionLost, match=r"failed after") as caught:
            session.get_system_info()
        assert_client_timed_out(str(caught.value), 0.2)


def test_tls_abort_fails_the_handshake(flare: FakeFlareServer, session: Session) -> None:
    flare.inject_fault("tls_abort")
    with pytest.raises(ConnectionLost):
        session.get_system_info()
    session.get_system_info()


def test_repeated_and_permanent_faults(flare: FakeFlareServer, session: Session) -> None:
    flare.inject_fault("drop", times=2)
    for _ in range(2):
        with pytest.raises(ConnectionLost):
            session.get_system_info()
    session.get_system_info()
    flare.inject_fault("empty", times=-1)
    for _ in range(3):
        with pytest.raises(ProtocolError):
            session.get_system_info()
    flare.reset()  # reset clears faults
    with flare.session() as fresh:
        fresh.get_system_info()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "bogus"}, "'bogus' is not a valid FaultKind"),
        ({"kind": "drop", "times": 0}, "times must be positive"),
        ({"kind": "delay"}, "fault delay needs seconds > 0"),
        ({"kind": "drop", "seconds": -1}, "seconds must not be negative"),
        ({"kind": "tls_abort", "command": "list_jobs"}, "fires before the command is known"),
    ],
)
def test_bad_fault_arguments(flare: FakeFlareServer, kwargs: dict, message: str) -> None:
    kwargs = dict(kwargs)  # the parametrized dict is shared: a second run in one process must see it whole
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError, match=message):
        flare.inject_fault(kind, **kwargs)
