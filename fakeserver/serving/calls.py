"""The call log: every request the server answered, in order, for tests to assert on (``server.calls``).

The responder records one :class:`Call` per request, TLS and in-process alike. The log is bounded
(:data:`DEFAULT_CAPACITY`, oldest dropped); subscribers also see the whole request and reply text,
which is what ``flare-harness serve --log-requests`` and ``--record FILE`` are built on.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Callable, Optional, Union

from ..model.reaper import REAPER

#: How many calls the log keeps; older ones are dropped (``CallLog.dropped`` counts them).
DEFAULT_CAPACITY = 10_000
#: Longer command lines (``submit_job`` carries the zipped job) are cut to this many characters.
LINE_LIMIT = 500
#: The reply summary is cut to this many characters.
SUMMARY_LIMIT = 200


@dataclass(frozen=True)
class Call:
    """One answered request.

    ``user`` is who asked (the session's user, the login name, or the certificate's name; None if
    unknown); ``command`` the bare command name (``submit_job`` also for ``job_mgmt.submit_job``; the
    ``line`` keeps what was sent; None for an unreadable request); ``status`` the reply's
    meta status, else ``"error"`` or ``"ok"``, or ``"fault:<kind>"`` when an injected fault answered;
    ``virtual_time`` is the server's clock, ``real_time`` the wall clock (``time.time()``).
    """

    user: Optional[str]
    command: Optional[str]
    line: str
    status: str
    summary: str
    virtual_time: float
    real_time: float
    transport: str

    def __str__(self) -> str:
        who = self.user or "-"
        return (
            f"[t={self.virtual_time:.3f}] {who} {self.transport} {self.line[:120]!r} -> {self.status}: {self.summary}"
        )


@dataclass(frozen=True)
class Exchange:
    """The whole request and reply of one call, as the wire carried them (reply None: nothing was sent)."""

    request: str
    reply: Optional[str]


Subscriber = Callable[[Call, Exchange], None]


class CallLog:
    """The calls a server answered, oldest first; thread-safe, bounded, cleared by ``server.reset()``."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity!r}")
        self.capacity = capacity
        self._calls: deque[Call] = deque(maxlen=capacity)
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        #: Calls dropped because the log was full (since the last ``clear``).
        self.dropped = 0

    # ----------------------------------------------------------------------------- recording
    def record(self, call: Call, exchange: Exchange) -> None:
        """Append ``call`` and hand it to every subscriber (the responder calls this once per request)."""
        with self._lock:
            if len(self._calls) == self.capacity:
                self.dropped += 1
            self._calls.append(call)
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber(call, exchange)

    @property
    def subscribed(self) -> bool:
        """Whether anyone wants the whole request and reply text (else the responder skips building it)."""
        return bool(self._subscribers)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(call, exchange)`` for every later request; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def record_to(self, target: Union[str, Path, IO[str]]) -> Callable[[], None]:
        """Write every later request and reply as one JSON line to ``target`` (a path or an open text file).

        Each line is ``{"call": {...the Call fields...}, "request": <wire text>, "reply": <wire text or null>}``.
        Returns a function that stops recording (and closes the file if this opened it).
        """
        owned = isinstance(target, (str, Path))
        stream: IO[str] = open(target, "a", encoding="utf-8") if isinstance(target, (str, Path)) else target  # noqa: SIM115
        write_lock = threading.Lock()

        def write(call: Call, exchange: Exchange) -> None:
            line = json.dumps({"call": asdict(call), "request": exchange.request, "reply": exchange.reply})
            with write_lock:
                stream.write(line + "\n")
                stream.flush()

        unsubscribe = self.subscribe(write)

        def stop() -> None:
            unsubscribe()
            if owned:
                with write_lock:
                    stream.close()

        return stop

    def clear(self) -> None:
        """Forget every call (subscribers stay); the old calls are freed by the reaper thread."""
        with self._lock:
            old, self._calls = self._calls, deque(maxlen=self.capacity)
            self.dropped = 0
        REAPER.discard([old])

    # ----------------------------------------------------------------------------- reading
    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.all())

    def __getitem__(self, index: int) -> Call:
        with self._lock:
            return self._calls[index]

    def all(self) -> list[Call]:
        """A snapshot of the calls, oldest first."""
        with self._lock:
            return list(self._calls)

    def commands(self) -> list[str]:
        """The command names in order (unreadable requests left out)."""
        return [call.command for call in self.all() if call.command is not None]

    def of(self, command: Optional[str] = None, *, user: Optional[str] = None) -> list[Call]:
        """The calls of ``command`` (bare name; a scoped one matches its bare name; None: any) by ``user``."""
        return [call for call in self.all() if _matches(call, command) and (user is None or call.user == user)]

    def last(self, command: Optional[str] = None) -> Call:
        """The latest call (of ``command``, if given); AssertionError if there is none."""
        calls = self.of(command)
        if not calls:
            raise AssertionError(f"no call of {command!r} was made" if command else "no call was made")
        return calls[-1]

    def assert_called(self, command: str, *, times: Optional[int] = None, user: Optional[str] = None) -> list[Call]:
        """Assert ``command`` was called (exactly ``times`` times, by ``user``, if given); returns those calls."""
        calls = self.of(command, user=user)
        by = f" by {user!r}" if user is not None else ""
        if times is None and not calls:
            raise AssertionError(f"{command!r} was not called{by}; calls: {self._brief()}")
        if times is not None and len(calls) != times:
            raise AssertionError(
                f"{command!r} was called {len(calls)} time(s){by}, expected {times}; calls: {self._brief()}"
            )
        return calls

    def _brief(self) -> str:
        names = [f"{c.command}({c.user})" for c in self.all()]
        return ", ".join(names[-30:]) or "none"

    def __repr__(self) -> str:
        return f"<CallLog {len(self)} call(s), capacity {self.capacity}>"


def _matches(call: Call, command: Optional[str]) -> bool:
    if command is None:
        return True
    return call.command is not None and call.command == command.split(".")[-1]


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"
