"""Connections that never authenticate or never ask cannot starve the TLS listener (docs/robustness.md).

Outcomes and the server's counters only: a flood is held open while legitimate calls are answered by a
server with two workers, and tiny gate deadlines (constructor options) close the flood by themselves.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer
from fakeserver.serving import listener
from flare_api import VirtualClock
from tests.helpers import ADMIN, raw

pytestmark = pytest.mark.fake_flare_only

FLOOD = 100


@pytest.fixture
def small(tmp_path: Path) -> Iterator[FakeFlareServer]:
    """A server with two workers: any connection that held a worker would starve it at once."""
    with FakeFlareServer(workspace=tmp_path, clock=VirtualClock(), max_connections=2) as server:
        yield server


def _answers(server: FakeFlareServer) -> bool:
    return raw(server, f"_cert_login {ADMIN}").items[0].data == "OK"


@contextlib.contextmanager
def _plain_flood(server: FakeFlareServer, count: int, first: bytes = b"") -> Iterator[list[socket.socket]]:
    """``count`` TCP connections that never complete (or never start) a TLS handshake."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.create_connection(server.address, timeout=10)) for _ in range(count)]
        for sock in socks:
            if first:
                sock.sendall(first)
        yield socks


def test_tls_less_connections_take_no_worker(small: FakeFlareServer) -> None:
    with _plain_flood(small, FLOOD):
        assert all(_answers(small) for _ in range(5))
        # the kernel hands connections over in order: all the flood was accepted before the first call
        assert small.stats.accepted == FLOOD + 5
        assert small.stats.requests == 5
        assert small.stats.handshake_failures == 0  # the flood is still open, waiting in the gate
    assert small.wait_until(lambda: small.stats.handshake_failures == FLOOD, timeout=30)
    assert small.errors == []


def test_half_handshakes_take_no_worker(small: FakeFlareServer) -> None:
    """A TLS record header and nothing more: the handshake has begun and stalls."""
    with _plain_flood(small, FLOOD, first=b"\x16\x03\x01\x02\x00"):
        assert all(_answers(small) for _ in range(3))
        assert small.stats.handshake_failures == 0
    assert small.wait_until(lambda: small.stats.handshake_failures == FLOOD, timeout=30)


def test_idle_authenticated_connections_take_no_worker(small: FakeFlareServer) -> None:
    context = small.provisioned.client_ssl_context(ADMIN)
    with contextlib.ExitStack() as stack:
        for _ in range(10):
            plain = stack.enter_context(socket.create_connection(small.address, timeout=10))
            stack.enter_context(context.wrap_socket(plain))  # handshake done, request never sent
        assert all(_answers(small) for _ in range(3))
        assert small.stats.requests == 3
        assert small.stats.handshake_failures == 0


def test_gate_deadlines_close_the_flood(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny deadlines: a stalled handshake and a silent authenticated connection are both closed."""
    monkeypatch.setattr(listener, "DEFAULT_FIRST_BYTE_TIMEOUT", 0.05)
    with FakeFlareServer(workspace=tmp_path, max_connections=2, handshake_timeout=0.05) as server:
        context = server.provisioned.client_ssl_context(ADMIN)
        plain = socket.create_connection(server.address, timeout=10)
        with _plain_flood(server, 20), context.wrap_socket(plain) as idle:
            assert server.wait_until(lambda: server.stats.handshake_failures == 20, timeout=30)
            assert server.wait_until(lambda: server.stats.idle_closed == 1, timeout=30)
            assert idle.recv(1) == b""  # the server hung up on the silent client
        assert all("not completed" in error for error in server.handshake_errors)
        assert _answers(server)
        assert server.stats.read_failures == 0


def test_a_full_gate_cuts_its_oldest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener, "DEFAULT_MAX_PENDING", 10)
    with FakeFlareServer(workspace=tmp_path, max_connections=2) as server, _plain_flood(server, 30) as flood:
        assert _answers(server)  # the newest connection gets in; the oldest waiters are cut
        assert server.stats.evicted >= 20
        assert flood[0].recv(1) == b""


def test_stop_cuts_a_connection_in_its_handshake(tmp_path: Path) -> None:
    """``stop`` does not wait for a handshake's deadline: it closes the connections in the gate."""
    server = FakeFlareServer(workspace=tmp_path, handshake_timeout=600)
    server.start()
    try:
        with _plain_flood(server, 3, first=b"\x16\x03\x01\x02\x00") as flood:
            assert _answers(server)  # the three are in the gate now
            server.stop()
            for sock in flood:
                with contextlib.suppress(ConnectionResetError):
                    assert sock.recv(1) == b""
    finally:
        server.stop()


def test_the_facade_passes_its_connection_limits_to_the_listener() -> None:
    with pytest.raises(ValueError, match="max_pending"):
        FakeFlareServer(max_pending=0)
    with pytest.raises(ValueError, match="first_byte_timeout"):
        FakeFlareServer(first_byte_timeout=0)
