"""The FLARE 2.4+ transfer framing's bounds and exact errors (mutation testing, docs/testing.md): chunk sizes,
the decoders' limits (a file of exactly ``max_bytes`` passes), each refusal's text, and ``read_decoded``'s
deadline against a scripted socket and clock (nothing waits)."""

from __future__ import annotations

import socket
import struct
from typing import Optional

import pytest

from flare_api.wire.framing import FrameTimeout, FrameTooLarge, FramingError, StreamClosed
from flare_api.wire.transfer import (
    MAX_CHUNK_SIZE,
    ChunkStreamDecoder,
    TransferFraming,
    chunk_stream_parts,
    encode_chunk_stream,
    encode_pull_reply,
    pull_file,
    read_decoded,
)


def _joined_parts(data: bytes, *, chunk_size: int) -> bytes:
    return b"".join(chunk_stream_parts(data, chunk_size=chunk_size))


def test_chunk_sizes_run_from_one_byte_to_one_mib() -> None:
    for encode in (encode_chunk_stream, _joined_parts):
        one = encode(b"abc", chunk_size=1)
        decoder = ChunkStreamDecoder()
        assert decoder.feed(one) and decoder.body() == b"abc"
        assert len(one) == 3 * (9 + 1) + 9  # three 1-byte frames and the end frame
        for bad in (0, -1, MAX_CHUNK_SIZE + 1):
            with pytest.raises(ValueError) as info:
                encode(b"abc", chunk_size=bad)
            assert str(info.value) == f"chunk_size must be in 1..{MAX_CHUNK_SIZE}, got {bad}"


def test_the_chunk_decoder_takes_exactly_max_bytes() -> None:
    decoder = ChunkStreamDecoder(max_bytes=1)
    assert decoder.done is False
    assert decoder.feed(encode_chunk_stream(b"a")) is True
    assert decoder.body() == b"a"
    with pytest.raises(FrameTooLarge) as info:
        ChunkStreamDecoder(max_bytes=8).feed(encode_chunk_stream(b"a" * 9))
    assert str(info.value) == "download exceeds the limit of 8 bytes"
    assert ChunkStreamDecoder(max_bytes=8).feed(encode_chunk_stream(b"a" * 8))
    for bad in (0, -5):
        with pytest.raises(ValueError) as error:
            ChunkStreamDecoder(max_bytes=bad)
        assert str(error.value) == f"max_bytes must be positive, got {bad}"


def test_the_chunk_decoders_refusals_name_the_problem() -> None:
    decoder = ChunkStreamDecoder()
    decoder.feed(encode_chunk_stream(b"abc")[:5])
    with pytest.raises(FramingError) as info:
        decoder.body()
    assert str(info.value) == "chunk stream is not complete"
    too_big = b"\x65" + struct.pack(">II", 1, MAX_CHUNK_SIZE + 1)
    with pytest.raises(FramingError) as info:
        ChunkStreamDecoder().feed(too_big)
    assert str(info.value) == f"Protocol Error: received size {MAX_CHUNK_SIZE + 1} is not in [0, {MAX_CHUNK_SIZE}]"
    end_with_seq = b"\x66" + struct.pack(">II", 3, 0)
    with pytest.raises(FramingError) as info:
        ChunkStreamDecoder().feed(end_with_seq)
    assert str(info.value) == "num1 must be 0 for checksum but got 3"


class _Socket:
    """Hands out scripted chunks (``None``: a timeout) and records each timeout it was given."""

    def __init__(self, *chunks: Optional[bytes]) -> None:
        self.chunks = list(chunks)
        self.timeouts: list[Optional[float]] = []

    def settimeout(self, value: Optional[float]) -> None:
        self.timeouts.append(value)

    def recv(self, size: int) -> bytes:
        chunk = self.chunks.pop(0)
        if chunk is None:
            raise socket.timeout("timed out")
        return chunk


class _Monotonic:
    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]


def _read(sock: _Socket, clock: _Monotonic, *, timeout: float = 0.5, first: bytes = b"") -> ChunkStreamDecoder:
    decoder = ChunkStreamDecoder()
    read_decoded(sock, decoder, timeout=timeout, first=first, monotonic=clock)  # type: ignore[arg-type]
    return decoder


STREAM = encode_chunk_stream(b"abcdef", chunk_size=2)


def test_read_decoded_uses_the_bytes_already_read_first() -> None:
    whole = _Socket()
    assert _read(whole, _Monotonic(10.0), first=STREAM).body() == b"abcdef"
    assert whole.timeouts == []  # nothing left to read
    rest = _Socket(STREAM[7:20], STREAM[20:])
    assert _read(rest, _Monotonic(10.0), first=STREAM[:7]).body() == b"abcdef"


def test_read_decoded_gives_each_read_what_is_left_of_one_deadline() -> None:
    sock = _Socket(STREAM[:10], STREAM[10:])
    assert _read(sock, _Monotonic(10.0, 10.1, 10.4)).body() == b"abcdef"
    assert sock.timeouts == pytest.approx([0.4, 0.1])


def test_read_decoded_fails_at_the_deadline_with_what_arrived() -> None:
    sock = _Socket(STREAM[:12], STREAM[12:])
    with pytest.raises(FrameTimeout) as info:
        _read(sock, _Monotonic(10.0, 10.1, 10.5))  # the second read would start exactly at the deadline
    assert str(info.value) == "no complete transfer within 0.5 s (2 bytes received)"
    with pytest.raises(FrameTimeout) as info:
        _read(_Socket(STREAM[:12], None), _Monotonic(10.0))
    assert str(info.value) == "no complete transfer within 0.5 s (2 bytes received)"
    with pytest.raises(StreamClosed) as closed:
        _read(_Socket(STREAM[:12], b""), _Monotonic(10.0))
    assert str(closed.value) == "connection closed before the transfer ended (2 bytes received)"


def test_read_decoded_refuses_a_timeout_that_is_not_positive() -> None:
    for bad in (0, -1.0):
        with pytest.raises(ValueError) as info:
            _read(_Socket(), _Monotonic(10.0), timeout=bad)
        assert str(info.value) == f"timeout must be positive, got {bad!r}"


@pytest.mark.parametrize("framing", list(TransferFraming))
def test_pull_file_keeps_the_framing_and_the_size_bound(framing: TransferFraming) -> None:
    left, right = socket.socketpair()
    with left, right:
        right.sendall(encode_pull_reply(framing, b"payload"))
        pulled = pull_file(left, framing, timeout=5)
        assert (pulled.data, pulled.framing) == (b"payload", framing)
    left, right = socket.socketpair()
    with left, right:
        right.sendall(encode_pull_reply(framing, b"x" * 64))
        with pytest.raises(FrameTooLarge):
            pull_file(left, framing, timeout=5, max_bytes=32)


def test_an_empty_25_pull_says_nothing_was_received() -> None:
    left, right = socket.socketpair()
    with left, right:
        right.sendall(encode_pull_reply(TransferFraming.BINARY_EXCHANGE, b""))
        with pytest.raises(FramingError) as info:
            pull_file(left, TransferFraming.BINARY_EXCHANGE, timeout=5)
        assert str(info.value) == "nothing received from the server"
