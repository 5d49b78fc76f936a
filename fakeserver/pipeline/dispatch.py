"""The command registry and the request pipeline, in FLARE 2.3's order (reference section 4).

protocol validation → split → command lookup → session (login filter) → pre-authorization and
authorization → audit → handler. The registry is the single source of truth: it answers lookups,
renders the ``_commands`` table and generates ``docs/commands.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from flare_api.wire import (
    Document,
    ItemType,
    ProtocolViolation,
    join_request_text,
    parse_document,
    split_command_line,
)

from ..model.policy import NOBODY, Person, denial
from ..model.sessions import AdminSession
from ..model.state import AUDIT_NO_USER, ServerState
from ..protocol import messages as msg
from ..protocol.refusals import FlareCrash
from .reply import Reply

#: Commands the login filter lets through without a token, compared with ``args[0]`` as typed.
LOGIN_EXEMPT = ("_login", "_cert_login", "_check_session")


@dataclass(frozen=True)
class PeerIdentity:
    """Who the TLS peer certificate says the caller is; absent fields are None (as in FLARE)."""

    name: Optional[str]
    org: Optional[str]
    role: Optional[str]

    @classmethod
    def from_peercert(cls, cert: Optional[dict[str, Any]]) -> Optional[PeerIdentity]:
        """Read CN, O and unstructuredName from ``SSLSocket.getpeercert()``; None without a cert."""
        if not cert:
            return None
        fields: dict[str, str] = {}
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                fields[key] = value
        return cls(fields.get("commonName"), fields.get("organizationName"), fields.get("unstructuredName"))


@dataclass
class Request:
    """What a pre-authorization function and a handler see of one request."""

    state: ServerState
    registry: CommandRegistry
    line: str
    args: list[str]
    token: Optional[object]
    peer: Optional[PeerIdentity]
    spec: CommandSpec
    session: Optional[AdminSession] = None
    submitter: Person = NOBODY
    #: Scratch space a pre-authorization function fills for its handler (e.g. the loaded job).
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def user_name(self) -> str:
        return self.session.user_name if self.session else ""

    def user(self) -> Person:
        """The session user, normalized; raises FLARE's TypeError if the cert had no O or role."""
        session = self.session
        if session is None:
            return NOBODY
        return Person.of(session.user_name, session.org, session.role)


@dataclass(frozen=True)
class Authorize:
    """Pre-authorization outcome: check ``right`` for the user against ``site_org`` (default: server's)."""

    right: str
    submitter: Person = NOBODY
    site_org: Optional[str] = None


#: ``None``: run without authorization; ``False``: an error was appended, stop; ``Authorize``: check.
PreAuthzResult = Union[None, bool, Authorize]
PreAuthz = Callable[[Request, Reply], PreAuthzResult]
Handler = Callable[[Request, Reply], None]


@dataclass(frozen=True)
class CommandSpec:
    """One server command: how ``_commands`` lists it, how it is authorized, and its handler."""

    scope: str
    name: str
    description: str
    usage: str
    handler: Handler
    authz: Optional[PreAuthz] = None
    confirm: str = "none"
    client_cmd: Optional[str] = None
    visible: bool = True
    enabled: bool = True

    @property
    def full_name(self) -> str:
        return f"{self.scope}.{self.name}"

    def table_row(self) -> list[Optional[str]]:
        """The row ``_commands`` sends: seven cells, visibility as the string ``"True"``/``"False"``."""
        return [
            self.scope,
            self.name,
            self.description,
            self.usage,
            self.confirm,
            self.client_cmd,
            str(self.visible),
        ]


def check_right(right: str) -> PreAuthz:
    """A pre-authorization that always checks ``right`` against the server's org."""

    def pre_authz(request: Request, reply: Reply) -> PreAuthzResult:
        return Authorize(right)

    return pre_authz


class CommandRegistry:
    """Commands by bare and by scoped name. Disabled commands are kept for docs but never dispatched."""

    def __init__(self) -> None:
        self._specs: dict[str, CommandSpec] = {}

    def register(self, spec: CommandSpec) -> None:
        if spec.confirm not in ("none", "yesno", "auth"):
            raise ValueError(f"command {spec.full_name}: confirm must be none, yesno or auth, got {spec.confirm!r}")
        if spec.full_name in self._specs:
            raise ValueError(f"command {spec.full_name} is registered twice")
        self._specs[spec.full_name] = spec

    def register_all(self, specs: list[CommandSpec]) -> None:
        for spec in specs:
            self.register(spec)

    def lookup(self, name: str) -> list[CommandSpec]:
        """Enabled commands answering to ``name`` (bare: any scope; ``scope.name``: that one)."""
        scoped = self._specs.get(name)
        matches = [scoped] if scoped is not None else [s for s in self._specs.values() if s.name == name]
        return [spec for spec in matches if spec.enabled]

    def specs(self, *, include_disabled: bool = False) -> list[CommandSpec]:
        """All commands sorted by scope then name, as ``_commands`` orders them."""
        return sorted(
            (s for s in self._specs.values() if include_disabled or s.enabled),
            key=lambda s: (s.scope, s.name),
        )

    def commands_table(self) -> list[list[Optional[str]]]:
        """The ``_commands`` table: header plus every enabled command whose name does not start with ``_``."""
        rows: list[list[Optional[str]]] = [list(msg.COMMANDS_HEADER)]
        rows.extend(spec.table_row() for spec in self.specs() if not spec.name.startswith("_"))
        return rows


class Dispatcher:
    """Turns one received request text into one reply document."""

    def __init__(self, registry: CommandRegistry, state: ServerState) -> None:
        self.registry = registry
        self.state = state

    def handle_text(self, text: str, peer: Optional[PeerIdentity]) -> Document:
        """Validate the request as FLARE's server does, then dispatch it."""
        reply = Reply()
        try:
            request_doc = parse_document(join_request_text(text))
        except ProtocolViolation:
            return reply.error(msg.PROTOCOL_VIOLATION).document()
        command = request_doc.first(ItemType.COMMAND)
        if command is None:
            return reply.error(msg.PROTOCOL_VIOLATION).document()
        token_item = request_doc.first(ItemType.TOKEN)
        token = token_item.data if token_item is not None else None
        line = command.data if isinstance(command.data, str) else command.text
        self._dispatch(line, token, peer, reply)
        return reply.document()

    def _dispatch(self, line: str, token: Optional[object], peer: Optional[PeerIdentity], reply: Reply) -> None:
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
        request = Request(self.state, self.registry, line, args, token, peer, specs[0])
        try:
            with self.state.lock:
                self._run(request, reply)
        except FlareCrash as crash:
            reply.exception_occurred(crash.original)
        except Exception as exc:  # a bug in the fake: answer like FLARE, and record it loudly
            self.state.record_error(line, exc)
            reply.exception_occurred(exc)

    def _run(self, request: Request, reply: Reply) -> None:
        self.state.sync()
        if not self._login_filter(request, reply):
            return
        if not self._authz_filter(request, reply):
            return
        self.state.record_audit(request.user_name if request.session else AUDIT_NO_USER, request.line)
        request.spec.handler(request, reply)

    def _login_filter(self, request: Request, reply: Reply) -> bool:
        if request.args[0] in LOGIN_EXEMPT:
            return True
        if request.token is None:
            reply.error(msg.NO_TOKEN)
            return False
        if not isinstance(request.token, str):  # FLARE looks a dict token up in a dict and crashes
            raise FlareCrash(TypeError(f"unhashable type: '{type(request.token).__name__}'"))
        session = self.state.sessions.active(request.token, touch=True)
        if session is None:
            reply.error(msg.SESSION_INACTIVE)
            reply.string(msg.SESSION_TIMED_OUT_FILTER.format(timeout=format_seconds(self.state.sessions.idle_timeout)))
            return False
        request.session = session
        return True

    def _authz_filter(self, request: Request, reply: Reply) -> bool:
        pre_authz = request.spec.authz
        if pre_authz is None:
            return True
        outcome = pre_authz(request, reply)
        if outcome is None:
            return True
        if outcome is False or outcome is True:
            return bool(outcome)
        try:
            user = request.user()
        except TypeError as exc:  # a certificate without O or role (reference 10.4)
            raise FlareCrash(exc) from None
        request.submitter = outcome.submitter
        site_org = outcome.site_org if outcome.site_org is not None else self.state.server_org
        if self.state.policy.permits(user, outcome.right, site_org=site_org, submitter=outcome.submitter):
            return True
        info = denial(user, outcome.right)
        reply.error_with_status(msg.NOT_AUTHORIZED.format(user=user.name, right=outcome.right), "not_authorized", info)
        return False


def format_seconds(seconds: float) -> str:
    """Seconds as FLARE prints its integer settings: ``3600``, not ``3600.0``."""
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
