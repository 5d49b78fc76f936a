"""Simulated FL client sites: which are registered (connected), their tokens and heartbeat times.

A connected site "heartbeats" every ``heartbeat_interval`` seconds of server-clock time; its last
connect time is the latest heartbeat at or before now, computed when asked (no background thread).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from typing import Optional

from flare_api.clock import Clock

from .provision import Project, Site

DEFAULT_HEARTBEAT_INTERVAL = 10.0


class UnknownSite(KeyError):
    """The name is not a site of the provisioned project."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class SiteState:
    """One site of the project and its connection to the server."""

    name: str
    org: str
    connected: bool = False
    token: str = ""
    connected_at: float = 0.0


class SiteRegistry:
    """The project's sites; tests connect and disconnect them at will."""

    def __init__(
        self,
        project: Project,
        clock: Clock,
        rng: random.Random,
        *,
        connect_all: bool = True,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
    ) -> None:
        if heartbeat_interval <= 0:
            raise ValueError(f"heartbeat_interval must be positive, got {heartbeat_interval!r}")
        self._project = project
        self._clock = clock
        self._rng = rng
        self._connect_all = connect_all
        self.heartbeat_interval = heartbeat_interval
        self._sites: dict[str, SiteState] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the project's sites, all connected (or none, if built with ``connect_all=False``)."""
        self._sites = {s.name: SiteState(s.name, s.org) for s in self._project.sites}
        if self._connect_all:
            for name in self._sites:
                self.connect(name)

    def get(self, name: str) -> SiteState:
        try:
            return self._sites[name]
        except KeyError:
            known = ", ".join(sorted(self._sites)) or "none"
            raise UnknownSite(f"unknown site {name!r}; the project's sites are: {known}") from None

    def connect(self, name: str) -> SiteState:
        """Register a site now (a new token, as a real client gets on registration)."""
        site = self.get(name)
        if not site.connected:
            site.connected = True
            site.token = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            site.connected_at = self._clock.time()
        return site

    def disconnect(self, name: str) -> SiteState:
        site = self.get(name)
        site.connected = False
        site.token = ""
        return site

    def connected(self) -> list[SiteState]:
        """Registered sites in registration order, as the server lists them."""
        return sorted(
            (s for s in self._sites.values() if s.connected), key=lambda s: (s.connected_at, s.name)
        )

    def names(self) -> list[str]:
        return list(self._sites)

    def last_connect_time(self, name: str) -> Optional[float]:
        """Time of the site's latest heartbeat, or None if it is not connected."""
        site = self.get(name)
        if not site.connected:
            return None
        elapsed = max(0.0, self._clock.time() - site.connected_at)
        beats = math.floor(elapsed / self.heartbeat_interval)
        return site.connected_at + beats * self.heartbeat_interval

    def project_site(self, name: str) -> Site:
        return self._project.site(name)
