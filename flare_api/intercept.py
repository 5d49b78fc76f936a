"""Interception: let a test double answer sessions opened from its startup kits (as moto does for boto).

A fake server registers a :class:`Resolver` while it runs. ``new_secure_session`` and
``new_insecure_session`` ask the registered resolvers, when no ``transport`` is given, whether the kit
belongs to one of them; if so the session uses the returned transport and clock (no sockets, virtual
time). ``flare_api`` never imports the fake: the fake plugs in here. Pass ``transport=`` (e.g.
:func:`network_transport`) to go over the network anyway.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol, Union

from .clock import Clock
from .startup_kit import load_startup_kit
from .transport import RequestTransport, Transport, client_ssl_context

__all__ = ["Resolver", "Route", "network_transport", "register", "registered", "resolve", "unregister"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Route:
    """Where an intercepted session's requests go, and the clock it waits on (None: the caller's choice)."""

    transport: RequestTransport
    clock: Optional[Clock] = None


class Resolver(Protocol):
    """Maps a startup kit folder (resolved, absolute) to a :class:`Route`, or None if not its kit."""

    def __call__(self, kit_path: Path, timeout: float) -> Optional[Route]: ...


_resolvers: list[Resolver] = []
_lock = threading.Lock()


def register(resolver: Resolver) -> None:
    """Consult ``resolver`` for every session opened without a transport (newest registration first)."""
    with _lock:
        if resolver not in _resolvers:
            _resolvers.insert(0, resolver)


def unregister(resolver: Resolver) -> None:
    """Stop consulting ``resolver``; unknown resolvers are ignored."""
    with _lock:
        if resolver in _resolvers:
            _resolvers.remove(resolver)


def registered() -> list[Resolver]:
    """The resolvers consulted, in order."""
    with _lock:
        return list(_resolvers)


def resolve(kit_location: PathLike, timeout: float) -> Optional[Route]:
    """The route of the first resolver that claims the kit at ``kit_location``, or None."""
    with _lock:
        resolvers = list(_resolvers)
    if not resolvers:
        return None
    kit_path = Path(kit_location).resolve()
    for resolver in resolvers:
        route = resolver(kit_path, timeout)
        if route is not None:
            return route
    return None


def network_transport(kit_location: PathLike, *, secure: bool = True, timeout: float = 10.0) -> Transport:
    """The socket transport the kit names (TLS with its certificates; plain TCP for a POC kit, ``secure=False``).

    Pass it as ``transport=`` to a session factory to bypass interception and use the network.
    """
    kit = load_startup_kit(kit_location, secure=secure)
    context = None
    if secure:
        assert kit.ca_cert and kit.client_cert and kit.client_key
        context = client_ssl_context(kit.ca_cert, kit.client_cert, kit.client_key)
    return Transport(kit.host, kit.port, context, timeout=timeout)
