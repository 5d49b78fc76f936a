"""What the fake's dispatcher hands on and records (mutation testing, docs/testing.md): FLARE's refusals for
an ambiguous command, an unreadable line and a non-string token; a bug's reply and its ``server.errors``
record; the audit user; a 2.5+ upload body and ``cmd_props`` reaching the command; earlier params' values
reaching later ones; and the session store dropping expired sessions on its own."""

from __future__ import annotations

import random
from typing import Any, Optional

import pytest

from fakeserver import FakeFlareServer
from fakeserver.model.sessions import SessionStore
from fakeserver.model.state import AUDIT_NO_USER
from fakeserver.pipeline.arguments import Param, parse_params
from fakeserver.pipeline.registry import CommandSpec
from fakeserver.pipeline.reply import Reply
from fakeserver.pipeline.request import Request
from flare_api.clock import VirtualClock
from flare_api.wire import Document, Item, ItemType

from .test_command_pipeline import Harness

LEAD = ("lead@nvidia.com", "nvidia", "lead")


def _texts(reply: Document) -> list[str]:
    return [item.text for item in reply.items]


def _raw_request(command: Any, token: Optional[Any]) -> str:
    """A request whose command and token items may hold any JSON (what a hostile client can send)."""
    items = [Item(ItemType.COMMAND, command)] + ([Item(ItemType.TOKEN, token)] if token is not None else [])
    return Document(items).to_json()


@pytest.mark.fake_flare_only
def test_a_name_in_two_scopes_is_ambiguous(flare: FakeFlareServer) -> None:
    harness = Harness(flare)
    for scope in ("one", "two"):
        harness.registry.register(CommandSpec(scope, "twice", "d", "u", lambda request, reply: None))
    reply = harness.send("twice", harness.token(*LEAD))
    assert _texts(reply) == ['Command "twice" exists in multiple scopes. Please use full command name']
    assert reply.items[0].type.value == "error"


@pytest.mark.fake_flare_only
def test_an_unclosed_quote_is_flares_exception_occurred(flare: FakeFlareServer) -> None:
    reply = Harness(flare).send('meta "unclosed', None)
    assert _texts(reply) == ["Exception Occurred: ValueError: No closing quotation"]


@pytest.mark.fake_flare_only
def test_a_token_that_is_not_a_string_crashes_as_in_flare(flare: FakeFlareServer) -> None:
    harness = Harness(flare)
    harness.registry.register(CommandSpec("t", "who", "d", "u", lambda request, reply: reply.string("ran")))
    reply = harness.dispatcher.handle(_raw_request("who", {"a": 1}), None).document()
    assert _texts(reply) == ["Exception Occurred: TypeError: unhashable type: 'dict'"]


@pytest.mark.fake_flare_only
def test_a_command_that_is_a_dict_is_read_as_its_json_text(flare: FakeFlareServer) -> None:
    reply = Harness(flare).dispatcher.handle(_raw_request({"a b": 1}, None), None).document()
    assert _texts(reply) == ['Unknown command "{a b:"']  # shlex of '{"a b": 1}'
    reply = Harness(flare).dispatcher.handle(_raw_request(5, None), None).document()
    assert _texts(reply) == ["protocol violation"]  # not an item FLARE's document can hold


@pytest.mark.fake_flare_only
def test_a_bug_answers_like_flare_and_is_recorded_with_its_line(flare: FakeFlareServer) -> None:
    harness = Harness(flare)
    boom = RuntimeError("boom in the handler")

    def handle(request: Request, reply: Reply) -> None:
        raise boom

    harness.registry.register(CommandSpec("t", "explode", "d", "u", handle))
    before = len(harness.state.errors)
    reply = harness.send("explode now", harness.token(*LEAD))
    assert _texts(reply) == ["Exception Occurred: RuntimeError: boom in the handler"]
    assert len(harness.state.errors) == before + 1
    record = harness.state.errors[-1]
    assert record.command == "explode now"
    assert record.exception is boom
    assert "RuntimeError: boom in the handler" in record.traceback
    harness.state.errors.clear()  # the plugin's flare fixture raises recorded errors at teardown


@pytest.mark.fake_flare_only
def test_the_audit_names_the_sessions_user_or_flares_question_mark(flare: FakeFlareServer) -> None:
    harness = Harness(flare)
    harness.registry.register(CommandSpec("t", "noted", "d", "u", lambda request, reply: reply.string("ok")))
    harness.registry.register(CommandSpec("t", "_login", "d", "u", lambda request, reply: reply.string("ok")))
    harness.send("noted once", harness.token(*LEAD))
    assert (harness.state.audit[-1].user, harness.state.audit[-1].command) == ("lead@nvidia.com", "noted once")
    harness.send("_login", None)
    assert (harness.state.audit[-1].user, harness.state.audit[-1].command) == (AUDIT_NO_USER, "_login")
    assert AUDIT_NO_USER == "?"


@pytest.mark.fake_flare_only
def test_the_upload_body_and_cmd_props_reach_the_command(flare: FakeFlareServer) -> None:
    harness = Harness(flare)
    seen: list[tuple[Optional[bytes], Any]] = []

    def handle(request: Request, reply: Reply) -> None:
        seen.append((request.body, request.props))
        reply.string("ran")

    harness.registry.register(CommandSpec("t", "push", "d", "u", handle))
    token = harness.token(*LEAD)
    text = Document.request("push", token, meta={"cmd_props": {"topic": "x", "n": 1}}).to_json()
    harness.dispatcher.handle(text, None, b"uploaded bytes")
    harness.dispatcher.handle(Document.request("push", token).to_json(), None)
    assert seen == [(b"uploaded bytes", {"topic": "x", "n": 1}), (None, None)]


def test_later_params_see_the_values_of_earlier_ones() -> None:
    request: Any = object()
    params = [
        Param("a", lambda request, parsed: 1),
        Param(None, lambda request, parsed: None),
        Param("b", lambda request, parsed: parsed["a"] + parsed.get("given", 0) + 1),
    ]
    assert parse_params(params, request) == {"a": 1, "b": 2}
    given = {"given": 10}
    assert parse_params(params, request, given) == {"given": 10, "a": 1, "b": 12}
    assert given == {"given": 10}  # the earlier values are copied, not changed


def test_expired_sessions_are_dropped_by_any_create_or_lookup() -> None:
    clock = VirtualClock(0.0)
    store = SessionStore(clock, random.Random(1), idle_timeout=10.0)
    first, second = store.create(*LEAD), store.create(*LEAD)
    assert [s.token for s in store.all()] == [first.token, second.token]
    clock.advance(5.0)
    assert store.active(first.token, touch=True) is first
    clock.advance(5.5)  # second idle 10.5 s, first 5.5 s
    third = store.create(*LEAD)
    assert [s.token for s in store.all()] == [first.token, third.token]
    clock.advance(10.5)
    assert store.active("not-a-token", touch=False) is None
    assert len(store) == 0


# ------------------------------------------------------------------------ the client wire's exact texts
def test_the_wire_codecs_refusals_are_exact() -> None:
    from flare_api.wire import join_command_line, parse_document
    from flare_api.wire.framing import FramingError, encode_stream
    from flare_api.wire.message import ProtocolViolation, validate_document

    with pytest.raises(FramingError) as caught:
        encode_stream(['{"a": "\x03"}'])
    assert str(caught.value) == "a document must not contain the \\x03 or \\x04 control characters"
    with pytest.raises(FramingError) as caught:
        encode_stream(['{"a": "\u00e9"}'])
    assert str(caught.value) == "documents on the wire must be ASCII-only JSON"
    with pytest.raises(ProtocolViolation) as violation:
        parse_document("[" * 100_000 + "]" * 100_000)
    assert str(violation.value) == "document is nested too deeply to parse"
    with pytest.raises(ProtocolViolation) as violation:
        validate_document({"meta": {}})
    assert str(violation.value) == "document has no 'data' key"
    with pytest.raises(ValueError) as empty:
        join_command_line([])
    assert str(empty.value) == "a command line needs at least one argument (the command name)"


@pytest.mark.parametrize(("time", "kept"), [("2026-12-05 10:00:00", "2026-12-05 10:00:00"), (5, ""), (None, "")])
def test_a_documents_time_is_kept_only_as_text(time: Any, kept: str) -> None:
    from flare_api.wire.message import validate_document

    assert validate_document({"time": time, "data": [], "meta": {}}).time == kept
