"""What a running job's app answers to FLARE 2.5+'s ``app_command <job_id> <topic>`` (``Session.do_app_command``).

A real job registers app command functions by topic; the fake has none until a test registers one
(``server.app_commands.register(topic, fn)``). ``fn(job_id, cmd_data)`` returns the reply dict, or None for
an app that does not answer in time (FLARE's ``no_reply``). Registrations are cleared by ``reset()``.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

#: ``fn(job_id, cmd_data)`` → the app's reply dict, or None when it does not answer.
AppCommand = Callable[[str, Any], Optional[dict[str, Any]]]

#: At most this many topics (a test suite's worth), so a misbehaving fixture cannot grow it without bound.
MAX_TOPICS = 256


class AppCommands:
    """The app command functions of every job, by topic (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._functions: dict[str, AppCommand] = {}

    def register(self, topic: str, function: AppCommand) -> None:
        """Answer ``topic`` with ``function`` from now on (replacing an earlier one)."""
        if not isinstance(topic, str) or not topic or any(c.isspace() for c in topic):
            raise ValueError(f"an app command topic is one word, got {topic!r}")
        if not callable(function):
            raise TypeError(f"an app command function must be callable, got {type(function).__name__}")
        with self._lock:
            if topic not in self._functions and len(self._functions) >= MAX_TOPICS:
                raise ValueError(f"at most {MAX_TOPICS} app command topics")
            self._functions[topic] = function

    def unregister(self, topic: str) -> None:
        with self._lock:
            self._functions.pop(topic, None)

    def get(self, topic: str) -> Optional[AppCommand]:
        with self._lock:
            return self._functions.get(topic)

    def clear(self) -> None:
        with self._lock:
            self._functions.clear()
