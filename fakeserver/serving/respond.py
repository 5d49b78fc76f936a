"""The one respond path: request bytes in, reply bytes out, for the TLS listener and the in-process transport.

A :class:`Responder` admits a connection (or refuses it: server shut down, ``tls_abort`` fault), reads
the request under the size limit, answers framing problems the way the server does (too large, not
UTF-8), applies armed faults and dispatches the command. Transports only move the bytes.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Callable, Optional

from flare_api.wire import (
    Document,
    FrameTimeout,
    FrameTooLarge,
    FramingError,
    ItemType,
    StreamAccumulator,
    StreamClosed,
    encode_stream,
    join_request_text,
    parse_document,
    split_command_line,
)

from ..model.state import ServerState
from ..pipeline.dispatch import Dispatcher, PeerIdentity
from ..pipeline.reply import Reply
from ..protocol import messages as msg
from .faults import Fault, FaultKind, FaultPlan
from .stats import ConnectionStats


@dataclass(frozen=True)
class Response:
    """What to send back for one request: ``complete`` if it ends with ``\x04``; ``hold`` keeps the
    connection open that many seconds afterwards (the ``no_end`` fault)."""

    payload: bytes
    complete: bool
    hold: float = 0.0


#: Close without a byte: a dropped request, an unreadable one, or a server that is stopping.
NO_REPLY = Response(b"", complete=False)


class Admission(enum.Enum):
    """Whether a new connection gets to send its request."""

    ADMITTED = "admitted"
    #: Stopped, or shut down by an admin: behave like a server that is not there.
    NOT_RUNNING = "not running"
    #: A ``tls_abort`` fault fired: cut the connection before the handshake completes.
    ABORTED = "aborted"


#: Reads one request under the given byte limit and returns its text, raising the wire's framing errors.
Receive = Callable[[int], str]


class Responder:
    """Turns one connection's request into its reply bytes; shared by every transport of one server."""

    def __init__(
        self,
        state: ServerState,
        dispatcher: Dispatcher,
        faults: FaultPlan,
        stats: ConnectionStats,
        *,
        max_request_bytes: int,
    ) -> None:
        self._state = state
        self._dispatcher = dispatcher
        self._faults = faults
        self._stats = stats
        self.max_request_bytes = max_request_bytes
        self._closed = threading.Event()
        self._closed.set()

    # ----------------------------------------------------------------------------- lifecycle
    def open(self) -> None:
        """Start answering (the server started)."""
        self._closed.clear()

    def close(self) -> None:
        """Stop answering: pending ``delay`` faults end now and no further command is dispatched."""
        self._closed.set()

    def record_error(self, where: str, exc: BaseException) -> None:
        """Keep an unexpected exception for ``server.errors`` (a bug in the fake, never swallowed)."""
        self._state.record_error(where, exc)

    # ----------------------------------------------------------------------------- the respond path
    def admit(self) -> Admission:
        """Whether a new connection is served; a ``tls_abort`` fault fires here, before any request."""
        if self._closed.is_set() or self._state.gone:
            return Admission.NOT_RUNNING
        if self._faults.take(None, at_handshake=True) is not None:
            self._stats.add("faults_fired")
            return Admission.ABORTED
        return Admission.ADMITTED

    def respond(self, receive: Receive, peer: Optional[PeerIdentity]) -> Response:
        """Read one request with ``receive`` (under the size limit) and answer it."""
        try:
            text = receive(self.max_request_bytes)
        except FrameTooLarge:
            self._stats.add("read_failures")
            return _error_response(msg.REQUEST_TOO_LARGE.format(limit=self.max_request_bytes))
        except (StreamClosed, FrameTimeout, OSError):
            self._stats.add("read_failures")
            return NO_REPLY
        except FramingError:
            # A whole request that is not UTF-8: FLARE's handler dies on the decode and hangs up; we
            # answer with its protocol-violation reply instead, which says what went wrong.
            self._stats.add("read_failures")
            return _error_response(msg.PROTOCOL_VIOLATION)
        return self._answer(text, peer)

    def respond_bytes(self, request: bytes, peer: Optional[PeerIdentity]) -> Response:
        """Answer a request received whole as ``request`` (the in-process transport's bytes)."""

        def receive(limit: int) -> str:
            stream = StreamAccumulator(limit)
            if not stream.feed(request):
                raise StreamClosed(f"connection closed before end of transmission ({stream.size} bytes received)")
            return stream.text()

        return self.respond(receive, peer)

    def _answer(self, text: str, peer: Optional[PeerIdentity]) -> Response:
        self._stats.add("requests")
        fault = self._faults.take(_command_name(text)) if len(self._faults) else None
        if fault is not None:
            self._stats.add("faults_fired")
            if fault.kind is FaultKind.DELAY:
                self._closed.wait(fault.seconds)
            else:
                return _fault_response(fault)
        if self._closed.is_set():
            return NO_REPLY
        return Response(_encode(self._dispatcher.handle_text(text, peer)), complete=True)


def _encode(document: Document) -> bytes:
    """One framed reply; a document without items goes out as a bare ``\\x04``, as FLARE sends it."""
    return encode_stream([document.to_json()] if document.items else [])


def _error_response(text: str) -> Response:
    return Response(_encode(Reply().error(text).document()), complete=True)


def _fault_response(fault: Fault) -> Response:
    if fault.kind is FaultKind.GARBAGE:
        return Response(b"this is not a FLARE document\x03\x04", complete=True)
    if fault.kind is FaultKind.EMPTY:
        return Response(b"\x04", complete=True)
    if fault.kind is FaultKind.PARTIAL:
        body = Reply().string("partial").document().to_json().encode("ascii")
        return Response(body[: len(body) // 2], complete=False)
    if fault.kind is FaultKind.NO_END:
        body = Reply().string("no end").document().to_json().encode("ascii") + b"\x03"
        return Response(body, complete=False, hold=fault.seconds)
    return NO_REPLY  # DROP


def _command_name(text: str) -> Optional[str]:
    """The command name of a request, for fault matching; None if it has none."""
    try:
        command = parse_document(join_request_text(text)).first(ItemType.COMMAND)
        if command is None or not isinstance(command.data, str):
            return None
        return split_command_line(command.data)[0]
    except (ValueError, IndexError):
        return None
