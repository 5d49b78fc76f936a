"""What a command sees of one request: the state, who asks, and the raw words of the command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from ..model.policy import NOBODY, Person
from ..model.sessions import AdminSession
from ..model.state import ServerState
from ..protocol.versions import FlareVersion

if TYPE_CHECKING:
    from .registry import CommandRegistry, CommandSpec


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
    """The context a handler gets first: typed arguments come as its other parameters, not from here."""

    state: ServerState
    registry: CommandRegistry
    line: str
    args: list[str]
    token: Optional[object]
    peer: Optional[PeerIdentity]
    spec: CommandSpec
    session: Optional[AdminSession] = None
    #: The job's submitter when the command's right was checked with one (forwarded to the sites).
    submitter: Person = NOBODY
    #: The body of a binary exchange (FLARE 2.5+ ``submit_job`` sends its zip so); None for a text request.
    body: Optional[bytes] = None
    #: The request meta's ``cmd_props`` (FLARE 2.5+ ``app_command`` data), None when absent.
    props: Any = None

    @property
    def version(self) -> FlareVersion:
        """The FLARE series the server emulates (its registry's)."""
        return self.registry.version

    @property
    def user_name(self) -> str:
        return self.session.user_name if self.session else ""

    def user(self) -> Person:
        """The session user, normalized; raises FLARE's TypeError if the cert had no O or role."""
        session = self.session
        if session is None:
            return NOBODY
        return Person.of(session.user_name, session.org, session.role)
