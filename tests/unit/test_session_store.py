"""The fake's admin session store: a new session starts active at its creation time (mutation testing,
docs/testing.md)."""

from __future__ import annotations

import random

from fakeserver.model.sessions import SessionStore
from flare_api.clock import VirtualClock


def test_a_new_session_starts_and_is_active_at_its_creation_time() -> None:
    clock = VirtualClock(1_000.0)
    store = SessionStore(clock, random.Random(3))
    session = store.create("lead@nvidia.com", "nvidia", "lead")
    assert (session.started_at, session.last_active) == (1_000.0, 1_000.0)
    assert (session.user_name, session.org, session.role) == ("lead@nvidia.com", "nvidia", "lead")
    assert store.active(session.token, touch=False) is session
