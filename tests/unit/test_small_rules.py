"""Small rules with exact outcomes: the 2.4+ status map's messages (the command named in a refusal, a
non-string status), ``read_stream``'s deadline when the clock reads exactly the deadline, and the pipeline's
word-count and word parameters."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, Optional, cast

import pytest

from fakeserver.pipeline.arguments import arg_count, word, words_from
from fakeserver.pipeline.request import Request
from fakeserver.protocol.refusals import Refusal
from flare_api.errors import AuthorizationError, InternalError, raise_for_reply
from flare_api.wire import Document, Item
from flare_api.wire.framing import FrameTimeout, read_stream


@pytest.mark.parametrize("version", ["2.4", "2.5", "2.6"])
def test_a_24_refusal_names_the_command(version: str) -> None:
    doc = Document([Item.error("x")], meta={"status": "not_authorized", "info": "no right"})
    with pytest.raises(AuthorizationError) as info:
        raise_for_reply("list_jobs all", doc, flare_version=version)
    assert str(info.value) == "user not authorized for the action 'list_jobs all: no right'"


@pytest.mark.parametrize("status", [["ok"], {"a": 1}, 7])
def test_a_24_status_that_is_not_a_string_is_an_internal_error(status: Any) -> None:
    doc = Document([Item.error("x")], meta={"status": status, "info": "why"})
    with pytest.raises(InternalError) as info:
        raise_for_reply("list_jobs", doc, flare_version="2.4")
    assert type(info.value) is InternalError
    assert str(info.value) == f"{status}: why"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    yield left, right
    left.close()
    right.close()


def test_the_read_deadline_is_reached_when_the_clock_reads_it(pair: tuple[socket.socket, socket.socket]) -> None:
    readings = iter([100.0, 101.0])  # the start, then exactly the deadline: no recv with a zero timeout
    with pytest.raises(FrameTimeout) as info:
        read_stream(pair[0], timeout=1.0, monotonic=lambda: next(readings))
    assert str(info.value) == "no complete transmission within 1 s (0 bytes received)"


def _request(line: str) -> Request:
    return cast(Request, type("R", (), {"args": line.split()})())


def _refusal(request: Optional[Request]) -> Refusal:
    assert request is not None  # the refusal is built for the request being parsed
    return Refusal(f"bad: {' '.join(request.args)}")


@pytest.mark.parametrize(
    ("line", "at_least", "at_most", "refused"),
    [
        ("cmd", 0, None, False),
        ("cmd", 1, None, False),
        ("cmd", 2, None, True),
        ("cmd a b c d e f", 0, None, False),
        ("cmd a", 0, 2, False),
        ("cmd a b", 0, 2, True),
        ("cmd a", 2, 2, False),
    ],
)
def test_arg_count(line: str, at_least: int, at_most: Optional[int], refused: bool) -> None:
    param = arg_count(_refusal, at_least=at_least, at_most=at_most)
    assert param.name is None
    if refused:
        with pytest.raises(Refusal) as info:
            param.parse(_request(line), {})
        assert info.value.text == f"bad: {line}"
    else:
        assert param.parse(_request(line), {}) is None


def test_arg_count_defaults_accept_any_count() -> None:
    param = arg_count(_refusal)
    for line in ("cmd", "cmd a b c"):
        assert param.parse(_request(line), {}) is None
    assert param.parse(cast(Request, type("R", (), {"args": []})()), {}) is None


def test_word_and_words_from() -> None:
    request = _request("cmd a b")
    assert word(1, "first").parse(request, {}) == "a"
    assert word(2, "second").parse(request, {}) == "b"
    assert word(3, "third", "dflt").parse(request, {}) == "dflt"
    assert word(3, "third").parse(request, {}) is None
    assert words_from(1, "rest").parse(request, {}) == ["a", "b"]
    assert words_from(3, "rest").parse(request, {}) == []
    param = words_from(1, "rest")
    assert param.name == "rest" and param.passed
