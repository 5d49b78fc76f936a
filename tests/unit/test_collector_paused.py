"""The cyclic garbage collector is paused while a large document is parsed or a reply is built (a full
collection there walks the whole heap, which grows with the fake's history), and always restored."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from flare_api.wire import collector_paused, parse_document


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_restored_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_when_the_block_raises() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_someone_else_paused_stays_paused() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_parse_document_parses_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real_loads = __import__("json").loads

    def loads(text: str) -> object:
        seen.append(gc.isenabled())
        return real_loads(text)

    monkeypatch.setattr("flare_api.wire.message.json.loads", loads)
    document = parse_document('{"time": "t", "data": [{"type": "string", "data": "x"}], "meta": {}}')
    assert document.items[0].data == "x"
    assert seen == [False]
    assert gc.isenabled()
