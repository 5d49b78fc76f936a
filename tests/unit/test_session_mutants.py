"""``new_insecure_session`` asks the interceptors with its own kit and request timeout (mutation testing)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from fakeserver import FakeFlareServer
from fakeserver.poc_kit import write_poc_admin_kit
from flare_api import intercept, new_insecure_session
from flare_api.clock import VirtualClock

from .test_session_unit import Scripted, healthy


def test_new_insecure_session_routes_through_the_interceptor_for_its_kit(tmp_path: Path) -> None:
    kit = write_poc_admin_kit(tmp_path / "admin", "127.0.0.9", 8003)
    transport = Scripted(healthy)
    clock = VirtualClock()
    asked: list[tuple[Path, float]] = []

    def resolver(kit_path: Path, timeout: float) -> Optional[intercept.Route]:
        asked.append((kit_path, timeout))
        return intercept.Route(transport, clock)

    intercept.register(resolver)
    try:
        s = new_insecure_session(kit, timeout=3.0, request_timeout=2.5)
    finally:
        intercept.unregister(resolver)
    assert asked == [(kit.resolve(), 2.5)]
    assert s.clock is clock and s.is_ready()
    assert transport.sent[0][0].startswith("_login")


def test_new_insecure_session_without_interception_uses_the_request_timeout() -> None:
    with FakeFlareServer(secure=False, clock=VirtualClock(), intercept=False) as server:
        s = new_insecure_session(server.startup_kit(), timeout=5.0, request_timeout=2.5)
        try:
            assert s._transport.timeout == 2.5 and s.is_ready()
        finally:
            s.logout()
