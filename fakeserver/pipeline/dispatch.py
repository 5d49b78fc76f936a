"""The request pipeline, in FLARE 2.3's order (reference section 4).

protocol validation → split → command lookup → session (login filter) → pre-authorization arguments →
authorization → audit → handler arguments → handler. A :class:`Refusal` raised at any step is rendered
into the reply; a :class:`FlareCrash` becomes FLARE's ``Exception Occurred``.
"""

from __future__ import annotations

from typing import Any, Optional

from flare_api.wire import (
    Document,
    ItemType,
    MetaStatus,
    ProtocolViolation,
    collector_paused,
    join_request_text,
    parse_document,
    split_command_line,
)

from ..model.state import AUDIT_NO_USER, ServerState
from ..protocol import messages as msg
from ..protocol.refusals import FlareCrash, Refusal
from ..protocol.versions import FlareVersion
from .arguments import parse_params
from .authorization import authorize
from .registry import CommandRegistry
from .reply import Reply
from .request import PeerIdentity, Request

__all__ = ["LOGIN_EXEMPT", "Dispatcher", "PeerIdentity", "format_seconds"]

#: Commands the login filter lets through without a token, compared with ``args[0]`` as typed.
LOGIN_EXEMPT = ("_login", "_cert_login", "_check_session")
#: The request meta key FLARE 2.5+ clients put a command's data under (``app_command``).
CMD_PROPS = "cmd_props"


class Dispatcher:
    """Turns one received request text into one reply document."""

    def __init__(self, registry: CommandRegistry, state: ServerState) -> None:
        self.registry = registry
        self.state = state

    def handle_text(self, text: str, peer: Optional[PeerIdentity]) -> Document:
        """Validate the request as FLARE's server does, then dispatch it."""
        return self.handle(text, peer).document()

    def handle(self, text: str, peer: Optional[PeerIdentity], body: Optional[bytes] = None) -> Reply:
        """:meth:`handle_text` for any request: ``body`` is a binary exchange's upload (FLARE 2.5+); the
        reply may carry a file pull's frames (``Reply.binary``) instead of items."""
        reply = Reply()
        try:
            request_doc = parse_document(join_request_text(text))
        except ProtocolViolation:
            return self._protocol_violation(reply)
        command = request_doc.first(ItemType.COMMAND)
        if command is None:
            return self._protocol_violation(reply)
        token_item = request_doc.first(ItemType.TOKEN)
        token = token_item.data if token_item is not None else None
        line = command.data if isinstance(command.data, str) else command.text
        self._dispatch(line, token, peer, reply, body, props=request_doc.meta.get(CMD_PROPS))
        return reply

    def _protocol_violation(self, reply: Reply) -> Reply:
        """2.3.12 answers a request it cannot read with status ``error``; 2.4+ with ``internal_error``."""
        if self.registry.version >= FlareVersion.V2_4:
            return reply.error_with_status(msg.PROTOCOL_VIOLATION, MetaStatus.INTERNAL_ERROR)
        return reply.error(msg.PROTOCOL_VIOLATION)

    def _dispatch(
        self,
        line: str,
        token: Optional[object],
        peer: Optional[PeerIdentity],
        reply: Reply,
        body: Optional[bytes],
        props: Any = None,
    ) -> None:
        try:
            args = split_command_line(line)
            name = args[0]
        except (ValueError, IndexError) as exc:  # FLARE's own crash on e.g. an unclosed quote
            reply.exception_occurred(exc)
            return
        specs = self.registry.lookup(name)
        if not specs:
            reply.error(msg.UNKNOWN_COMMAND.format(name=name))
            return
        if len(specs) > 1:
            reply.error(msg.AMBIGUOUS_COMMAND.format(name=name))
            return
        request = Request(self.state, self.registry, line, args, token, peer, specs[0], body=body, props=props)
        try:
            with self.state.lock, collector_paused():  # a long reply is thousands of acyclic containers
                self._run(request, reply)
        except Refusal as refusal:
            reply.refuse(refusal)
        except FlareCrash as crash:
            reply.exception_occurred(crash.original)
        except Exception as exc:  # a bug in the fake: answer like FLARE, and record it loudly
            self.state.record_error(line, exc)
            reply.exception_occurred(exc)

    def _run(self, request: Request, reply: Reply) -> None:
        self.state.sync()
        self._login_filter(request)
        spec = request.spec
        values = parse_params(spec.checks, request)
        if spec.authorization is not None:
            authorize(request, spec.authorization, values)
        self.state.record_audit(request.user_name if request.session else AUDIT_NO_USER, request.line)
        values = parse_params(spec.args, request, values)
        spec.handler(request, reply, **spec.handler_arguments(values))

    def _login_filter(self, request: Request) -> None:
        """Attach the token's session, or refuse; the login commands pass without one."""
        if request.args[0] in LOGIN_EXEMPT:
            return
        if request.token is None:
            raise Refusal(msg.NO_TOKEN)
        if not isinstance(request.token, str):  # FLARE looks a dict token up in a dict and crashes
            raise FlareCrash(TypeError(f"unhashable type: '{type(request.token).__name__}'"))
        session = self.state.sessions.active(request.token, touch=True)
        if session is None:
            timeout = format_seconds(self.state.sessions.idle_timeout)
            raise Refusal(msg.SESSION_INACTIVE, extra=(msg.SESSION_TIMED_OUT_FILTER.format(timeout=timeout),))
        request.session = session


def format_seconds(seconds: float) -> str:
    """Seconds as FLARE prints its integer settings: ``3600``, not ``3600.0``."""
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
