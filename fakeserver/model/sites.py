"""Simulated FL client sites: registration, heartbeats, silence, removal and re-registration.

A registered site "heartbeats" every ``heartbeat_interval`` seconds of server-clock time; its last
connect time is its latest heartbeat, computed when asked. A site can be made silent (registered but
not answering: FLARE shows "No Reply"), is dropped once silent for ``heartbeat_timeout`` seconds, and a
site removed with ``remove_client`` registers again at its next heartbeat. Nothing runs in the
background: :meth:`SiteRegistry.sync` applies what is due.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from typing import Callable, Optional

from flare_api.clock import Clock

from .project import Project, Site

DEFAULT_HEARTBEAT_INTERVAL = 10.0
#: FLARE drops a client that has not sent a heartbeat for this long (its ``heart_beat_timeout``).
DEFAULT_HEARTBEAT_TIMEOUT = 600.0


class UnknownSite(KeyError):
    """The name is not a site of the provisioned project."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class SiteState:
    """One site of the project and its link to the server."""

    name: str
    org: str
    connected: bool = False
    token: str = ""
    connected_at: float = 0.0
    #: Registered but silent since this time (None: answering).
    silent_since: Optional[float] = None
    #: Unregistered by remove_client; registers again at this time.
    rejoin_at: Optional[float] = None

    @property
    def responsive(self) -> bool:
        return self.connected and self.silent_since is None


class SiteRegistry:
    """The project's sites; tests connect, silence and disconnect them at will."""

    def __init__(
        self,
        project: Project,
        clock: Clock,
        rng: random.Random,
        *,
        connect_all: bool = True,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
    ) -> None:
        if heartbeat_interval <= 0 or heartbeat_timeout <= 0:
            raise ValueError("heartbeat_interval and heartbeat_timeout must be positive")
        self._project = project
        self._clock = clock
        self._rng = rng
        self._connect_all = connect_all
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self._sites: dict[str, SiteState] = {}
        #: Called with (site, registration time) each time a site registers (the servers' log lines).
        self.on_connect: list[Callable[[SiteState, float], None]] = []
        self.reset()

    def reset(self) -> None:
        """Back to the project's sites, all registered (or none, if built with ``connect_all=False``)."""
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

    def connect(self, name: str, when: Optional[float] = None) -> SiteState:
        """Register a site (a new token, as a real client gets on registration) and make it answer."""
        site = self.get(name)
        if not site.connected:
            site.connected = True
            site.token = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            site.connected_at = self._clock.time() if when is None else when
            for callback in self.on_connect:
                callback(site, site.connected_at)
        site.silent_since = None
        site.rejoin_at = None
        return site

    def disconnect(self, name: str) -> SiteState:
        """Unregister a site now (as FLARE does once its heartbeats have timed out)."""
        site = self.get(name)
        site.connected = False
        site.token = ""
        site.silent_since = None
        site.rejoin_at = None
        return site

    def silence(self, name: str) -> SiteState:
        """The site stays registered but stops answering and heartbeating; dropped after the timeout."""
        site = self.get(name)
        if not site.connected:
            raise ValueError(f"site {name!r} is not connected; connect it before silencing it")
        if site.silent_since is None:
            site.silent_since = self._clock.time()
        return site

    def remove(self, name: str) -> SiteState:
        """``remove_client``: unregister now; the site registers again at its next heartbeat."""
        site = self.get(name)
        silent = site.silent_since is not None
        self.disconnect(name)
        if not silent:
            site.rejoin_at = self._clock.time() + self.heartbeat_interval
        return site

    def sync(self, now: Optional[float] = None) -> bool:
        """Apply drops of silent sites and re-registrations due by ``now``; True if anything changed."""
        now = self._clock.time() if now is None else now
        changed = False
        for site in self._sites.values():
            if site.connected and site.silent_since is not None and now - site.silent_since >= self.heartbeat_timeout:
                self.disconnect(site.name)
                changed = True
            elif not site.connected and site.rejoin_at is not None and site.rejoin_at <= now:
                self.connect(site.name, when=site.rejoin_at)
                changed = True
        return changed

    def connected(self) -> list[SiteState]:
        """Registered sites in registration order, as the server lists them."""
        return sorted((s for s in self._sites.values() if s.connected), key=lambda s: (s.connected_at, s.name))

    def names(self) -> list[str]:
        return list(self._sites)

    def last_connect_time(self, name: str) -> Optional[float]:
        """Time of the site's latest heartbeat, or None if it is not registered."""
        site = self.get(name)
        if not site.connected:
            return None
        until = self._clock.time() if site.silent_since is None else site.silent_since
        beats = math.floor(max(0.0, until - site.connected_at) / self.heartbeat_interval)
        return site.connected_at + beats * self.heartbeat_interval

    def project_site(self, name: str) -> Site:
        return self._project.site(name)
