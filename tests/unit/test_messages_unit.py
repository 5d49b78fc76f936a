"""Messages and argument checks no other test pinned (found by mutation testing): what a caller reads when
an argument is refused, and how reply texts are joined into exception messages."""

from __future__ import annotations

import random

import pytest

from fakeserver.model.sessions import SessionStore
from flare_api.clock import VirtualClock
from flare_api.errors import InvalidArgumentError, SessionInactive, raise_for_reply, reply_details
from flare_api.monitor import basic_cb_with_print, check_monitor_args
from flare_api.wire import Document, Item


@pytest.mark.parametrize(
    ("timeout", "poll_interval", "cb", "message"),
    [
        ("x", 1.0, None, "timeout must be a number of seconds, got 'x'"),
        (1.0, None, None, "poll_interval must be a number of seconds, got None"),
        (1.0, -1.0, None, "poll_interval must be a finite number >= 0, got -1.0"),
        (1.0, 1.0, 3, "cb must be callable or None, got int"),
    ],
)
def test_monitor_argument_messages(timeout: object, poll_interval: object, cb: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        check_monitor_args(timeout, poll_interval, cb)
    assert str(info.value) == message


def test_basic_cb_with_print_message() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        basic_cb_with_print(None, "J", {})
    assert str(info.value) == 'basic_cb_with_print needs cb_run_counter={"count": 0} as a keyword argument'


def test_reply_details_joins_non_empty_texts() -> None:
    assert reply_details(None) == "no reply"
    doc = Document([Item.error("a"), Item.string(""), Item.table([["x"]]), Item.string("b")])
    assert reply_details(doc) == "a; b"
    with pytest.raises(SessionInactive) as info:
        raise_for_reply("list_jobs", Document([Item.error("session_inactive"), Item.string("gone")]))
    assert str(info.value) == "the session is closed on server: session_inactive; gone"


@pytest.mark.parametrize("idle_timeout", [0, -1.0])
def test_session_store_refuses_a_non_positive_idle_timeout(idle_timeout: float) -> None:
    with pytest.raises(ValueError) as info:
        SessionStore(VirtualClock(), random.Random(0), idle_timeout)
    assert str(info.value) == f"idle_timeout must be positive, got {idle_timeout!r}"


def test_session_store_accepts_a_sub_second_idle_timeout() -> None:
    clock = VirtualClock()
    store = SessionStore(clock, random.Random(0), 0.5)
    session = store.create("u", "o", "r")
    clock.advance(0.5)
    assert store.active(session.token, touch=False) is session
    clock.advance(0.01)
    assert store.active(session.token, touch=False) is None


def test_session_store_end_says_whether_the_session_existed() -> None:
    store = SessionStore(VirtualClock(), random.Random(0))
    token = store.create("u", "o", "r").token
    assert store.end(token) is True
    assert store.end(token) is False
    assert store.end("never-issued") is False
