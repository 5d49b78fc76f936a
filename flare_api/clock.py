"""Where time comes from. Share one :class:`VirtualClock` between a session and the fake server and an
hour-long job, monitored every two seconds, is over in milliseconds of wall time.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_VIRTUAL_START", "Clock", "RealClock", "VirtualClock"]

#: 2026-01-01T00:00:00Z: where a virtual clock starts unless told otherwise, so runs are reproducible.
DEFAULT_VIRTUAL_START = 1767225600.0


@runtime_checkable
class Clock(Protocol):
    """A source of wall time and a way to wait."""

    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards, for measuring elapsed time."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...


class RealClock:
    """The system clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def __repr__(self) -> str:
        return "RealClock()"


#: The latest time a virtual clock may show: 9999-12-31 00:00 UTC (a day short of the last moment Python's
#: ``datetime`` can format in any time zone). FLARE stamps logs, metas and job ids' times with it, so a clock
#: pushed past it would make every later request fail.
MAX_VIRTUAL_TIME = 253402214400.0


def _checked_time(when: float) -> float:
    if not math.isfinite(when):
        raise ValueError(f"a virtual clock time must be finite, not {when!r}")
    if not 0 <= when <= MAX_VIRTUAL_TIME:
        limit = f"{MAX_VIRTUAL_TIME:.0f} (9999-12-31)"
        raise ValueError(f"a virtual clock time must be between 0 and {limit}, not {when!r}")
    return float(when)


class VirtualClock:
    """A clock that only moves when told: by :meth:`advance`, :meth:`set` or a :meth:`sleep`.

    ``sleep`` returns at once after moving time forward, so code that polls on this clock runs as
    fast as the CPU allows. Thread-safe: concurrent sleepers each add their own interval.
    """

    def __init__(self, start: float = DEFAULT_VIRTUAL_START) -> None:
        self._start = _checked_time(start)
        self._now = self._start
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (must be ≥ 0) and return the new time."""
        if not 0 <= seconds < math.inf:
            raise ValueError(f"a virtual clock moves forward by a finite number of seconds, not {seconds!r}")
        with self._lock:
            self._now = _checked_time(self._now + seconds)
            return self._now

    def set(self, when: float) -> None:
        """Jump to the absolute time ``when``, which must not be in the clock's past."""
        when = _checked_time(when)
        with self._lock:
            if when < self._now:
                raise ValueError(f"a virtual clock cannot go backwards (from {self._now!r} to {when!r})")
            self._now = float(when)

    def reset(self, start: float | None = None) -> None:
        """Go back to the start time (or a new one); only for resetting a test fixture."""
        with self._lock:
            if start is not None:
                self._start = _checked_time(start)
            self._now = self._start

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.time()!r})"
