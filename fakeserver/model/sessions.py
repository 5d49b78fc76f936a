"""Admin sessions: a token per login, the user's identity, and an idle timeout on the server clock."""

from __future__ import annotations

import random
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

from flare_api.clock import Clock

DEFAULT_IDLE_TIMEOUT = 3600.0


@dataclass
class AdminSession:
    """One logged-in admin. ``org``/``role`` are None when the certificate lacks O/unstructuredName."""

    token: str
    user_name: str
    org: Optional[str]
    role: Optional[str]
    started_at: float
    last_active: float


class SessionStore:
    """Sessions by token. An idle session counts as gone once ``idle_timeout`` has passed on the clock.

    Sessions are kept in the order they were last active, so each create or lookup also drops every
    expired session from the front in O(1) per session dropped: abandoned logins cannot pile up.
    """

    def __init__(self, clock: Clock, rng: random.Random, idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> None:
        if idle_timeout <= 0:
            raise ValueError(f"idle_timeout must be positive, got {idle_timeout!r}")
        self._clock = clock
        self._rng = rng
        self.idle_timeout = idle_timeout
        #: Least recently active first.
        self._sessions: OrderedDict[str, AdminSession] = OrderedDict()
        self._lock = threading.Lock()

    def _new_token(self) -> str:
        # FLARE uses str(uuid.uuid1()); ours has the same shape but comes from the seeded source.
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=1))

    def create(self, user_name: str, org: Optional[str], role: Optional[str]) -> AdminSession:
        now = self._clock.time()
        with self._lock:
            self._sweep(now)
            token = self._new_token()
            while token in self._sessions:
                token = self._new_token()
            session = AdminSession(token, user_name, org, role, now, now)
            self._sessions[token] = session
            return session

    def active(self, token: Optional[str], *, touch: bool) -> Optional[AdminSession]:
        """The live session for ``token`` (dropping it if idle too long); ``touch`` marks it active now."""
        if token is None:
            return None
        now = self._clock.time()
        with self._lock:
            self._sweep(now)
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_active > self.idle_timeout:
                del self._sessions[token]
                return None
            if touch:
                session.last_active = now
                self._sessions.move_to_end(token)
            return session

    def _sweep(self, now: float) -> None:
        """Drop expired sessions from the least recently active end (call with ``_lock`` held)."""
        sessions = self._sessions
        while sessions:
            token, oldest = next(iter(sessions.items()))
            if now - oldest.last_active <= self.idle_timeout:
                return
            del sessions[token]

    def end(self, token: str) -> bool:
        """Remove a session (logout); True if it existed."""
        with self._lock:
            return self._sessions.pop(token, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()

    def all(self) -> list[AdminSession]:
        """A snapshot of the sessions not yet removed (expired ones linger until the next create or lookup)."""
        with self._lock:
            return list(self._sessions.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
