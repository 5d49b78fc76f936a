"""Property tests for flare_api.wire: framing round trips, validation against an oracle, split/join.

Reference: flare-2.3-admin-protocol.md sections 2.4-2.5 (framing), 3.3 (validation), 3.6 (tokenizing).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flare_api.wire.commands import join_command_line, split_command_line
from flare_api.wire.framing import (
    FrameTooLarge,
    StreamAccumulator,
    encode_stream,
    join_request_text,
    split_segments,
)
from flare_api.wire.message import (
    Document,
    Item,
    ItemType,
    ProtocolViolation,
    parse_document,
    validate_document,
)

# --- strategies -----------------------------------------------------------------------------------

NON_TABLE_TYPES = ("string", "success", "error", "dict", "command", "token", "shutdown")
ALL_TYPES = (*NON_TABLE_TYPES, "table")

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),  # NaN != NaN would break equality, not the protocol
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=6), children, max_size=4),
    ),
    max_leaves=10,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)

non_table_items = st.builds(
    Item,
    st.sampled_from([ItemType(t) for t in NON_TABLE_TYPES]),
    st.one_of(st.text(max_size=30), json_objects),
)
table_items = st.builds(
    Item.table, st.lists(st.lists(st.one_of(st.none(), st.text(max_size=10), json_values), max_size=4), max_size=4)
)
items = st.one_of(non_table_items, table_items)
documents = st.builds(
    Document,
    items=st.lists(items, max_size=5),
    meta=json_objects,
    time=st.text(max_size=30),
)


def split_at(payload: bytes, cuts: list[int]) -> list[bytes]:
    """Cut ``payload`` at the given offsets (any order, duplicates allowed give empty chunks)."""
    bounds = [0, *sorted(cuts), len(payload)]
    return [payload[a:b] for a, b in zip(bounds, bounds[1:])]


def cut_points(data: st.DataObject, length: int) -> list[int]:
    return data.draw(st.lists(st.integers(0, length), max_size=12), label="cuts")


def as_tuple(doc: Document) -> tuple[list[Item], dict[str, Any], str]:
    return doc.items, doc.meta, doc.time


# --- framing round trips --------------------------------------------------------------------------


@settings(deadline=None)
@given(docs=st.lists(documents, max_size=4), trailing=st.binary(max_size=16), data=st.data())
def test_framing_round_trip_in_arbitrary_chunks(docs: list[Document], trailing: bytes, data: st.DataObject) -> None:
    framed = encode_stream([doc.to_json() for doc in docs])
    eot = len(framed) - 1
    payload = framed + trailing  # anything after \x04 must be ignored
    acc = StreamAccumulator()
    offset = 0
    for chunk in split_at(payload, cut_points(data, len(payload))):
        offset += len(chunk)
        # feed() reports completion exactly from the chunk that holds the \x04 on.
        assert acc.feed(chunk) is (offset > eot)
    assert acc.done
    assert acc.size == eot
    parsed = [parse_document(segment) for segment in split_segments(acc.text())]
    assert [as_tuple(doc) for doc in parsed] == [as_tuple(doc) for doc in docs]


@settings(deadline=None)
@given(doc=documents, data=st.data())
def test_request_round_trip_through_server_join(doc: Document, data: st.DataObject) -> None:
    payload = encode_stream([doc.to_json()])
    acc = StreamAccumulator()
    for chunk in split_at(payload, cut_points(data, len(payload))):
        acc.feed(chunk)
    assert as_tuple(parse_document(join_request_text(acc.text()))) == as_tuple(doc)


@settings(deadline=None)
@given(docs=st.lists(documents, min_size=2, max_size=3))
def test_two_or_more_documents_in_one_request_are_refused(docs: list[Document]) -> None:
    payload = encode_stream([doc.to_json() for doc in docs])
    acc = StreamAccumulator()
    acc.feed(payload)
    with pytest.raises(ProtocolViolation, match="not valid JSON"):
        parse_document(join_request_text(acc.text()))


@settings(deadline=None)
@given(doc=documents)
def test_serialized_documents_are_ascii_and_free_of_control_bytes(doc: Document) -> None:
    text = doc.to_json()
    assert text.isascii()
    assert "\x03" not in text
    assert "\x04" not in text


@settings(deadline=None)
@given(doc=documents)
def test_validate_round_trip(doc: Document) -> None:
    assert as_tuple(validate_document(json.loads(doc.to_json()))) == as_tuple(doc)


@settings(deadline=None)
@given(text=st.text(max_size=200), data=st.data())
def test_utf8_text_in_arbitrary_chunks_decodes(text: str, data: st.DataObject) -> None:
    raw = text.replace("\x04", "").encode("utf-8")
    acc = StreamAccumulator()
    for chunk in split_at(raw + b"\x04", cut_points(data, len(raw) + 1)):
        acc.feed(chunk)
    assert acc.text() == text.replace("\x04", "")


# --- size limits ----------------------------------------------------------------------------------


@settings(deadline=None)
@given(
    body=st.binary(max_size=300).map(lambda b: b.replace(b"\x04", b"")),
    max_bytes=st.integers(1, 300),
    terminated=st.booleans(),
    data=st.data(),
)
def test_size_limit(body: bytes, max_bytes: int, terminated: bool, data: st.DataObject) -> None:
    payload = body + b"\x04" + b"after" if terminated else body
    chunks = split_at(payload, cut_points(data, len(payload)))
    acc = StreamAccumulator(max_bytes=max_bytes)
    if len(body) > max_bytes:
        with pytest.raises(FrameTooLarge, match=f"limit of {max_bytes} bytes"):
            for chunk in chunks:
                acc.feed(chunk)
    else:
        for chunk in chunks:
            acc.feed(chunk)
        assert acc.done is terminated
        assert acc.size == len(body)


# --- validation against an independent oracle (reference 3.3) ---------------------------------------


def oracle_items(obj: Any) -> list[Item] | None:
    """The items of ``obj`` if FLARE's ``validate_proto`` accepts it (reference 3.3), else None."""
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        return None
    result = []
    for raw in obj["data"]:
        if not isinstance(raw, dict):
            return None
        kind = raw.get("type")
        if not isinstance(kind, str) or kind not in ALL_TYPES:
            return None
        if kind == "table":
            rows = raw.get("rows")
            if not isinstance(rows, list) or any(not isinstance(row, list) for row in rows):
                return None
            result.append(Item(ItemType.TABLE, rows=rows))
        else:
            value = raw.get("data")
            if not isinstance(value, (str, dict)):
                return None
            result.append(Item(ItemType(kind), value))
    return result


def candidate_documents(type_values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """JSON values, skewed towards near-valid documents so every rule gets exercised."""
    rows = st.one_of(
        st.lists(st.one_of(st.lists(json_values, max_size=3), json_values), max_size=3),
        json_values,
    )
    item_like = st.one_of(
        st.fixed_dictionaries(
            {"type": type_values},
            optional={
                "data": st.one_of(st.text(max_size=5), json_objects, json_values),
                "rows": rows,
                "x": json_values,
            },
        ),
        st.fixed_dictionaries({}, optional={"data": json_values, "rows": rows}),
        json_values,
    )
    doc_like = st.fixed_dictionaries(
        {},
        optional={
            "data": st.one_of(st.lists(item_like, max_size=4), json_values),
            "meta": st.one_of(json_objects, json_values),
            "time": json_values,
            "extra": json_values,
        },
    )
    return st.one_of(doc_like, json_values)


hashable_types = st.one_of(st.sampled_from([*ALL_TYPES, "", "String", "text", " table"]), json_scalars)
any_types = st.one_of(hashable_types, json_values)


@settings(deadline=None)
@given(obj=candidate_documents(hashable_types))
def test_validation_matches_oracle(obj: Any) -> None:
    expected = oracle_items(obj)
    if expected is None:
        with pytest.raises(ProtocolViolation):
            validate_document(obj)
    else:
        doc = validate_document(obj)
        assert doc.items == expected
        meta = obj.get("meta")
        assert doc.meta == (meta if isinstance(meta, dict) else {})


@settings(deadline=None)
@given(obj=candidate_documents(any_types))
@example(obj={"data": [{"type": [], "data": "x"}]})
def test_validation_refuses_only_with_protocol_violation(obj: Any) -> None:
    expected = oracle_items(obj)
    if expected is None:
        with pytest.raises(ProtocolViolation):
            validate_document(obj)
    else:
        assert validate_document(obj).items == expected


@settings(deadline=None)
@given(obj=candidate_documents(hashable_types))
def test_parse_document_matches_oracle(obj: Any) -> None:
    text = json.dumps(obj)
    expected = oracle_items(obj)
    if expected is None:
        with pytest.raises(ProtocolViolation):
            parse_document(text)
    else:
        assert parse_document(text).items == expected


@settings(deadline=None)
@given(text=st.text(max_size=60))
def test_parse_arbitrary_text_returns_or_refuses(text: str) -> None:
    try:
        doc = parse_document(text)
    except ProtocolViolation:
        return
    assert oracle_items(json.loads(text)) == doc.items


# --- command lines (reference 3.6) ------------------------------------------------------------------

# Characters that matter to FLARE's split or to shlex, mixed into otherwise arbitrary text.
tricky_text = st.text(
    alphabet=st.sampled_from(list(" \"'\\\t\n\r#$`;|&*?~=-a1\u00e9\u00a0\x00")), min_size=1, max_size=8
)
args_strategy = st.lists(st.one_of(st.text(min_size=1, max_size=12), tricky_text), min_size=1, max_size=8)


@settings(deadline=None)
@given(args=args_strategy)
@example(args=["a", '"'])
@example(args=["x y", "\\", '\\"', "'"])
@example(args=["a\tb", "c\nd"])
def test_split_join_round_trip(args: list[str]) -> None:
    assert split_command_line(join_command_line(args)) == args


@settings(deadline=None)
@given(args=args_strategy.map(lambda args: [a.replace(" ", "_").replace('"', "_") for a in args]))
def test_join_without_spaces_or_double_quotes_is_a_single_space_join(args: list[str]) -> None:
    line = join_command_line(args)
    assert line == " ".join(args)
    assert split_command_line(line) == args


def collapse_spaces(line: str) -> str:
    out: list[str] = []
    for char in line:
        if not (char == " " and out and out[-1] == " "):
            out.append(char)
    return "".join(out)


@settings(deadline=None)
@given(line=st.text(alphabet=st.sampled_from(list(" \ta-'\\\n")), max_size=20))
def test_split_without_double_quote_is_split_on_collapsed_spaces(line: str) -> None:
    args = split_command_line(line)
    assert " ".join(args) == collapse_spaces(line)
    # No arg holds a space, and only the first and last can be empty.
    assert all(" " not in arg for arg in args)
    assert all(arg for arg in args[1:-1])
