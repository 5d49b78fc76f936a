"""The FLARE 2.4 chunk stream and the 2.5/2.6 binary exchange: exact bytes, round trips in any split, refusals."""

from __future__ import annotations

import socket
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flare_api.wire.framing import FrameTooLarge, FramingError, StreamClosed
from flare_api.wire.transfer import (
    MAX_CHUNK_SIZE,
    BinaryExchangeDecoder,
    ChunkStreamDecoder,
    TransferFraming,
    encode_binary_exchange,
    encode_chunk_stream,
    encode_pull_reply,
    is_binary_exchange,
    pull_file,
)


def _feed_split(decoder: ChunkStreamDecoder | BinaryExchangeDecoder, data: bytes, step: int) -> bool:
    done = False
    for start in range(0, len(data), step):
        done = decoder.feed(data[start : start + step])
    return done


def test_empty_file_is_the_end_frame_alone_as_flare_24_sends_it() -> None:
    assert encode_chunk_stream(b"") == bytes.fromhex("66 00000000 00000000")


def test_chunk_stream_bytes_match_flare_24_layout() -> None:
    data = b"hello"
    expected = b"\x65" + struct.pack(">II", 1, 5) + data + b"\x66" + struct.pack(">II", 0, zlib.crc32(data))
    assert encode_chunk_stream(data) == expected


def test_large_file_is_cut_into_1_mib_frames_with_rising_seq() -> None:
    data = b"x" * (MAX_CHUNK_SIZE + 3)
    encoded = encode_chunk_stream(data)
    assert encoded[:9] == b"\x65" + struct.pack(">II", 1, MAX_CHUNK_SIZE)
    second = 9 + MAX_CHUNK_SIZE
    assert encoded[second : second + 9] == b"\x65" + struct.pack(">II", 2, 3)


def test_binary_exchange_bytes_match_flare_25_layout() -> None:
    meta, body = '{"a": 1}', b"zipbytes"
    expected = b"\x01" + struct.pack(">IQ", 8, 8) + meta.encode() + body + struct.pack(">II", 0, zlib.crc32(body))
    assert encode_binary_exchange(meta, body) == expected
    assert is_binary_exchange(expected[0]) and not is_binary_exchange(ord("{"))


@given(data=st.binary(max_size=3000), step=st.integers(min_value=1, max_value=64))
def test_chunk_stream_round_trips_in_any_split(data: bytes, step: int) -> None:
    decoder = ChunkStreamDecoder()
    assert _feed_split(decoder, encode_chunk_stream(data, chunk_size=100), step)
    assert decoder.body() == data


@given(meta=st.text(max_size=50), data=st.binary(max_size=3000), step=st.integers(min_value=1, max_value=64))
def test_binary_exchange_round_trips_in_any_split(meta: str, data: bytes, step: int) -> None:
    decoder = BinaryExchangeDecoder()
    assert _feed_split(decoder, encode_binary_exchange(meta, data), step)
    assert (decoder.meta, decoder.body()) == (meta, data)


def test_a_binary_exchange_sent_to_a_24_reader_is_an_invalid_chunk_marker() -> None:
    with pytest.raises(FramingError, match="invalid chunk marker 1"):
        ChunkStreamDecoder().feed(encode_binary_exchange("", b"data"))


def test_chunk_stream_refuses_bad_seq_bad_checksum_and_too_large() -> None:
    bad_seq = b"\x65" + struct.pack(">II", 2, 1) + b"a"
    with pytest.raises(FramingError, match="seq 2 does not match expected seq 1"):
        ChunkStreamDecoder().feed(bad_seq)
    bad_crc = b"\x65" + struct.pack(">II", 1, 1) + b"a" + b"\x66" + struct.pack(">II", 0, 5)
    with pytest.raises(FramingError, match="checksum mismatch"):
        ChunkStreamDecoder().feed(bad_crc)
    with pytest.raises(FrameTooLarge):
        ChunkStreamDecoder(max_bytes=10).feed(encode_chunk_stream(b"a" * 11))


def test_binary_exchange_refuses_oversize_header_before_reading_the_body() -> None:
    header = b"\x01" + struct.pack(">IQ", 0, 2**40)
    with pytest.raises(FrameTooLarge, match="body"):
        BinaryExchangeDecoder(max_bytes=1000).feed(header)
    with pytest.raises(FrameTooLarge, match="meta"):
        BinaryExchangeDecoder(max_meta_bytes=10).feed(b"\x01" + struct.pack(">IQ", 11, 0))


def test_binary_exchange_refuses_bad_footer() -> None:
    frame = bytearray(encode_binary_exchange("", b"abc"))
    frame[-1] ^= 0xFF
    with pytest.raises(FramingError, match="checksum mismatch"):
        BinaryExchangeDecoder().feed(bytes(frame))


@pytest.mark.parametrize("framing", list(TransferFraming))
def test_pull_file_reads_a_reply_from_a_socket(framing: TransferFraming) -> None:
    left, right = socket.socketpair()
    with left, right:
        right.sendall(encode_pull_reply(framing, b"payload"))
        assert pull_file(left, framing, timeout=5).data == b"payload"


def test_pull_file_refuses_an_empty_25_body_and_a_cut_stream() -> None:
    left, right = socket.socketpair()
    with left, right:
        right.sendall(encode_pull_reply(TransferFraming.BINARY_EXCHANGE, b""))
        with pytest.raises(FramingError, match="nothing received from the server"):
            pull_file(left, TransferFraming.BINARY_EXCHANGE, timeout=5)
    left, right = socket.socketpair()
    with left:
        right.sendall(encode_chunk_stream(b"abc")[:5])
        right.close()
        with pytest.raises(StreamClosed):
            pull_file(left, TransferFraming.CHUNK_STREAM, timeout=5)
