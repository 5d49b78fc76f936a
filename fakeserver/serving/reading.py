"""Reading one request: FLARE's ``\\x04``-terminated text, or (servers of FLARE 2.5+) a binary exchange.

A 2.5+ server reads every request through ``binary_proto.receive_all``: a first byte ``0x01`` starts a binary
exchange whose meta is the request document and whose body is the upload (``submit_job``'s zip); any other
first byte starts an ordinary text request (reference flare-2.4-2.6 section 2.3). Both are read under one
deadline and one byte limit, the body counted against the limit.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Callable, Optional

from flare_api.wire import FrameTimeout, StreamAccumulator, StreamClosed
from flare_api.wire.transfer import BinaryExchangeDecoder, is_binary_exchange

__all__ = ["Received", "decode_request", "read_request"]

RECV_SIZE = 64 * 1024


@dataclass(frozen=True)
class Received:
    """One request: its document text, and the body of a binary exchange (None for a text request)."""

    text: str
    body: Optional[bytes] = None


class _Text:
    """The text path, fed like a transfer decoder."""

    def __init__(self, max_bytes: int) -> None:
        self.stream = StreamAccumulator(max_bytes)

    @property
    def size(self) -> int:
        return self.stream.size

    def feed(self, chunk: bytes) -> bool:
        return self.stream.feed(chunk)

    def received(self) -> Received:
        return Received(self.stream.text())


class _Binary:
    """The binary-exchange path: the meta is the request document, the body the upload."""

    def __init__(self, max_bytes: int) -> None:
        self.decoder = BinaryExchangeDecoder(max_bytes)

    @property
    def size(self) -> int:
        return self.decoder.size

    def feed(self, chunk: bytes) -> bool:
        return self.decoder.feed(chunk)

    def received(self) -> Received:
        return Received(self.decoder.meta, self.decoder.body())


def _reader(first_byte: int, max_bytes: int, accept_binary: bool) -> _Text | _Binary:
    if accept_binary and is_binary_exchange(first_byte):
        return _Binary(max_bytes)
    return _Text(max_bytes)


def decode_request(data: bytes, *, max_bytes: int, accept_binary: bool) -> Received:
    """A request received whole (the in-process transport); raises the wire's framing errors."""
    reader = _reader(data[0] if data else 0, max_bytes, accept_binary)
    if not reader.feed(data):
        raise StreamClosed(f"connection closed before the request ended ({reader.size} bytes received)")
    return reader.received()


def read_request(
    sock: socket.socket,
    *,
    timeout: float,
    max_bytes: int,
    accept_binary: bool,
    monotonic: Callable[[], float] = time.monotonic,
) -> Received:
    """Read one request from ``sock``; the first byte picks text or binary (when ``accept_binary``)."""
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    deadline = monotonic() + timeout
    reader: Optional[_Text | _Binary] = None
    received = 0
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise FrameTimeout(f"no complete request within {timeout:g} s ({received} bytes received)")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(RECV_SIZE)
        except socket.timeout:
            raise FrameTimeout(f"no complete request within {timeout:g} s ({received} bytes received)") from None
        if not chunk:
            raise StreamClosed(f"connection closed before the request ended ({received} bytes received)")
        received += len(chunk)
        if reader is None:
            reader = _reader(chunk[0], max_bytes, accept_binary)
        if reader.feed(chunk):
            return reader.received()
