"""Fault injection: make the next matching request(s) fail the way real networks and servers fail.

A test arms a fault with :meth:`FaultPlan.inject`; the server consults the plan for every request and
applies the first armed fault whose command filter matches. Faults are consumed as they fire.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from dataclasses import dataclass
from typing import Optional


class FaultKind(str, enum.Enum):
    """What goes wrong."""

    #: Close the connection before the TLS handshake completes.
    TLS_ABORT = "tls_abort"
    #: Read the request, then close without replying.
    DROP = "drop"
    #: Wait ``seconds`` (real time) before replying normally.
    DELAY = "delay"
    #: Reply with bytes that are not a valid document.
    GARBAGE = "garbage"
    #: Send the first half of the reply document, then close.
    PARTIAL = "partial"
    #: Send the whole document but never the ``\\x04``; hold the connection ``seconds``, then close.
    NO_END = "no_end"
    #: Reply with a bare ``\\x04`` (FLARE's client reads this as "Server did not respond").
    EMPTY = "empty"


def parse_kind(kind: FaultKind | str) -> FaultKind:
    """``kind`` as a :class:`FaultKind`; a ValueError listing the valid kinds otherwise."""
    try:
        return FaultKind(kind)
    except ValueError:
        valid = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"{kind!r} is not a valid FaultKind; valid kinds: {valid}") from None


@dataclass(eq=False)
class Fault:
    """An armed fault. ``command`` limits it to one command name (bare or scoped); ``times`` < 0 is forever."""

    kind: FaultKind
    command: Optional[str] = None
    times: int = 1
    seconds: float = 0.0
    #: How many requests this fault has answered so far.
    hits: int = 0
    #: False once used up or disarmed.
    armed: bool = True

    def matches(self, command_name: Optional[str]) -> bool:
        if self.command is None:
            return True
        if command_name is None:
            return False
        if "." in command_name and "." in self.command:  # both scoped: the scopes must agree too
            return command_name == self.command
        return command_name.split(".")[-1] == self.command.split(".")[-1]


class FaultPlan:
    """The faults armed on one server; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        #: The latest faults that fired (bounded), for tests to inspect.
        self.fired: deque[Fault] = deque(maxlen=1000)

    def inject(
        self, kind: FaultKind | str, *, command: Optional[str] = None, times: int = 1, seconds: float = 0.0
    ) -> Fault:
        """Arm a fault for the next ``times`` requests (of ``command``, if given)."""
        kind = parse_kind(kind)
        if isinstance(times, bool) or not isinstance(times, int):
            raise ValueError(f"times must be an int, got {times!r}")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ValueError(f"seconds must be a number, got {seconds!r}")
        if times == 0:
            raise ValueError("times must be positive, or negative for 'every request'")
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds!r}")
        if kind in (FaultKind.DELAY, FaultKind.NO_END) and seconds <= 0:
            raise ValueError(f"fault {kind.value} needs seconds > 0")
        if kind is FaultKind.TLS_ABORT and command is not None:
            raise ValueError("a tls_abort fault fires before the command is known: do not pass command")
        fault = Fault(kind, command, times, seconds)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, command_name: Optional[str], *, at_handshake: bool = False) -> Optional[Fault]:
        """The fault to apply now, if any, consuming one use of it."""
        with self._lock:
            for fault in self._faults:
                if (fault.kind is FaultKind.TLS_ABORT) != at_handshake or not fault.matches(command_name):
                    continue
                fault.hits += 1
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                        fault.armed = False
                self.fired.append(fault)
                return fault
        return None

    def disarm(self, fault: Fault) -> bool:
        """Take ``fault`` out of the plan; True if it was still armed."""
        with self._lock:
            fault.armed = False
            if fault in self._faults:
                self._faults.remove(fault)
                return True
            return False

    def clear(self) -> None:
        with self._lock:
            for fault in self._faults:
                fault.armed = False
            self._faults.clear()
            self.fired.clear()

    def reset(self) -> None:
        self.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)
