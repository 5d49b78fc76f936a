"""Unit tests for flare_api.wire.framing: \\x03 / \\x04 framing, size limits, EOF and deadlines.

Reference: flare-2.3-admin-protocol.md sections 2.4 (framing), 2.5 (how each side reads), 2.6.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from flare_api.wire import framing
from flare_api.wire.framing import (
    ALL_END,
    ALL_END_BYTE,
    DEFAULT_MAX_BYTES,
    LINE_END,
    LINE_END_BYTE,
    FrameTimeout,
    FrameTooLarge,
    FramingError,
    StreamAccumulator,
    StreamClosed,
    encode_stream,
    join_request_text,
    read_stream,
    send_stream,
    split_segments,
)
from flare_api.wire.message import Document, Item, ProtocolViolation, parse_document

REQUEST = '{"time": "2026-11-28 07:11:58.369943", "data": [{"type": "command", "data": "list_jobs"}], "meta": {}}'
REPLY = '{"time": "2026-11-28 07:11:58.4", "data": [{"type": "success", "data": ""}], "meta": {"status": "ok"}}'


@pytest.fixture
def sock_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    try:
        yield left, right
    finally:
        left.close()
        right.close()


# --- constants ------------------------------------------------------------------------------------


def test_control_characters_are_etx_and_eot() -> None:
    assert LINE_END == "\x03"
    assert ALL_END == "\x04"
    assert LINE_END_BYTE == b"\x03"
    assert ALL_END_BYTE == b"\x04"


def test_error_hierarchy() -> None:
    for cls in (FrameTooLarge, StreamClosed, FrameTimeout):
        assert issubclass(cls, FramingError)
    assert issubclass(FramingError, Exception)


# --- encode_stream --------------------------------------------------------------------------------


def test_encode_one_document() -> None:
    assert encode_stream([REPLY]) == REPLY.encode("ascii") + b"\x03\x04"


def test_encode_several_documents_each_followed_by_etx_then_one_eot() -> None:
    assert encode_stream(["{}", '{"a": 1}', "[]"]) == b'{}\x03{"a": 1}\x03[]\x03\x04'


def test_encode_no_document_is_a_bare_eot() -> None:
    # Section 2.4: a handler that produced no items replies with just \x04.
    assert encode_stream([]) == b"\x04"


def test_encode_request_as_the_real_client_sends_it() -> None:
    doc = Document.request("list_jobs", "ffb0fb20-eafa-11f1-a922-02fc00000001")
    payload = encode_stream([doc.to_json()])
    assert payload.endswith(b"\x03\x04")
    assert payload.count(b"\x03") == 1
    assert payload.count(b"\x04") == 1


@pytest.mark.parametrize("text", ["caf\u00e9", "\u4e2d\u6587", "emoji \U0001f600", "\x80"])
def test_encode_refuses_non_ascii(text: str) -> None:
    with pytest.raises(FramingError, match="ASCII-only"):
        encode_stream([json.dumps({"data": [{"type": "string", "data": "x"}]}).replace("x", text)])


def test_encode_accepts_ascii_escaped_non_ascii() -> None:
    doc = Document([Item.string("caf\u00e9")]).to_json()
    assert "\\u00e9" in doc
    assert encode_stream([doc]) == doc.encode("ascii") + b"\x03\x04"


@pytest.mark.parametrize("control", ["\x03", "\x04"])
def test_encode_refuses_control_characters_inside_a_document(control: str) -> None:
    with pytest.raises(FramingError, match="must not contain"):
        encode_stream(["{}", "{" + control + "}"])


# --- StreamAccumulator ----------------------------------------------------------------------------


def test_accumulator_single_chunk() -> None:
    acc = StreamAccumulator()
    assert acc.done is False
    assert acc.feed(REPLY.encode() + b"\x03\x04") is True
    assert acc.done is True
    assert acc.text() == REPLY + "\x03"
    assert acc.size == len(REPLY) + 1


def test_accumulator_byte_by_byte() -> None:
    payload = encode_stream([REQUEST, REPLY])
    acc = StreamAccumulator()
    results = [acc.feed(payload[i : i + 1]) for i in range(len(payload))]
    assert results[-1] is True
    assert not any(results[:-1])
    assert split_segments(acc.text()) == [REQUEST, REPLY]


def test_accumulator_cuts_at_eot_and_ignores_everything_after() -> None:
    acc = StreamAccumulator()
    assert acc.feed(b'{}\x03\x04garbage\x03{"x": 1}\x03\x04more') is True
    assert acc.text() == "{}\x03"
    assert acc.size == 3
    # Later chunks are ignored too.
    assert acc.feed(b"even more\x04") is True
    assert acc.text() == "{}\x03"
    assert acc.size == 3


def test_accumulator_ignores_empty_chunks() -> None:
    acc = StreamAccumulator()
    assert acc.feed(b"") is False
    assert acc.feed(b"{}") is False
    assert acc.feed(b"") is False
    assert acc.feed(b"\x04") is True
    assert acc.feed(b"") is True
    assert acc.text() == "{}"


def test_accumulator_eot_alone_gives_empty_text() -> None:
    acc = StreamAccumulator()
    assert acc.feed(b"\x04") is True
    assert acc.text() == ""
    assert split_segments(acc.text()) == []


def test_accumulator_text_before_eot_is_available_while_incomplete() -> None:
    acc = StreamAccumulator()
    acc.feed(b'{"data": []}\x03{"da')
    assert acc.done is False
    assert acc.text() == '{"data": []}\x03{"da'


def test_accumulator_utf8_multibyte_split_across_chunks_decodes() -> None:
    # FLARE decodes each 1024-byte chunk on its own and breaks here (section 2.5); we decode once.
    text = "caf\u00e9 \u4e2d \U0001f600"
    raw = text.encode("utf-8")
    acc = StreamAccumulator()
    for i in range(len(raw)):
        acc.feed(raw[i : i + 1])
    acc.feed(b"\x04")
    assert acc.text() == text


def test_accumulator_utf8_split_at_1024_byte_boundary() -> None:
    raw = ("a" * 1023 + "\u00e9").encode("utf-8")
    acc = StreamAccumulator()
    acc.feed(raw[:1024])
    acc.feed(raw[1024:] + b"\x04")
    assert acc.text() == "a" * 1023 + "\u00e9"


def test_accumulator_invalid_utf8_raises_framing_error() -> None:
    acc = StreamAccumulator()
    acc.feed(b"\xff\xfe\x04")
    with pytest.raises(FramingError, match="not valid UTF-8") as info:
        acc.text()
    assert type(info.value) is FramingError


def test_accumulator_default_limit() -> None:
    assert DEFAULT_MAX_BYTES == 256 * 1024 * 1024


def test_accumulator_exactly_at_limit_passes() -> None:
    acc = StreamAccumulator(max_bytes=10)
    assert acc.feed(b"0123456789") is False
    assert acc.feed(b"\x04") is True
    assert acc.size == 10
    assert acc.text() == "0123456789"


def test_accumulator_limit_does_not_count_eot_or_trailing_bytes() -> None:
    acc = StreamAccumulator(max_bytes=4)
    assert acc.feed(b"abcd\x04" + b"x" * 100) is True
    assert acc.text() == "abcd"


def test_accumulator_one_byte_over_limit_raises_naming_the_limit() -> None:
    acc = StreamAccumulator(max_bytes=10)
    with pytest.raises(FrameTooLarge, match=r"limit of 10 bytes"):
        acc.feed(b"01234567890")


def test_accumulator_limit_over_several_chunks() -> None:
    acc = StreamAccumulator(max_bytes=5)
    acc.feed(b"abc")
    acc.feed(b"de")
    with pytest.raises(FrameTooLarge, match=r"limit of 5 bytes"):
        acc.feed(b"f\x04")


@pytest.mark.parametrize("bad", [0, -1])
def test_accumulator_refuses_non_positive_limit(bad: int) -> None:
    with pytest.raises(ValueError, match="max_bytes must be positive"):
        StreamAccumulator(max_bytes=bad)


# --- split_segments (client side) -----------------------------------------------------------------


def test_split_segments_one_document() -> None:
    assert split_segments(REPLY + "\x03") == [REPLY]


def test_split_segments_several_documents() -> None:
    assert split_segments(REQUEST + "\x03" + REPLY + "\x03") == [REQUEST, REPLY]


def test_split_segments_drops_empty_segments() -> None:
    assert split_segments("\x03\x03a\x03\x03\x03b\x03\x03") == ["a", "b"]
    assert split_segments("") == []
    assert split_segments("\x03") == []


def test_split_segments_documents_parse() -> None:
    text = encode_stream([Document([Item.string("one")]).to_json(), Document([Item.success()]).to_json()])
    acc = StreamAccumulator()
    acc.feed(text)
    docs = [parse_document(seg) for seg in split_segments(acc.text())]
    assert [doc.items for doc in docs] == [[Item.string("one")], [Item.success("")]]


# --- join_request_text (server side) --------------------------------------------------------------


def test_join_request_text_removes_the_etx_and_strips() -> None:
    assert join_request_text(REQUEST + "\x03") == REQUEST
    assert join_request_text("  \n" + REQUEST + "\x03 \t\r\n") == REQUEST


def test_join_request_text_removes_every_etx() -> None:
    assert join_request_text('\x03{"da\x03ta"\x03: []}\x03\x03') == '{"data": []}'


def test_join_request_text_without_etx_is_accepted() -> None:
    # Section 2.5: a document followed directly by \x04 is accepted.
    assert join_request_text(REQUEST) == REQUEST
    assert parse_document(join_request_text(REQUEST)).items == [Item.command("list_jobs")]


def test_join_request_text_two_documents_become_invalid_json() -> None:
    joined = join_request_text(REQUEST + "\x03" + REQUEST + "\x03")
    assert joined == REQUEST + REQUEST
    with pytest.raises(ProtocolViolation, match="not valid JSON"):
        parse_document(joined)


def test_join_request_text_of_nothing_is_empty() -> None:
    assert join_request_text("") == ""
    assert join_request_text("\x03 \x03") == ""


# --- read_stream ----------------------------------------------------------------------------------


def test_read_stream_one_document(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = sock_pair
    right.sendall(encode_stream([REPLY]))
    assert read_stream(left, timeout=5.0) == REPLY + "\x03"


def test_read_stream_returns_at_eot_without_waiting_for_close(
    sock_pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = sock_pair
    # The peer keeps the connection open and even sends more after \x04.
    right.sendall(b'{}\x03\x04{"late": 1}\x03\x04')
    assert read_stream(left, timeout=5.0) == "{}\x03"


def test_read_stream_request_in_two_sends(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = sock_pair
    right.sendall(REQUEST.encode() + b"\x03")
    right.sendall(b"\x04")
    assert join_request_text(read_stream(left, timeout=5.0)) == REQUEST


def test_read_stream_larger_than_one_recv(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = sock_pair
    doc = Document([Item.string("x" * (framing.RECV_CHUNK * 3))]).to_json()
    payload = encode_stream([doc])
    # The payload can exceed the socket buffer, so a thread sends while this one reads.
    sender = threading.Thread(target=right.sendall, args=(payload,), daemon=True)
    sender.start()
    try:
        text = read_stream(left, timeout=10.0)
    finally:
        sender.join(timeout=10.0)
    assert not sender.is_alive()
    assert split_segments(text) == [doc]


def test_read_stream_eof_before_eot_raises_stream_closed(
    sock_pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = sock_pair
    right.sendall(REPLY.encode() + b"\x03")
    right.shutdown(socket.SHUT_WR)
    with pytest.raises(StreamClosed, match=r"closed before end of transmission \(\d+ bytes received\)"):
        read_stream(left, timeout=5.0)


def test_read_stream_immediate_eof_raises_stream_closed(
    sock_pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = sock_pair
    right.close()
    with pytest.raises(StreamClosed, match=r"\(0 bytes received\)"):
        read_stream(left, timeout=5.0)


def test_read_stream_peer_never_sends_eot_times_out(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = sock_pair
    right.sendall(REPLY.encode() + b"\x03")  # a complete document, but no \x04
    with pytest.raises(FrameTimeout, match=r"within 0\.05 s"):
        read_stream(left, timeout=0.05)


def test_read_stream_silent_peer_times_out(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, _right = sock_pair
    with pytest.raises(FrameTimeout, match=r"\(0 bytes received\)"):
        read_stream(left, timeout=0.05)


def test_read_stream_deadline_covers_the_whole_read(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    # A peer trickling data cannot hold the reader past its deadline: with an injected clock the
    # deadline passes after the first chunk, so the second loop turn gives up without any wait.
    left, right = sock_pair
    right.sendall(b"{}")
    ticks = itertools.chain([0.0, 0.0], itertools.repeat(100.0))
    with pytest.raises(FrameTimeout, match=r"within 1 s \(2 bytes received\)"):
        read_stream(left, timeout=1.0, monotonic=lambda: next(ticks))


def test_read_stream_size_limit(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = sock_pair
    right.sendall(b"x" * 101 + b"\x04")
    with pytest.raises(FrameTooLarge, match=r"limit of 100 bytes"):
        read_stream(left, timeout=5.0, max_bytes=100)


def test_read_stream_within_size_limit(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = sock_pair
    right.sendall(b"x" * 100 + b"\x04")
    assert read_stream(left, timeout=5.0, max_bytes=100) == "x" * 100


def test_read_stream_utf8_split_across_sends(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = sock_pair
    raw = "\u00e9\u4e2d".encode()
    right.sendall(raw[:1])
    right.sendall(raw[1:4])
    right.sendall(raw[4:] + b"\x04")
    assert read_stream(left, timeout=5.0) == "\u00e9\u4e2d"


@pytest.mark.parametrize("bad", [0, -0.5])
def test_read_stream_refuses_non_positive_timeout(sock_pair: tuple[socket.socket, socket.socket], bad: float) -> None:
    left, _right = sock_pair
    with pytest.raises(ValueError, match="timeout must be positive"):
        read_stream(left, timeout=bad)


# --- send_stream ----------------------------------------------------------------------------------


def test_send_stream_sends_everything(sock_pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = sock_pair
    payload = encode_stream([REQUEST])
    send_stream(left, payload, timeout=5.0)
    assert read_stream(right, timeout=5.0) == REQUEST + "\x03"


def test_send_stream_times_out_when_peer_does_not_read(
    sock_pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = sock_pair
    left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    right.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    payload = b"x" * (16 * 1024 * 1024) + b"\x04"
    with pytest.raises(FrameTimeout, match=rf"could not send {len(payload)} bytes within 0\.05 s"):
        send_stream(left, payload, timeout=0.05)


@pytest.mark.parametrize("bad", [0, -1.0])
def test_send_stream_refuses_non_positive_timeout(sock_pair: tuple[socket.socket, socket.socket], bad: float) -> None:
    left, _right = sock_pair
    with pytest.raises(ValueError, match="timeout must be positive"):
        send_stream(left, b"\x04", timeout=bad)
