"""Target validation shared by the system commands (``server | client [names] | all``, reference 6.0)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.state import ServerState
from ..protocol import messages as msg

SERVER = "server"
CLIENT = "client"
ALL = "all"


@dataclass(frozen=True)
class Targets:
    """The validated target: its type and, for ``client``/``all``, the connected sites it names."""

    type: str
    clients: list[str] = field(default_factory=list)

    @property
    def includes_server(self) -> bool:
        return self.type in (SERVER, ALL)


class TargetError(ValueError):
    """A target argument FLARE refuses; the message is FLARE's text."""


def validate_targets(state: ServerState, args: list[str]) -> Targets:
    """Check ``[type, names...]`` (the args after the command name) the way FLARE's server does."""
    if not args:
        raise TargetError(msg.MISSING_TARGET_TYPE)
    target_type = args[0]
    if target_type == SERVER:
        return Targets(SERVER)
    if target_type == CLIENT:
        names = args[1:]
    elif target_type == ALL:
        names = []
    else:
        raise TargetError(msg.UNKNOWN_TARGET_TYPE.format(target=target_type))
    sites = state.sites.connected()
    if names:
        # FLARE accepts a site's token as well as its name.
        by_key = {site.token: site.name for site in sites}
        by_key.update({site.name: site.name for site in sites})
        invalid = [name for name in names if name not in by_key]
        if invalid:
            raise TargetError(msg.INVALID_CLIENTS.format(names=" ".join(invalid)))
        clients = list(dict.fromkeys(by_key[name] for name in names))
    else:
        clients = [site.name for site in sites]
    if target_type == CLIENT and not clients:
        raise TargetError(msg.NO_CLIENTS_AVAILABLE)
    return Targets(target_type, clients)
