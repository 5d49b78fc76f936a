"""The binary file-transfer framings of FLARE 2.4-2.6, shared by the client and the fake server.

FLARE 2.4 sends a downloaded file as a *chunk stream* (nvflare/fuel/hci/chunk.py): data frames
``0x65 seq:u32 size:u32 <bytes>`` (seq from 1, size <= 1 MiB) and one end frame ``0x66 0:u32 crc32:u32``.
FLARE 2.5 and 2.6 use a *binary exchange* (nvflare/fuel/hci/binary_proto.py) both ways:
``0x01 meta_size:u32 body_size:u64 <meta utf-8> <body> 0:u32 crc32(body):u32``. A first byte other than
``0x01`` means the exchange is an ordinary ``\\x04``-terminated text request.

The decoders hold no socket (feed them bytes in any split), bound what they keep, and check every field
FLARE's receivers check, with FLARE's wording where the client surfaces it.
"""

from __future__ import annotations

import enum
import socket
import struct
import time
import zlib
from dataclasses import dataclass
from typing import Callable, Protocol, Union

from .framing import DEFAULT_MAX_BYTES, FrameTimeout, FrameTooLarge, FramingError, StreamClosed

# --- FLARE 2.4 chunk stream ------------------------------------------------------------------------

CHUNK_HEADER = struct.Struct(">BII")  # marker, seq (or 0), size (or crc32)
CHUNK_MARKER_DATA = 101
CHUNK_MARKER_END = 102
MAX_CHUNK_SIZE = 1024 * 1024

# --- FLARE 2.5/2.6 binary exchange -----------------------------------------------------------------

BINARY_MARKER = 1
BINARY_HEADER = struct.Struct(">IQ")  # meta_size, body_size
BINARY_FOOTER = struct.Struct(">II")  # end marker (0), crc32 of the body
#: FLARE 2.5's ``MAX_BLOCK_SIZE``: its receivers read at most this many bytes per recv.
MAX_BLOCK_SIZE = 1024
#: The meta of an exchange is one request document; nothing legitimate comes close to this.
DEFAULT_MAX_META_BYTES = 1024 * 1024


class TransferKey:
    """Reply meta keys of a FLARE 2.4+ ``pull_folder`` download (``download_job``, ``download_job_components``)."""

    FILES = "files"
    TX_ID = "tx_id"
    FOLDER_NAME = "folder_name"
    CMD_NAME = "cmd_name"
    #: Not on the wire: FLARE's client puts the folder it downloaded to here in the result it returns.
    LOCATION = "location"


class TransferFraming(enum.Enum):
    """How a ``pull_binary`` download reply is framed, by FLARE version."""

    CHUNK_STREAM = "chunk_stream"  # FLARE 2.4
    BINARY_EXCHANGE = "binary_exchange"  # FLARE 2.5, 2.6


def crc32(data: bytes, value: int = 0) -> int:
    """CRC-32 as FLARE's ``Checksum`` computes it (``zlib.crc32`` masked to 32 bits)."""
    return zlib.crc32(data, value) & 0xFFFFFFFF


def encode_chunk_stream(data: bytes, *, chunk_size: int = MAX_CHUNK_SIZE) -> bytes:
    """Frame ``data`` as FLARE 2.4's server does: 1 MiB data frames, then the end frame (alone if empty)."""
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be in 1..{MAX_CHUNK_SIZE}, got {chunk_size!r}")
    parts: list[bytes] = []
    seq = 1
    for start in range(0, len(data), chunk_size):
        piece = data[start : start + chunk_size]
        parts.append(CHUNK_HEADER.pack(CHUNK_MARKER_DATA, seq, len(piece)))
        parts.append(piece)
        seq += 1
    parts.append(CHUNK_HEADER.pack(CHUNK_MARKER_END, 0, crc32(data)))
    return b"".join(parts)


def encode_binary_exchange(meta: str, body: bytes) -> bytes:
    """Frame one binary exchange as FLARE 2.5's ``send_binary_data`` does (empty meta is sent as size 0)."""
    meta_bytes = meta.encode("utf-8")
    return b"".join(
        (
            bytes([BINARY_MARKER]),
            BINARY_HEADER.pack(len(meta_bytes), len(body)),
            meta_bytes,
            body,
            BINARY_FOOTER.pack(0, crc32(body)),
        )
    )


def chunk_stream_parts(data: bytes, *, chunk_size: int = MAX_CHUNK_SIZE) -> list[Union[bytes, memoryview]]:
    """:func:`encode_chunk_stream` as pieces to send one after the other, the data as views (never copied)."""
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be in 1..{MAX_CHUNK_SIZE}, got {chunk_size!r}")
    view = memoryview(data)
    parts: list[Union[bytes, memoryview]] = []
    for seq, start in enumerate(range(0, len(data), chunk_size), start=1):
        piece = view[start : start + chunk_size]
        parts.append(CHUNK_HEADER.pack(CHUNK_MARKER_DATA, seq, len(piece)))
        parts.append(piece)
    parts.append(CHUNK_HEADER.pack(CHUNK_MARKER_END, 0, crc32(data)))
    return parts


def binary_exchange_parts(meta: str, body: bytes) -> list[Union[bytes, memoryview]]:
    """:func:`encode_binary_exchange` as pieces to send one after the other, the body not copied."""
    meta_bytes = meta.encode("utf-8")
    head = bytes([BINARY_MARKER]) + BINARY_HEADER.pack(len(meta_bytes), len(body)) + meta_bytes
    return [head, memoryview(body), BINARY_FOOTER.pack(0, crc32(body))]


def pull_reply_parts(framing: TransferFraming, data: bytes) -> list[Union[bytes, memoryview]]:
    """:func:`encode_pull_reply` as pieces (a file is sent without being copied into one buffer)."""
    if framing is TransferFraming.CHUNK_STREAM:
        return chunk_stream_parts(data)
    return binary_exchange_parts("", data)


class Decoder(Protocol):
    """A framing decoder: fed received bytes, it says when the transmission is complete."""

    @property
    def done(self) -> bool: ...  # pragma: no cover - protocol

    @property
    def size(self) -> int: ...  # pragma: no cover - protocol

    def feed(self, chunk: bytes) -> bool: ...  # pragma: no cover - protocol


class ChunkStreamDecoder:
    """Reassembles a FLARE 2.4 chunk stream; checks markers, sequence, sizes and the CRC like chunk.py does."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes!r}")
        self._max_bytes = max_bytes
        self._pending = bytearray()
        self._body = bytearray()
        self._expect_seq = 1
        self._remaining = 0  # bytes still owed to the current data frame
        self._checksum = 0
        self._done = False

    @property
    def done(self) -> bool:
        """True once the end frame has been read and its checksum matched."""
        return self._done

    @property
    def size(self) -> int:
        """Data bytes received so far."""
        return len(self._body)

    def body(self) -> bytes:
        """The reassembled data; only valid once ``done``."""
        if not self._done:
            raise FramingError("chunk stream is not complete")
        return bytes(self._body)

    def feed(self, chunk: bytes) -> bool:
        """Add received bytes; return True when the end frame has arrived. Bytes after it are ignored."""
        view = memoryview(chunk)
        while view and not self._done:
            if self._remaining:
                take = view[: self._remaining]
                self._take(bytes(take))
                self._remaining -= len(take)
                view = view[len(take) :]
                continue
            need = CHUNK_HEADER.size - len(self._pending)
            self._pending += view[:need]
            view = view[need:]
            if len(self._pending) == CHUNK_HEADER.size:
                self._header(bytes(self._pending))
                self._pending.clear()
        return self._done

    def _take(self, data: bytes) -> None:
        if len(self._body) + len(data) > self._max_bytes:
            raise FrameTooLarge(f"download exceeds the limit of {self._max_bytes} bytes")
        self._body += data
        self._checksum = crc32(data, self._checksum)

    def _header(self, raw: bytes) -> None:
        marker, num1, num2 = CHUNK_HEADER.unpack(raw)
        if marker == CHUNK_MARKER_DATA:
            if num1 != self._expect_seq:
                raise FramingError(
                    f"Protocol Error: received seq {num1} does not match expected seq {self._expect_seq}"
                )
            if num2 > MAX_CHUNK_SIZE:
                raise FramingError(f"Protocol Error: received size {num2} is not in [0, {MAX_CHUNK_SIZE}]")
            self._expect_seq += 1
            self._remaining = num2
        elif marker == CHUNK_MARKER_END:
            if num1 != 0:
                raise FramingError(f"num1 must be 0 for checksum but got {num1}")
            if num2 != self._checksum:
                raise FramingError(f"checksum mismatch: expect {self._checksum} but received {num2}")
            self._done = True
        else:
            raise FramingError(f"invalid chunk marker {marker}")


class BinaryExchangeDecoder:
    """Parses one FLARE 2.5/2.6 binary exchange (marker, header, meta, body, footer), bounded in size."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_meta_bytes: int = DEFAULT_MAX_META_BYTES) -> None:
        if max_bytes <= 0 or max_meta_bytes <= 0:
            raise ValueError("max_bytes and max_meta_bytes must be positive")
        self._max_bytes = max_bytes
        self._max_meta_bytes = max_meta_bytes
        self._buffer = bytearray()  # marker/header, meta or footer being assembled
        self._stage = "marker"
        self._meta_size = 0
        self._body_size = 0
        self._body = bytearray()
        self._checksum = 0
        self._meta = ""
        self._done = False

    @property
    def done(self) -> bool:
        """True once the footer has been read and the checksum matched."""
        return self._done

    @property
    def size(self) -> int:
        """Body bytes received so far."""
        return len(self._body)

    @property
    def meta(self) -> str:
        """The exchange's meta text (a request document for a push, empty for a pull)."""
        return self._meta

    def body(self) -> bytes:
        """The exchange's body; only valid once ``done``."""
        if not self._done:
            raise FramingError("binary exchange is not complete")
        return bytes(self._body)

    def feed(self, chunk: bytes) -> bool:
        """Add received bytes; return True when the footer has arrived. Bytes after it are ignored."""
        view = memoryview(chunk)
        while view and not self._done:
            if self._stage == "body":
                take = view[: self._body_size - len(self._body)]
                self._body += take
                self._checksum = crc32(bytes(take), self._checksum)
                view = view[len(take) :]
                if len(self._body) == self._body_size:
                    self._stage = "footer"
                continue
            need = self._stage_size() - len(self._buffer)
            self._buffer += view[:need]
            view = view[need:]
            if len(self._buffer) == self._stage_size():
                self._advance(bytes(self._buffer))
                self._buffer.clear()
        return self._done

    def _stage_size(self) -> int:
        return {
            "marker": 1,
            "header": BINARY_HEADER.size,
            "meta": self._meta_size,
            "footer": BINARY_FOOTER.size,
        }[self._stage]

    def _advance(self, raw: bytes) -> None:
        if self._stage == "marker":
            if raw[0] != BINARY_MARKER:
                raise FramingError(f"not a binary exchange: first byte is {raw[0]}")
            self._stage = "header"
        elif self._stage == "header":
            self._meta_size, self._body_size = BINARY_HEADER.unpack(raw)
            if self._meta_size > self._max_meta_bytes:
                raise FrameTooLarge(f"binary exchange meta of {self._meta_size} bytes exceeds {self._max_meta_bytes}")
            if self._body_size > self._max_bytes:
                raise FrameTooLarge(f"binary exchange body of {self._body_size} bytes exceeds {self._max_bytes}")
            self._stage = "meta"
            if self._meta_size == 0:
                self._after_meta(b"")
        elif self._stage == "meta":
            self._after_meta(raw)
        else:
            marker, checksum = BINARY_FOOTER.unpack(raw)
            if marker != 0:
                raise FramingError(f"footer marker must be 0 but got {marker}")
            if checksum != self._checksum:
                raise FramingError(f"checksum mismatch: received {checksum} != {self._checksum}")
            self._done = True

    def _after_meta(self, raw: bytes) -> None:
        try:
            self._meta = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FramingError(f"binary exchange meta is not valid UTF-8: {exc}") from None
        self._stage = "body" if self._body_size else "footer"


def is_binary_exchange(first_byte: int) -> bool:
    """True when a transmission starting with this byte is a binary exchange (else it is text)."""
    return first_byte == BINARY_MARKER


@dataclass(frozen=True)
class PulledFile:
    """One file a server sent in reply to ``download_job_file``."""

    data: bytes
    framing: TransferFraming


def decoder_for(
    framing: TransferFraming, max_bytes: int = DEFAULT_MAX_BYTES
) -> ChunkStreamDecoder | BinaryExchangeDecoder:
    """A fresh decoder for a download reply in the given framing."""
    if framing is TransferFraming.CHUNK_STREAM:
        return ChunkStreamDecoder(max_bytes)
    return BinaryExchangeDecoder(max_bytes)


def encode_pull_reply(framing: TransferFraming, data: bytes) -> bytes:
    """The bytes a server of this framing sends for one pulled file (2.5+: empty meta, the file as body)."""
    if framing is TransferFraming.CHUNK_STREAM:
        return encode_chunk_stream(data)
    return encode_binary_exchange("", data)


def read_decoded(
    sock: socket.socket,
    decoder: Decoder,
    *,
    timeout: float,
    first: bytes = b"",
    recv_size: int = 64 * 1024,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Feed ``decoder`` from ``sock`` until it is done, under one deadline for the whole read.

    ``first`` holds bytes already read (e.g. the byte that told text from binary).
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    if first and decoder.feed(first):
        return
    deadline = monotonic() + timeout
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise FrameTimeout(f"no complete transfer within {timeout:g} s ({decoder.size} bytes received)")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(recv_size)
        except socket.timeout:
            raise FrameTimeout(f"no complete transfer within {timeout:g} s ({decoder.size} bytes received)") from None
        if not chunk:
            raise StreamClosed(f"connection closed before the transfer ended ({decoder.size} bytes received)")
        if decoder.feed(chunk):
            return


def pull_file(
    sock: socket.socket, framing: TransferFraming, *, timeout: float, max_bytes: int = DEFAULT_MAX_BYTES
) -> PulledFile:
    """Read one pulled file from ``sock`` in ``framing``. A 2.5+ exchange with an empty body is refused,
    as FLARE's client refuses it (``nothing received from the server``)."""
    decoder = decoder_for(framing, max_bytes)
    read_decoded(sock, decoder, timeout=timeout)
    data = decoder.body()
    if framing is TransferFraming.BINARY_EXCHANGE and not data:
        raise FramingError("nothing received from the server")
    return PulledFile(data, framing)
