"""One respond path: TLS and the in-process transport send the same bytes for the same request, whatever
the fault, the size or the encoding; and the listener's own defects (leaked TLS wrapper, racy stats)."""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
from collections.abc import Iterator
from typing import Any, Optional

import pytest

from fakeserver import FakeFlareServer
from flare_api import NoConnection
from flare_api.wire import Document, encode_stream
from tests.helpers import ADMIN

pytestmark = pytest.mark.fake_flare_only

LIMIT = 1000


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    """A server refusing requests above ``LIMIT`` bytes."""
    with FakeFlareServer(workspace=tmp_path_factory.mktemp("respond"), max_request_bytes=LIMIT) as server:
        yield server


@pytest.fixture
def server(small: FakeFlareServer) -> Iterator[FakeFlareServer]:
    small.reset()
    yield small
    small.raise_errors()


def _request(line: str) -> bytes:
    return encode_stream([Document.request(line).to_json()])


def _over_tls(server: FakeFlareServer, payload: bytes) -> bytes:
    """Send ``payload`` over mutual TLS and return every byte received until the server closes."""
    context = server.provisioned.client_ssl_context(ADMIN)
    received = b""
    with socket.create_connection(server.address, timeout=5) as plain, context.wrap_socket(plain) as sock:
        sock.settimeout(5)
        sock.sendall(payload)
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _same_time(data: bytes) -> bytes:
    """Replies carry ``str(datetime.now())`` (informational): compare everything else."""
    return re.sub(rb'"time": "[^"]*"', b'"time": "T"', data)


CASES: list[tuple[str, bytes, Optional[dict[str, Any]]]] = [
    ("plain", _request("_commands"), None),
    ("unknown command", _request("nope"), None),
    ("too large", _request("x" * 2 * LIMIT), None),
    ("not utf-8", b'{"data": [{"type": "command", "data": "\x80"}]}\x03\x04', None),
    ("bare not utf-8", b"\x80\x04", None),
    ("not json", b"not json\x03\x04", None),
    ("drop", _request("_commands"), {"kind": "drop"}),
    ("delay", _request("_commands"), {"kind": "delay", "seconds": 0.01}),
    ("garbage", _request("_commands"), {"kind": "garbage"}),
    ("partial", _request("_commands"), {"kind": "partial"}),
    ("no_end", _request("_commands"), {"kind": "no_end", "seconds": 0.01}),
    ("empty", _request("_commands"), {"kind": "empty"}),
    ("fault for the command", _request("check_status server"), {"kind": "drop", "command": "check_status"}),
]


@pytest.mark.parametrize(("payload", "fault"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_tls_and_in_process_send_identical_bytes(
    server: FakeFlareServer, payload: bytes, fault: Optional[dict[str, Any]]
) -> None:
    local = server.in_process_transport(ADMIN)
    if fault is not None:
        server.inject_fault(**fault)
    over_tls = _over_tls(server, payload)
    if fault is not None:
        server.inject_fault(**fault)
    in_process = local.exchange(payload)
    assert _same_time(over_tls) == _same_time(in_process.payload)
    assert in_process.complete == over_tls.endswith(b"\x04")
    assert len(server.faults) == 0


def test_too_large_and_not_utf8_are_read_failures_on_both_paths(server: FakeFlareServer) -> None:
    local = server.in_process_transport(ADMIN)
    for payload in (_request("x" * 2 * LIMIT), b"\x80\x04"):
        before = server.stats.read_failures
        _over_tls(server, payload)
        assert server.stats.read_failures == before + 1
        local.exchange(payload)
        assert server.stats.read_failures == before + 2
    assert server.stats.requests == 0  # neither reached the dispatcher


def test_tls_abort_refuses_both_paths_before_any_request(server: FakeFlareServer) -> None:
    server.inject_fault("tls_abort", times=2)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _over_tls(server, _request("_commands"))
    with pytest.raises(NoConnection, match=r"TLS handshake .* connection aborted \(injected\)"):
        server.in_process_transport(ADMIN).exchange(_request("_commands"))
    assert server.stats.faults_fired == 2
    assert server.stats.requests == 0
    assert len(server.faults) == 0


def test_a_failed_handshake_closes_the_tls_wrapper(flare: FakeFlareServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``wrap_socket`` moves the file descriptor into the wrapper: closing the raw socket frees nothing."""
    wrapped: list[ssl.SSLSocket] = []
    original = ssl.SSLContext.wrap_socket

    def recording(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        sock = original(self, *args, **kwargs)
        if kwargs.get("server_side"):
            wrapped.append(sock)
        return sock

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", recording)
    before = flare.stats.handshake_failures
    with socket.create_connection(flare.address, timeout=5) as plain:
        plain.sendall(b"this is not a TLS client hello\r\n\r\n")
        with contextlib.suppress(OSError):
            plain.recv(1024)  # the server answers with an alert, or hangs up
    assert flare.wait_until(lambda: flare.stats.handshake_failures == before + 1)
    assert flare.wait_until(lambda: len(wrapped) == 1)
    assert wrapped[0].fileno() == -1, "the server kept the failed TLS connection's file descriptor open"
