"""flare_api.wire.spliced: a document with spliced arrays encodes to exactly json.dumps of the same data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flare_api.wire import Document, Item
from flare_api.wire.spliced import Spliced, dumps

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=False))
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
)
_rows = st.lists(st.lists(st.text(), max_size=5), max_size=8)


def _spliced(elements: list[Any], **kwargs: Any) -> Spliced:
    return Spliced([json.dumps(element, **kwargs) for element in elements])


@given(rows=_rows, metas=st.lists(st.dictionaries(st.text(), _values, max_size=4), max_size=8), other=_values)
def test_a_spliced_document_is_byte_equal_to_the_plain_one(rows: list, metas: list, other: Any) -> None:
    plain = Document(items=[Item.table(rows), Item.success("")], meta={"jobs": metas, "other": other})
    spliced = Document(
        items=[Item.table(_spliced(rows, ensure_ascii=True)), Item.success("")],  # type: ignore[arg-type]
        meta={"jobs": _spliced(metas, ensure_ascii=True), "other": other},
        time=plain.time,
    )
    assert spliced.to_json() == plain.to_json()


@given(text=st.text())
def test_data_that_looks_like_a_placeholder_is_left_alone(text: str) -> None:
    value = {"a": text, "b": _spliced([1, 2]), "c": "\x00" + text + "\x00"}
    assert dumps(value) == json.dumps({"a": text, "b": [1, 2], "c": "\x00" + text + "\x00"})


def test_a_spliced_array_reads_as_fresh_copies() -> None:
    rows = _spliced([["a", "b"], ["c", "d"]])
    assert len(rows) == 2 and rows[1] == ["c", "d"] and rows[:1] == [["a", "b"]]
    rows[0].append("x")  # a decoded copy: the fragment is unchanged
    assert rows == [["a", "b"], ["c", "d"]] and Item.table(rows).text == '[["a", "b"], ["c", "d"]]'  # type: ignore[arg-type]


def test_containers_deeper_than_a_document_are_not_searched() -> None:
    deep = {"a": {"b": {"c": {"d": _spliced([1])}}}}
    try:
        dumps(deep)
    except TypeError:
        return
    raise AssertionError("a Spliced below MAX_DEPTH was written")


def test_a_spliced_array_equals_only_the_same_elements() -> None:
    assert _spliced([1, 2]) == _spliced([1, 2])
    assert _spliced([1, 2]) != _spliced([2, 1])
    assert _spliced([1, 2]) == [1, 2] and _spliced([1, 2]) == (1, 2)
    assert _spliced([1, 2]) != [1, 3]
    assert _spliced(["a"]) != "a"


def test_lists_deeper_than_a_document_are_not_searched_either() -> None:
    assert dumps([[[_spliced([1])]]]) == "[[[[1]]]]"  # depth 3: still found
    with pytest.raises(TypeError):
        dumps([[[[_spliced([1])]]]])


def test_a_list_holding_only_spliced_arrays_is_written() -> None:
    assert dumps([_spliced([1])]) == "[[1]]"
    assert dumps([_spliced([1]), _spliced(["a"])]) == '[[1], ["a"]]'
    assert dumps({"only": _spliced([2])}) == '{"only": [2]}'


def test_the_encoding_settings_apply_to_the_whole_text() -> None:
    value = {"a": _spliced(["\u00e9"], ensure_ascii=False), "b": "\u00e9"}
    assert dumps(value, ensure_ascii=False) == '{"a": ["\u00e9"], "b": "\u00e9"}'
    assert dumps({"b": "\u00e9"}, sort_keys=True, indent=1) == json.dumps({"b": "\u00e9"}, indent=1)


def test_the_placeholder_is_not_predictable() -> None:
    """A string in the data equal to a placeholder built from a guessable nonce is left alone."""
    for guess in ("None", "", "0" * 16):
        value = {"a": f"\x00{guess}:0\x00", "b": _spliced([1])}
        assert dumps(value) == json.dumps({"a": f"\x00{guess}:0\x00", "b": [1]})
