"""Test helpers: raw protocol requests to a fake server, bypassing the Session."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Optional
from unittest import mock

from hypothesis import settings

from fakeserver import FakeFlareServer
from flare_api.transport import Transport
from flare_api.wire import Document, ItemType

ADMIN = "admin@nvidia.com"
USERS = ["admin@nvidia.com", "orgadmin@nvidia.com", "lead@nvidia.com", "lead@other.org", "member@nvidia.com"]


def examples(count: int) -> int:
    """Hypothesis examples for a test that sets its own count: ten times ``count`` under the ``explore``
    profile, otherwise at most the loaded profile's (fewer under ``dev`` and ``mutation``)."""
    if os.environ.get("HYPOTHESIS_PROFILE") == "explore":
        return count * 10
    return min(count, settings.default.max_examples)


def transport(server: FakeFlareServer, user: str = ADMIN, timeout: float = 5.0) -> Transport:
    """A transport presenting ``user``'s certificate (or plain TCP for a POC server)."""
    host, port = server.address
    context = server.provisioned.client_ssl_context(user) if server.secure else None
    return Transport(host, port, context, timeout=timeout)


def raw(server: FakeFlareServer, line: str, token: Optional[str] = None, user: str = ADMIN) -> Document:
    """Send one command line and return the reply document (which must exist)."""
    reply = transport(server, user).request(line, token)
    assert reply is not None, f"no reply document for {line!r}"
    return reply


def login(server: FakeFlareServer, user: str = ADMIN) -> str:
    """Log ``user`` in over the raw protocol and return the token."""
    reply = raw(server, f"_cert_login {user}", user=user)
    token = reply.first(ItemType.TOKEN)
    assert token is not None and isinstance(token.data, str), reply
    return token.data


def wire(reply: Document) -> list[dict]:
    """The reply's items as they were on the wire."""
    return [item.to_json() for item in reply.items]


@contextmanager
def no_processes() -> Iterator[None]:
    """Make every way of starting a process fail loudly (the fake must never run anything)."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the fake server started a process")

    targets = [(subprocess, "Popen"), (os, "system"), (os, "popen"), (os, "fork"), (os, "forkpty")]
    targets += [(os, name) for name in dir(os) if name.startswith(("exec", "spawn", "posix_spawn"))]
    with ExitStack() as stack:
        for module, name in targets:
            if hasattr(module, name):
                stack.enter_context(mock.patch.object(module, name, refuse))
        yield


_CLIENT_TIMEOUT = re.compile(r"failed after (\d+\.\d\d) s: FrameTimeout: no complete transmission within ([\d.]+) s")


def assert_client_timed_out(message: str, timeout: float) -> None:
    """``message`` says the client's own read deadline of ``timeout`` s fired, and no sooner than that.

    Not the server closing the stream, not some other error: how long it took past the deadline is left to
    the per-test timeout, since an upper bound on wall-clock time would fail on a loaded machine.
    """
    found = _CLIENT_TIMEOUT.search(message)
    assert found is not None, message
    elapsed, deadline = float(found.group(1)), float(found.group(2))
    assert deadline == timeout, message
    assert elapsed >= timeout, message


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    """One stdout line of ``proc``, waiting at most ``timeout`` seconds (an event wait, not a sleep)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"{proc.args!r} printed nothing within {timeout} s")
    return proc.stdout.readline()


@contextmanager
def reaped(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """Kill ``proc`` on the way out if it is still running, so a failed assertion leaves no server behind."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
