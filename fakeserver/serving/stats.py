"""Counters of what happened to connections and requests, shared by the listener and the responder.

Connection threads update them concurrently, so every change goes through :meth:`ConnectionStats.add`
under a lock; the counters are read-only properties.
"""

from __future__ import annotations

import threading
from typing import Literal

#: The names of the counters, in display order.
Counter = Literal[
    "accepted", "requests", "handshake_failures", "idle_closed", "evicted", "read_failures", "faults_fired"
]
COUNTERS: tuple[Counter, ...] = (
    "accepted", "requests", "handshake_failures", "idle_closed", "evicted", "read_failures", "faults_fired"
)  # fmt: skip


class ConnectionStats:
    """Counters of the listener and the respond path, for tests and benchmarks; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Counter, int] = dict.fromkeys(COUNTERS, 0)

    def add(self, counter: Counter, amount: int = 1) -> None:
        """Add ``amount`` to one counter, holding the lock (connection threads race on these)."""
        if counter not in self._counts:
            raise KeyError(f"no counter {counter!r}; counters: {', '.join(COUNTERS)}")
        with self._lock:
            self._counts[counter] += amount

    def reset(self) -> None:
        """Every counter back to zero."""
        with self._lock:
            self._counts = dict.fromkeys(COUNTERS, 0)

    def snapshot(self) -> dict[str, int]:
        """All counters read at one instant."""
        with self._lock:
            return {name: value for name, value in self._counts.items()}

    def _get(self, counter: Counter) -> int:
        with self._lock:
            return self._counts[counter]

    @property
    def accepted(self) -> int:
        """TCP connections accepted by the listener."""
        return self._get("accepted")

    @property
    def requests(self) -> int:
        """Requests read whole and answered (or faulted), over TLS and in-process."""
        return self._get("requests")

    @property
    def handshake_failures(self) -> int:
        """TLS handshakes that failed (no client certificate, not TLS, not completed before the deadline)."""
        return self._get("handshake_failures")

    @property
    def idle_closed(self) -> int:
        """Connections closed in the gate because no request began within the first-byte deadline."""
        return self._get("idle_closed")

    @property
    def evicted(self) -> int:
        """Waiting connections cut because ``max_pending`` connections were already waiting."""
        return self._get("evicted")

    @property
    def read_failures(self) -> int:
        """Requests that could not be read: closed, timed out, too large or not UTF-8."""
        return self._get("read_failures")

    @property
    def faults_fired(self) -> int:
        """Injected faults that fired."""
        return self._get("faults_fired")

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={value}" for name, value in self.snapshot().items())
        return f"ConnectionStats({counts})"
