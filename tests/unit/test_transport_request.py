"""``Transport.request`` against a scripted loopback peer: the deadlines it passes on, the message of each
failure (what failed, where, after how long), the reply-size bound, and TLS session resumption (a later
request resumes the last session; a failed one drops it, so the next does a full handshake).

The peer is a thread serving a fixed list of connection handlers; the elapsed time in messages comes from
a scripted clock, so the texts are exact.
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional, Union

import pytest
import trustme

import flare_api.transport as transport_module
from flare_api.errors import InvalidReply, NoConnection, TLSRejected
from flare_api.transport import Transport, client_ssl_context
from flare_api.wire import Document, Item, encode_stream

Handler = Callable[[socket.socket], None]
#: The peer's TLS context: none, one for every connection, or one per connection
TLS = Union[None, ssl.SSLContext, list[Optional[ssl.SSLContext]]]

REPLY = encode_stream([Document([Item.string("hello")], meta={"status": "ok", "info": ""}).to_json()])


class _ScriptedClock:
    """``time.monotonic`` for the transport: 2.5 s later at every reading (a request reads it when it
    starts and once more when it fails)."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        self.now += 2.5
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _ScriptedClock:
    fake = _ScriptedClock()
    monkeypatch.setattr(transport_module, "time", fake)
    return fake


class _Peer:
    """Accepts one connection per handler, in order, and runs the handler on it (optionally under TLS)."""

    def __init__(self, handlers: list[Handler], tls: TLS = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tls = tls
        self.handlers = handlers
        self.reused: list[bool] = []
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for number, handler in enumerate(self.handlers):
            conn, _ = self.listener.accept()
            tls = self.tls[number] if isinstance(self.tls, list) else self.tls
            try:
                if tls is not None and handler is not _drop_before_handshake:
                    conn = tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
                    try:
                        conn.do_handshake()
                    except ssl.SSLError:
                        _linger(conn)
                        raise
                    self.reused.append(bool(conn.session_reused))
                handler(conn)
            except (OSError, ssl.SSLError) as exc:
                self.errors.append(exc)
            finally:
                conn.close()

    def join(self) -> None:
        self.thread.join(timeout=30)
        self.listener.close()


def _linger(conn: socket.socket) -> None:
    """After a refused handshake: let the client read the alert before the connection closes (closing
    with its unread request would reset the connection and could discard the alert)."""
    conn.shutdown(socket.SHUT_WR)  # on a TLS socket: drops the TLS layer, shuts the plain socket down
    conn.settimeout(10)
    while conn.recv(4096):
        pass


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\x04"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _answer(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(REPLY)


def _reset(conn: socket.socket) -> None:
    """Read the request, then abort the connection (RST): the client's read fails with an OSError."""
    _read_request(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _drop_before_handshake(conn: socket.socket) -> None:
    """Read the client's hello and close: the client's handshake ends with an EOF."""
    conn.settimeout(10)
    conn.recv(65536)


def _close_without_reply(conn: socket.socket) -> None:
    _read_request(conn)


def _send(data: bytes) -> Handler:
    def handler(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(data)

    return handler


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context, a server context that refuses the client's certificate) for a CA
    made here; the client context is FLARE's settings."""
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("tls")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(server)
    leaf = ca.issue_cert("admin@example.com")
    paths = [folder / "rootCA.pem", folder / "client.crt", folder / "client.key"]
    ca.cert_pem.write_to_path(str(paths[0]))
    leaf.cert_chain_pems[0].write_to_path(str(paths[1]))
    leaf.private_key_pem.write_to_path(str(paths[2]))
    strict = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(strict)
    strict.verify_mode = ssl.CERT_REQUIRED
    trustme.CA().configure_trust(strict)  # trusts only a CA that did not issue the client certificate
    return server, client_ssl_context(*paths), strict


@pytest.fixture
def peers() -> Iterator[list[_Peer]]:
    started: list[_Peer] = []
    yield started
    for peer in started:
        peer.join()


def _peer(peers: list[_Peer], handlers: list[Handler], tls: TLS = None) -> _Peer:
    peer = _Peer(handlers, tls)
    peers.append(peer)
    return peer


def _strings(doc: Optional[Document]) -> list[str]:
    assert doc is not None
    return [item.text for item in doc.items]


def test_a_refused_connection_names_the_server_and_the_elapsed_time(clock: _ScriptedClock) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there any more
    with pytest.raises(NoConnection) as info:
        Transport("127.0.0.1", port, None).request("list_jobs")
    assert type(info.value) is NoConnection
    assert str(info.value) == (
        f"connecting to admin server 127.0.0.1:{port} failed after 2.50 s: "
        "ConnectionRefusedError: [Errno 111] Connection refused"
    )


def test_the_connect_deadline_is_the_requests_timeout(monkeypatch: pytest.MonkeyPatch, peers: list[_Peer]) -> None:
    peer = _peer(peers, [_answer, _answer])
    deadlines: list[Optional[float]] = []
    real = socket.create_connection

    def recording(address: tuple[str, int], timeout: Optional[float] = None) -> socket.socket:
        deadlines.append(timeout)
        return real(address, timeout=timeout)

    monkeypatch.setattr(transport_module.socket, "create_connection", recording)
    transport = Transport("127.0.0.1", peer.port, None, timeout=7.0)
    assert _strings(transport.request("list_jobs")) == ["hello"]
    assert _strings(transport.request("list_jobs", timeout=3.0)) == ["hello"]
    assert deadlines == [7.0, 3.0]


def test_a_silent_server_fails_after_the_requests_own_timeout(clock: _ScriptedClock, peers: list[_Peer]) -> None:
    release = threading.Event()

    def silent(conn: socket.socket) -> None:
        _read_request(conn)
        release.wait(30)

    peer = _peer(peers, [silent])
    try:
        with pytest.raises(NoConnection) as info:
            Transport("127.0.0.1", peer.port, None, timeout=20.0).request("list_jobs", timeout=0.05)
    finally:
        release.set()
    assert str(info.value) == (
        f"waiting for the reply of admin server 127.0.0.1:{peer.port} failed after 2.50 s: "
        "FrameTimeout: no complete transmission within 0.05 s (0 bytes received)"
    )


def test_a_server_closing_without_a_reply(clock: _ScriptedClock, peers: list[_Peer]) -> None:
    peer = _peer(peers, [_close_without_reply])
    with pytest.raises(NoConnection) as info:
        Transport("127.0.0.1", peer.port, None).request("list_jobs")
    assert str(info.value) == (
        f"waiting for the reply of admin server 127.0.0.1:{peer.port} failed after 2.50 s: "
        "StreamClosed: connection closed before end of transmission (0 bytes received)"
    )


def test_a_reset_connection_never_blames_the_certificate_without_tls(
    clock: _ScriptedClock, peers: list[_Peer], tmp_path: Path
) -> None:
    peer = _peer(peers, [_reset])
    transport = Transport("127.0.0.1", peer.port, None, client_cert=tmp_path / "missing.crt")
    with pytest.raises(NoConnection) as info:
        transport.request("list_jobs")
    assert type(info.value) is NoConnection
    assert str(info.value) == (
        f"talking to admin server 127.0.0.1:{peer.port} failed after 2.50 s: "
        "ConnectionResetError: [Errno 104] Connection reset by peer"
    )


def test_a_reply_over_the_size_bound_is_refused(peers: list[_Peer]) -> None:
    peer = _peer(peers, [_send(b"x" * 2048 + b"\x04")])
    with pytest.raises(InvalidReply) as info:
        Transport("127.0.0.1", peer.port, None, max_reply_bytes=1024).request("list_jobs")
    assert str(info.value).startswith(f"bad reply from admin server 127.0.0.1:{peer.port}: ")
    assert "1024" in str(info.value)


def test_an_invalid_reply_document_names_the_server(peers: list[_Peer]) -> None:
    peer = _peer(peers, [_send(b"not json\x04")])
    with pytest.raises(InvalidReply) as info:
        Transport("127.0.0.1", peer.port, None).request("list_jobs")
    assert str(info.value).startswith(f"invalid reply document from admin server 127.0.0.1:{peer.port}: ")


def test_a_zero_or_negative_timeout_is_refused() -> None:
    for bad in (0, 0.0, -1.0):
        with pytest.raises(ValueError) as info:
            Transport("127.0.0.1", 1, None, timeout=bad)
        assert str(info.value) == f"timeout must be positive, got {bad!r}"


def test_the_default_timeout_is_ten_seconds() -> None:
    """The documented default deadline of each connect, send and read (docs/api.md: ``timeout=10.0``)."""
    assert Transport("127.0.0.1", 1, None).timeout == 10.0


def test_later_requests_resume_the_tls_session(
    tls: tuple[ssl.SSLContext, ssl.SSLContext, ssl.SSLContext], peers: list[_Peer]
) -> None:
    server, client, _ = tls
    peer = _peer(peers, [_answer, _answer, _answer], tls=server)
    transport = Transport("127.0.0.1", peer.port, client)
    assert transport.resume_tls is True
    for _ in range(3):
        assert _strings(transport.request("list_jobs")) == ["hello"]
    peer.join()
    assert peer.reused == [False, True, True]


def test_without_resumption_every_request_does_a_full_handshake(
    tls: tuple[ssl.SSLContext, ssl.SSLContext, ssl.SSLContext], peers: list[_Peer]
) -> None:
    server, client, _ = tls
    peer = _peer(peers, [_answer, _answer], tls=server)
    transport = Transport("127.0.0.1", peer.port, client)
    transport.resume_tls = False
    for _ in range(2):
        assert _strings(transport.request("list_jobs")) == ["hello"]
    peer.join()
    assert peer.reused == [False, False]


def test_a_failed_handshake_drops_the_session_and_names_the_stage(
    clock: _ScriptedClock, tls: tuple[ssl.SSLContext, ssl.SSLContext, ssl.SSLContext], peers: list[_Peer]
) -> None:
    server, client, _ = tls
    peer = _peer(peers, [_answer, _drop_before_handshake, _answer], tls=server)
    transport = Transport("127.0.0.1", peer.port, client)
    assert _strings(transport.request("list_jobs")) == ["hello"]
    with pytest.raises(NoConnection) as info:
        transport.request("list_jobs")
    assert type(info.value) is NoConnection  # a dropped handshake, and no client certificate to blame
    assert re.match(
        f"TLS handshake with admin server 127.0.0.1:{peer.port} failed after 2.50 s: SSLEOFError: ",
        str(info.value),
    )
    assert transport._tls_session is None
    assert _strings(transport.request("list_jobs")) == ["hello"]
    peer.join()
    assert peer.reused == [False, False]


def test_a_refused_client_certificate_after_the_handshake_drops_the_session(
    clock: _ScriptedClock, tls: tuple[ssl.SSLContext, ssl.SSLContext, ssl.SSLContext], peers: list[_Peer]
) -> None:
    """TLS 1.3: the server checks the client certificate after the client's side of the handshake, so the
    refusal arrives as an alert on the first read ("talking to"), not during the handshake."""
    server, client, strict = tls
    peer = _peer(peers, [_answer, _answer, _answer], tls=[server, strict, server])
    transport = Transport("127.0.0.1", peer.port, client)
    assert _strings(transport.request("list_jobs")) == ["hello"]
    with pytest.raises(TLSRejected) as info:
        transport.request("list_jobs")
    text = str(info.value)
    assert text.startswith(f"talking to admin server 127.0.0.1:{peer.port} failed after 2.50 s: SSLError: ")
    assert text.endswith(": the server refused the client certificate (TLSV1_ALERT_UNKNOWN_CA)")
    assert transport._tls_session is None
    assert _strings(transport.request("list_jobs")) == ["hello"]
    peer.join()
    assert peer.reused == [False, False]
