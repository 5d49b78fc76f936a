"""The one respond path: request bytes in, reply bytes out, for the TLS listener and the in-process transport.

A :class:`Responder` admits a connection (or refuses it: server shut down, ``tls_abort`` fault), reads
the request under the size limit, answers framing problems the way the server does (too large, not
UTF-8), applies armed faults and dispatches the command. Transports only move the bytes.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, Union

from flare_api.wire import (
    Document,
    FrameTimeout,
    FrameTooLarge,
    FramingError,
    ItemType,
    MetaKey,
    MetaStatus,
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
from .calls import LINE_LIMIT, SUMMARY_LIMIT, Call, CallLog, Exchange, shorten
from .faults import Fault, FaultKind, FaultPlan
from .reading import Received, decode_request
from .stats import ConnectionStats


@dataclass(frozen=True)
class Response:
    """What to send back for one request: ``complete`` if it ends with ``\x04`` (or is a whole binary
    transfer); ``hold`` keeps the connection open that many seconds afterwards (the ``no_end`` fault);
    ``parts`` follow ``payload`` (a pulled file's frames, sent without joining them into one buffer)."""

    payload: bytes
    complete: bool
    hold: float = 0.0
    parts: tuple[Union[bytes, memoryview], ...] = ()


#: Close without a byte: a dropped request, an unreadable one, or a server that is stopping.
NO_REPLY = Response(b"", complete=False)


class Admission(enum.Enum):
    """Whether a new connection gets to send its request."""

    ADMITTED = "admitted"
    #: Stopped, or shut down by an admin: behave like a server that is not there.
    NOT_RUNNING = "not running"
    #: A ``tls_abort`` fault fired: cut the connection before the handshake completes.
    ABORTED = "aborted"


#: What the call log gets when nobody subscribed to whole requests and replies (nothing is built).
_UNSUBSCRIBED = Exchange("", None)

#: Reads one request under the given byte limit and returns its text (or text and binary body), raising the
#: wire's framing errors.
Receive = Callable[[int], Union[str, Received]]


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
        calls: Optional[CallLog] = None,
        network: str = "tls",
    ) -> None:
        self._state = state
        self._dispatcher = dispatcher
        self._faults = faults
        self._stats = stats
        self.max_request_bytes = max_request_bytes
        #: Every answered request goes here (``server.calls``).
        self.calls = calls if calls is not None else CallLog()
        #: How the listener's connections are named in the call log: ``tls``, or ``tcp`` in POC mode.
        self.network = network
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

    def respond(self, receive: Receive, peer: Optional[PeerIdentity], *, transport: Optional[str] = None) -> Response:
        """Read one request with ``receive`` (under the size limit) and answer it; log the call."""
        via = transport or self.network
        try:
            received = receive(self.max_request_bytes)
        except FrameTooLarge:
            self._stats.add("read_failures")
            reply = Reply().error(msg.REQUEST_TOO_LARGE.format(limit=self.max_request_bytes)).document()
            self._log(_Parsed(None, "<request too large>", None), peer, via, "", reply, "error")
            return Response(_encode(reply), complete=True)
        except (StreamClosed, FrameTimeout, OSError):
            self._stats.add("read_failures")
            return NO_REPLY
        except FramingError:
            # A whole request that is not UTF-8: FLARE's handler dies on the decode and hangs up; we
            # answer with its protocol-violation reply instead, which says what went wrong.
            self._stats.add("read_failures")
            reply = Reply().error(msg.PROTOCOL_VIOLATION).document()
            self._log(_Parsed(None, "<not UTF-8>", None), peer, via, "", reply, "error")
            return Response(_encode(reply), complete=True)
        if isinstance(received, str):
            received = Received(received)
        return self._answer(received.text, peer, via, received.body)

    def respond_bytes(self, request: bytes, peer: Optional[PeerIdentity]) -> Response:
        """Answer a request received whole as ``request`` (the in-process transport's bytes)."""

        def receive(limit: int) -> Received:
            return decode_request(request, max_bytes=limit, accept_binary=self.accepts_binary)

        return self.respond(receive, peer, transport="in_process")

    @property
    def accepts_binary(self) -> bool:
        """Whether requests may be binary exchanges (servers of FLARE 2.5 and later)."""
        return self._dispatcher.registry.version.accepts_binary_requests

    def _answer(self, text: str, peer: Optional[PeerIdentity], via: str, body: Optional[bytes] = None) -> Response:
        self._stats.add("requests")
        parsed = _parse(text)
        fault = self._faults.take(parsed.args[0] if parsed.args else None) if len(self._faults) else None
        if fault is not None:
            self._stats.add("faults_fired")
            if fault.kind is FaultKind.DELAY:
                self._closed.wait(fault.seconds)
            else:
                response = _fault_response(fault)
                reply_text = response.payload.decode("utf-8", "replace") if response.payload else None
                self._log_raw(parsed, peer, via, text, reply_text, f"fault:{fault.kind.value}", "")
                return response
        if self._closed.is_set():
            return NO_REPLY
        user = self._user_of(parsed, peer)
        if body is not None and not body:  # FLARE 2.5+'s hci answers an empty binary exchange itself
            refused = Reply().error_with_status(msg.NO_DATA_RECEIVED, MetaStatus.INTERNAL_ERROR, msg.NO_DATA_INFO)
            self._log(parsed, peer, via, text, refused.document(), None, user)
            return Response(_encode(refused.document()), complete=True)
        reply = self._dispatcher.handle(text, peer, body)
        if reply.binary is not None:
            size = sum(len(part) for part in reply.binary)
            status = "ok" if reply.binary else "error"
            self._log_raw(parsed, peer, via, text, None, status, f"<binary transfer: {size} bytes>", user)
            return Response(b"", complete=bool(reply.binary), parts=tuple(reply.binary))
        document = reply.document()
        self._log(parsed, peer, via, text, document, None, user)
        return Response(_encode(document), complete=True)

    # ----------------------------------------------------------------------------- the call log
    def _user_of(self, parsed: _Parsed, peer: Optional[PeerIdentity]) -> Optional[str]:
        """Who sends this request: the token's session, else the login name, else the certificate's name."""
        if isinstance(parsed.token, str):
            session = self._state.sessions.active(parsed.token, touch=False)
            if session is not None:
                return session.user_name
        if parsed.args and parsed.args[0] in ("_cert_login", "_login") and len(parsed.args) > 1:
            return parsed.args[1]
        return peer.name if peer is not None else None

    def _log(
        self,
        parsed: _Parsed,
        peer: Optional[PeerIdentity],
        via: str,
        text: str,
        reply: Document,
        status: Optional[str],
        user: Optional[str] = None,
    ) -> None:
        if status is None:
            status = _status_of(reply)
        who = user if user is not None else (peer.name if peer is not None else None)
        reply_text = (reply.to_json() if reply.items else "") if self.calls.subscribed else None
        self._log_raw(parsed, peer, via, text, reply_text, status, _summary(reply), who)

    def _log_raw(
        self,
        parsed: _Parsed,
        peer: Optional[PeerIdentity],
        via: str,
        text: str,
        reply_text: Optional[str],
        status: str,
        summary: str,
        user: Optional[str] = None,
    ) -> None:
        if user is None:
            user = self._user_of(parsed, peer) if parsed.args else (peer.name if peer is not None else None)
        call = Call(
            user=user,
            command=parsed.command,
            line=shorten(parsed.line, LINE_LIMIT),
            status=status,
            summary=summary,
            virtual_time=self._state.clock.time(),
            real_time=time.time(),
            transport=via,
        )
        exchange = Exchange(text, reply_text) if self.calls.subscribed else _UNSUBSCRIBED
        try:
            self.calls.record(call, exchange)
        except Exception as exc:  # a subscriber's bug must not cost the client its reply
            self.record_error("<call log subscriber>", exc)


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


@dataclass(frozen=True)
class _Parsed:
    """What the call log and fault matching need of a request: command name, line, token, arguments."""

    command: Optional[str]
    line: str
    token: object
    args: tuple[str, ...] = ()


def _parse(text: str) -> _Parsed:
    """Read a request's command line and token; an unreadable request has no command."""
    try:
        document = parse_document(join_request_text(text))
    except ValueError:
        return _Parsed(None, "<unreadable request>", None)
    command = document.first(ItemType.COMMAND)
    token_item = document.first(ItemType.TOKEN)
    token = token_item.data if token_item is not None else None
    if command is None or not isinstance(command.data, str):
        return _Parsed(None, "<no command>", token)
    try:
        args = tuple(split_command_line(command.data))
    except ValueError:
        return _Parsed(None, command.data, token)
    return _Parsed(args[0].split(".")[-1] if args else None, command.data, token, args)


def _status_of(reply: Document) -> str:
    """The reply's meta status, else ``error`` if it holds an error item, else ``ok``."""
    status = reply.meta.get(MetaKey.STATUS) if reply.meta else None
    if isinstance(status, str) and status:
        return status
    return "error" if any(item.type is ItemType.ERROR for item in reply.items) else "ok"


def _summary(reply: Document) -> str:
    """A short text of the reply: its first error or string, else what kinds of items it holds."""
    for wanted in (ItemType.ERROR, ItemType.STRING, ItemType.SUCCESS):
        for item in reply.items:
            if item.type is wanted and item.text:
                return shorten(item.text, SUMMARY_LIMIT)
    if not reply.items:
        return "<empty reply>"
    kinds = [item.type.value for item in reply.items]
    return shorten(", ".join(kinds), SUMMARY_LIMIT)
