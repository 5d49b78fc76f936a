"""Byte framing of the FLARE 2.3 admin protocol: JSON documents ended by ``\\x03``, a stream ended by ``\\x04``.

Unlike FLARE's own reader, every read here has a deadline and a size limit, and the text is decoded
once at the end (FLARE decodes each 1024-byte chunk on its own and breaks on split UTF-8 sequences).
"""

from __future__ import annotations

import socket
import time
from typing import Callable, Union

LINE_END = "\x03"
ALL_END = "\x04"
LINE_END_BYTE = b"\x03"
ALL_END_BYTE = b"\x04"

#: Largest stream a reader accepts unless told otherwise. A submitted job travels inside one
#: request, so this bounds the size of an uploaded job (base64 adds a third).
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
RECV_CHUNK = 64 * 1024


class FramingError(Exception):
    """The byte stream does not follow the framing rules (too large, cut short, not UTF-8)."""


class FrameTooLarge(FramingError):
    """The peer sent more bytes than the reader's limit before ``\\x04``."""


class StreamClosed(FramingError):
    """The peer closed the connection before sending ``\\x04``."""


class FrameTimeout(FramingError):
    """The peer did not finish its transmission before the deadline."""


class StreamAccumulator:
    """Collects received chunks until ``\\x04``; feed it bytes in any split and ask for the text.

    It holds no socket, so framing can be tested (and fuzzed) without one.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes!r}")
        self._max_bytes = max_bytes
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = False

    @property
    def done(self) -> bool:
        """True once ``\\x04`` has been seen; later bytes are ignored, as FLARE's readers do."""
        return self._done

    @property
    def size(self) -> int:
        """Bytes accepted so far (excluding the ``\\x04`` and anything after it)."""
        return self._size

    def feed(self, chunk: bytes) -> bool:
        """Add a received chunk; return True when the transmission is complete."""
        if self._done or not chunk:
            return self._done
        end = chunk.find(ALL_END_BYTE)
        if end >= 0:
            chunk = chunk[:end]
            self._done = True
        self._size += len(chunk)
        if self._size > self._max_bytes:
            raise FrameTooLarge(f"transmission exceeds the limit of {self._max_bytes} bytes")
        self._chunks.append(chunk)
        return self._done

    def text(self) -> str:
        """Everything received before ``\\x04``, decoded as UTF-8."""
        data = b"".join(self._chunks)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FramingError(f"transmission is not valid UTF-8: {exc}") from None


def split_segments(text: str) -> list[str]:
    """Split received text into documents the way FLARE's client does: on ``\\x03``, empty ones dropped."""
    return [segment for segment in text.split(LINE_END) if segment]


def join_request_text(text: str) -> str:
    """Turn received text into one document the way FLARE's server does: drop every ``\\x03``, strip."""
    return text.replace(LINE_END, "").strip()


def encode_stream(documents: list[str]) -> bytes:
    """Frame serialized documents as one transmission: each followed by ``\\x03``, then ``\\x04``."""
    for doc in documents:
        if LINE_END in doc or ALL_END in doc:
            raise FramingError("a document must not contain the \\x03 or \\x04 control characters")
    body = "".join(doc + LINE_END for doc in documents)
    try:
        return body.encode("ascii") + ALL_END_BYTE
    except UnicodeEncodeError:
        raise FramingError("documents on the wire must be ASCII-only JSON") from None


def read_stream(
    sock: socket.socket,
    *,
    timeout: float,
    max_bytes: int = DEFAULT_MAX_BYTES,
    monotonic: Callable[[], float] = time.monotonic,
) -> str:
    """Read from ``sock`` until ``\\x04`` and return the text before it.

    ``timeout`` bounds the whole read, not each ``recv``: a peer trickling one byte a second cannot
    hold the reader past its deadline.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    acc = StreamAccumulator(max_bytes)
    deadline = monotonic() + timeout
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise FrameTimeout(f"no complete transmission within {timeout:g} s ({acc.size} bytes received)")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(RECV_CHUNK)
        except socket.timeout:
            raise FrameTimeout(f"no complete transmission within {timeout:g} s ({acc.size} bytes received)") from None
        if not chunk:
            raise StreamClosed(f"connection closed before end of transmission ({acc.size} bytes received)")
        if acc.feed(chunk):
            return acc.text()


def send_stream(sock: socket.socket, payload: Union[bytes, memoryview], *, timeout: float) -> None:
    """Send a framed transmission with a deadline on the whole write."""
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    sock.settimeout(timeout)
    try:
        sock.sendall(payload)
    except socket.timeout:
        raise FrameTimeout(f"could not send {len(payload)} bytes within {timeout:g} s") from None
