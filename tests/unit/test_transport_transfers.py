"""``Transport.push`` and ``Transport.pull`` (FLARE 2.4+ file transfers) against a scripted loopback peer: the
bytes each sends, the file returned as bytes in either framing, a text answer returned as its document, and
each failure's exact message (what failed, where, after how long, from a scripted clock): nothing at all, a
stalled or cut text reply or file, an empty 2.5+ file, a reply over the size bound (mutation testing,
docs/testing.md). A stall waits for the request's own short timeout; nothing else waits."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Optional

import pytest

import flare_api.transport as transport_module
from flare_api.errors import InvalidReply, NoConnection
from flare_api.transport import Transport
from flare_api.wire import Document, Item, encode_stream
from flare_api.wire.transfer import BinaryExchangeDecoder, TransferFraming, binary_exchange_parts, encode_pull_reply

from .test_transport_request import REPLY, Handler, _Peer, _read_request

TEXT = encode_stream([Document([Item.error("no such file")], meta={"status": "error", "info": "x"}).to_json()])


class _Readings:
    """``time.monotonic`` for the transport: the given readings in turn, then the last one again."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings) or [100.0]

    def monotonic(self) -> float:
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> _Readings:
    clock = _Readings(100.0)
    monkeypatch.setattr(transport_module, "time", clock)
    return clock


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def peers() -> Iterator[list[_Peer]]:
    started: list[_Peer] = []
    yield started
    for peer in started:
        peer.join()


def _peer(peers: list[_Peer], handlers: list[Handler]) -> _Peer:
    peer = _Peer(handlers)
    peers.append(peer)
    return peer


def _pull_answer(data: bytes, received: Optional[list[bytes]] = None) -> Handler:
    def handler(conn: socket.socket) -> None:
        request = _read_request(conn)
        if received is not None:
            received.append(request)
        conn.sendall(data)

    return handler


def _stall_after(data: bytes, release: threading.Event) -> Handler:
    def handler(conn: socket.socket) -> None:
        _read_request(conn)
        if data:
            conn.sendall(data)
        release.wait(30)

    return handler


def _where(peer: _Peer) -> str:
    return f"admin server 127.0.0.1:{peer.port}"


# ------------------------------------------------------------------ pull: files


@pytest.mark.parametrize("framing", list(TransferFraming))
def test_a_pulled_file_comes_back_as_its_bytes(framing: TransferFraming, peers: list[_Peer]) -> None:
    received: list[bytes] = []
    body = bytes(range(256)) * 700  # 179,200 bytes: several reads
    peer = _peer(peers, [_pull_answer(encode_pull_reply(framing, body), received)])
    transport = Transport("127.0.0.1", peer.port, None)
    assert transport.pull("download_job_file j1 a.bin", "tok-1", framing) == body
    peer.join()
    assert len(received) == 1 and received[0].endswith(b"\x03\x04")
    request = json.loads(received[0][:-2])
    expected = json.loads(Document.request("download_job_file j1 a.bin", "tok-1").to_json())
    assert {**request, "time": None} == {**expected, "time": None}


def test_an_empty_file_is_empty_bytes_in_24_and_refused_in_25(peers: list[_Peer]) -> None:
    peer = _peer(
        peers,
        [
            _pull_answer(encode_pull_reply(TransferFraming.CHUNK_STREAM, b"")),
            _pull_answer(encode_pull_reply(TransferFraming.BINARY_EXCHANGE, b"")),
        ],
    )
    transport = Transport("127.0.0.1", peer.port, None)
    assert transport.pull("download_job_file j1 e", "t", TransferFraming.CHUNK_STREAM) == b""
    with pytest.raises(InvalidReply) as info:
        transport.pull("download_job_file j1 e", "t", TransferFraming.BINARY_EXCHANGE)
    assert str(info.value) == f"bad reply from {_where(peer)}: nothing received from the server"


def test_a_pulled_file_over_the_size_bound_is_refused(peers: list[_Peer]) -> None:
    peer = _peer(peers, [_pull_answer(encode_pull_reply(TransferFraming.BINARY_EXCHANGE, b"x" * 4096))])
    with pytest.raises(InvalidReply) as info:
        Transport("127.0.0.1", peer.port, None, max_reply_bytes=1024).pull("p", "t", TransferFraming.BINARY_EXCHANGE)
    assert str(info.value).startswith(f"bad reply from {_where(peer)}: ")
    assert "1024" in str(info.value)


def test_a_cut_file_names_what_arrived(frozen: _Readings, peers: list[_Peer]) -> None:
    whole = encode_pull_reply(TransferFraming.CHUNK_STREAM, b"abcdefgh")
    peer = _peer(peers, [_pull_answer(whole[:-8])])  # the end frame missing
    with pytest.raises(NoConnection) as info:
        Transport("127.0.0.1", peer.port, None).pull("p", "t", TransferFraming.CHUNK_STREAM)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 0.00 s: "
        "StreamClosed: connection closed before the transfer ended (8 bytes received)"
    )


def test_a_stalled_file_fails_after_the_pulls_own_timeout(
    frozen: _Readings, peers: list[_Peer], release: threading.Event
) -> None:
    head = encode_pull_reply(TransferFraming.BINARY_EXCHANGE, b"abc")[:5]
    peer = _peer(peers, [_stall_after(head, release)])
    with pytest.raises(NoConnection) as info:
        Transport("127.0.0.1", peer.port, None, timeout=20.0).pull(
            "p", "t", TransferFraming.BINARY_EXCHANGE, timeout=0.05
        )
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 0.00 s: "
        "FrameTimeout: no complete transfer within 0.05 s (0 bytes received)"
    )


def test_a_file_read_gets_what_is_left_of_the_deadline_but_at_least_a_millisecond(
    monkeypatch: pytest.MonkeyPatch, peers: list[_Peer], release: threading.Event
) -> None:
    # started, the deadline (100 + 0.05), then the first byte arrives after the deadline
    monkeypatch.setattr(transport_module, "time", _Readings(100.0, 100.0, 200.0))
    head = encode_pull_reply(TransferFraming.CHUNK_STREAM, b"abc")[:3]
    peer = _peer(peers, [_stall_after(head, release)])
    with pytest.raises(NoConnection) as info:
        Transport("127.0.0.1", peer.port, None).pull("p", "t", TransferFraming.CHUNK_STREAM, timeout=0.05)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 100.00 s: "
        "FrameTimeout: no complete transfer within 0.001 s (0 bytes received)"
    )


# ------------------------------------------------------------------ pull: text answers and silence


@pytest.mark.parametrize("framing", list(TransferFraming))
def test_a_refused_pull_returns_the_servers_document(framing: TransferFraming, peers: list[_Peer]) -> None:
    big = encode_stream([Document([Item.string("x" * 200_000)], meta={"status": "error", "info": "big"}).to_json()])
    peer = _peer(peers, [_pull_answer(TEXT), _pull_answer(big), _pull_answer(b"\x04")])
    transport = Transport("127.0.0.1", peer.port, None)
    answer = transport.pull("p", "t", framing)
    assert isinstance(answer, Document)
    assert [item.text for item in answer.items] == ["no such file"]
    assert answer.meta == {"status": "error", "info": "x"}
    long_answer = transport.pull("p", "t", framing)  # over several reads
    assert isinstance(long_answer, Document) and long_answer.meta["info"] == "big"
    assert transport.pull("p", "t", framing) is None  # a text reply without a document


def test_a_text_answer_over_the_size_bound_is_refused(peers: list[_Peer]) -> None:
    peer = _peer(peers, [_pull_answer(b"{" + b"x" * 2048 + b"\x04")])
    with pytest.raises(InvalidReply) as info:
        Transport("127.0.0.1", peer.port, None, max_reply_bytes=1024).pull("p", "t", TransferFraming.CHUNK_STREAM)
    assert str(info.value) == f"bad reply from {_where(peer)}: transmission exceeds the limit of 1024 bytes"


def test_a_pull_without_any_answer(frozen: _Readings, peers: list[_Peer], release: threading.Event) -> None:
    peer = _peer(peers, [_pull_answer(b""), _stall_after(b"", release)])
    transport = Transport("127.0.0.1", peer.port, None)
    with pytest.raises(NoConnection) as info:
        transport.pull("p", "t", TransferFraming.BINARY_EXCHANGE)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 0.00 s: "
        "StreamClosed: connection closed before the transfer began (0 bytes received)"
    )
    with pytest.raises(NoConnection) as info:
        transport.pull("p", "t", TransferFraming.BINARY_EXCHANGE, timeout=0.05)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 0.00 s: FrameTimeout: no answer within 0.05 s"
    )


def test_a_cut_or_stalled_text_answer(frozen: _Readings, peers: list[_Peer], release: threading.Event) -> None:
    peer = _peer(peers, [_pull_answer(TEXT[:10]), _stall_after(TEXT[:10], release)])
    transport = Transport("127.0.0.1", peer.port, None, timeout=0.05)
    with pytest.raises(NoConnection) as info:
        transport.pull("p", "t", TransferFraming.CHUNK_STREAM)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 0.00 s: "
        "StreamClosed: connection closed before end of transmission (10 bytes received)"
    )
    with pytest.raises(NoConnection) as info:
        transport.pull("p", "t", TransferFraming.CHUNK_STREAM)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 0.00 s: "
        "FrameTimeout: no complete reply within 0.05 s (10 bytes received)"
    )


def test_a_text_answer_past_the_deadline(
    monkeypatch: pytest.MonkeyPatch, peers: list[_Peer], release: threading.Event
) -> None:
    # started, the deadline (100 + 5), the first read's rest, then the clock is past the deadline
    monkeypatch.setattr(transport_module, "time", _Readings(100.0, 100.0, 100.0, 106.0, 107.5))
    peer = _peer(peers, [_stall_after(TEXT[:10], release)])
    with pytest.raises(NoConnection) as info:
        Transport("127.0.0.1", peer.port, None, timeout=5.0).pull("p", "t", TransferFraming.CHUNK_STREAM)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 7.50 s: "
        "FrameTimeout: no complete reply within 5 s (10 bytes received)"
    )


# ------------------------------------------------------------------ push


def test_a_push_sends_the_request_as_a_binary_exchange_and_returns_the_reply(peers: list[_Peer]) -> None:
    body = b"PK\x03\x04" + bytes(range(256)) * 300
    meta = Document.request("submit_job x", "tok").to_json()
    sent = b"".join(bytes(part) for part in binary_exchange_parts(meta, body))
    received: list[bytes] = []

    def handler(conn: socket.socket) -> None:
        data = b""
        while len(data) < len(sent):
            data += conn.recv(65536)
        received.append(data)
        conn.sendall(REPLY)

    peer = _peer(peers, [handler])
    reply = Transport("127.0.0.1", peer.port, None).push("submit_job x", "tok", body)
    assert reply is not None and [item.text for item in reply.items] == ["hello"]
    peer.join()
    assert len(received) == 1 and len(received[0]) == len(sent)
    decoder = BinaryExchangeDecoder()
    assert decoder.feed(received[0])
    assert decoder.body() == body
    assert {**json.loads(decoder.meta), "time": None} == {**json.loads(meta), "time": None}


def test_a_push_waits_for_its_own_timeout_then_the_transports(
    frozen: _Readings, peers: list[_Peer], release: threading.Event
) -> None:
    def silent(conn: socket.socket) -> None:
        conn.recv(65536)
        release.wait(30)

    peer = _peer(peers, [silent])
    with pytest.raises(NoConnection) as info:
        Transport("127.0.0.1", peer.port, None, timeout=20.0).push("submit_job x", "tok", b"zip", timeout=0.05)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 0.00 s: "
        "FrameTimeout: no complete transmission within 0.05 s (0 bytes received)"
    )


def test_transfers_default_to_the_transports_timeout(monkeypatch: pytest.MonkeyPatch, peers: list[_Peer]) -> None:
    size = len(b"".join(bytes(p) for p in binary_exchange_parts(Document.request("s", "t").to_json(), b"zip")))

    def push_handler(conn: socket.socket) -> None:
        data = b""
        while len(data) < size:
            data += conn.recv(65536)
        conn.sendall(REPLY)

    chunks = encode_pull_reply(TransferFraming.CHUNK_STREAM, b"ab")
    peer = _peer(peers, [_pull_answer(chunks), _pull_answer(chunks), push_handler, push_handler])
    deadlines: list[Optional[float]] = []
    real = socket.create_connection

    def recording(address: tuple[str, int], timeout: Optional[float] = None) -> socket.socket:
        deadlines.append(timeout)
        return real(address, timeout=timeout)

    monkeypatch.setattr(transport_module.socket, "create_connection", recording)
    transport = Transport("127.0.0.1", peer.port, None, timeout=7.0)
    assert transport.pull("p", "t", TransferFraming.CHUNK_STREAM) == b"ab"
    assert transport.pull("p", "t", TransferFraming.CHUNK_STREAM, timeout=3.0) == b"ab"
    assert transport.push("s", "t", b"zip") is not None
    assert transport.push("s", "t", b"zip", timeout=2.0) is not None
    assert deadlines == [7.0, 3.0, 7.0, 2.0]


def test_a_push_reply_is_bounded_and_checked_like_any_reply(peers: list[_Peer]) -> None:
    size = len(b"".join(bytes(p) for p in binary_exchange_parts(Document.request("s", "t").to_json(), b"zip")))

    def answering(data: bytes) -> Handler:
        def handler(conn: socket.socket) -> None:
            received = b""
            while len(received) < size:
                received += conn.recv(65536)
            conn.sendall(data)

        return handler

    peer = _peer(peers, [answering(b"x" * 2048 + b"\x04"), answering(b"not json\x04")])
    transport = Transport("127.0.0.1", peer.port, None, max_reply_bytes=1024)
    with pytest.raises(InvalidReply) as info:
        transport.push("s", "t", b"zip")
    assert str(info.value).startswith(f"bad reply from {_where(peer)}: ")
    assert "1024" in str(info.value)
    with pytest.raises(InvalidReply) as info:
        transport.push("s", "t", b"zip")
    assert str(info.value).startswith(f"invalid reply document from {_where(peer)}: ")


def test_an_invalid_text_answer_to_a_pull_names_the_server(peers: list[_Peer]) -> None:
    peer = _peer(peers, [_pull_answer(b"{not json\x04")])
    with pytest.raises(InvalidReply) as info:
        Transport("127.0.0.1", peer.port, None).pull("p", "t", TransferFraming.CHUNK_STREAM)
    assert str(info.value).startswith(f"invalid reply document from {_where(peer)}: ")


def test_a_text_answer_with_no_time_left_fails_without_another_read(
    monkeypatch: pytest.MonkeyPatch, peers: list[_Peer], release: threading.Event
) -> None:
    # started, the deadline (100 + 5), the first read's rest, then the clock reads exactly the deadline
    monkeypatch.setattr(transport_module, "time", _Readings(100.0, 100.0, 100.0, 105.0))
    peer = _peer(peers, [_stall_after(TEXT[:10], release)])
    with pytest.raises(NoConnection) as info:
        Transport("127.0.0.1", peer.port, None, timeout=5.0).pull("p", "t", TransferFraming.CHUNK_STREAM)
    assert str(info.value) == (
        f"waiting for the reply of {_where(peer)} failed after 5.00 s: "
        "FrameTimeout: no complete reply within 5 s (10 bytes received)"
    )


def test_a_request_carries_its_meta(peers: list[_Peer]) -> None:
    received: list[bytes] = []
    peer = _peer(peers, [_pull_answer(REPLY, received), _pull_answer(REPLY, received)])
    transport = Transport("127.0.0.1", peer.port, None)
    transport.request("app_command x", "tok", meta={"cmd_timeout": 5.0, "cmd_props": {"k": 1}})
    transport.request("list_jobs", "tok")
    peer.join()
    metas = [json.loads(request[:-2])["meta"] for request in received]
    assert metas == [{"cmd_timeout": 5.0, "cmd_props": {"k": 1}}, {}]
