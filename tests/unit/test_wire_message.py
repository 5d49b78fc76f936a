"""Unit tests for flare_api.wire.message: items, documents, meta constants and validation.

Reference: flare-2.3-admin-protocol.md sections 3.1 (top-level keys), 3.2 (item types),
3.3 (validation), 3.4 (meta), 3.5 (requests).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from flare_api.wire.message import (
    Document,
    Item,
    ItemType,
    MetaKey,
    MetaStatus,
    ProtocolViolation,
    now_string,
    parse_document,
    validate_document,
)

NON_TABLE_TYPES = ["string", "success", "error", "dict", "command", "token", "shutdown"]
ALL_TYPES = [*NON_TABLE_TYPES, "table"]


def doc_with(*items: Any, **extra: Any) -> dict[str, Any]:
    return {"time": "2026-11-28 07:11:14.388036", "data": list(items), "meta": {}, **extra}


# --- constants ------------------------------------------------------------------------------------


def test_item_types_are_exactly_the_eight_of_the_reference() -> None:
    assert sorted(t.value for t in ItemType) == sorted(ALL_TYPES)
    assert str(ItemType.TABLE) == "table"
    assert ItemType("command") is ItemType.COMMAND


def test_meta_keys_wire_names() -> None:
    assert {
        "STATUS": MetaKey.STATUS,
        "INFO": MetaKey.INFO,
        "JOB_ID": MetaKey.JOB_ID,
        "JOB_META": MetaKey.JOB_META,
        "JOB_DOWNLOAD_URL": MetaKey.JOB_DOWNLOAD_URL,
        "APP_NAME": MetaKey.APP_NAME,
        "SERVER_STATUS": MetaKey.SERVER_STATUS,
        "SERVER_START_TIME": MetaKey.SERVER_START_TIME,
        "CLIENT_NAME": MetaKey.CLIENT_NAME,
        "CLIENT_LAST_CONNECT_TIME": MetaKey.CLIENT_LAST_CONNECT_TIME,
        "CLIENTS": MetaKey.CLIENTS,
        "JOBS": MetaKey.JOBS,
        "JOB_NAME": MetaKey.JOB_NAME,
        "SUBMIT_TIME": MetaKey.SUBMIT_TIME,
        "DURATION": MetaKey.DURATION,
    } == {
        "STATUS": "status",
        "INFO": "info",
        "JOB_ID": "job_id",
        "JOB_META": "job_meta",
        "JOB_DOWNLOAD_URL": "job_download_url",
        "APP_NAME": "app_name",
        "SERVER_STATUS": "server_status",
        "SERVER_START_TIME": "server_start_time",
        "CLIENT_NAME": "client_name",
        "CLIENT_LAST_CONNECT_TIME": "client_last_conn_time",
        "CLIENTS": "clients",
        "JOBS": "jobs",
        "JOB_NAME": "job_name",
        "SUBMIT_TIME": "submit_time",
        "DURATION": "duration",
    }


def test_meta_status_values() -> None:
    assert (
        MetaStatus.OK,
        MetaStatus.SYNTAX_ERROR,
        MetaStatus.NOT_AUTHORIZED,
        MetaStatus.ERROR,
        MetaStatus.INTERNAL_ERROR,
        MetaStatus.INVALID_JOB_DEFINITION,
        MetaStatus.INVALID_JOB_ID,
        MetaStatus.JOB_RUNNING,
    ) == (
        "ok",
        "syntax_error",
        "not_authorized",
        "error",
        "internal_error",
        "invalid_job_def",
        "invalid_job_id",
        "job_running",
    )


def test_protocol_violation_is_a_value_error() -> None:
    assert issubclass(ProtocolViolation, ValueError)


# --- Item -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "wire"),
    [
        (Item.string("hello"), {"type": "string", "data": "hello"}),
        (Item.success(), {"type": "success", "data": ""}),
        (Item.success("done"), {"type": "success", "data": "done"}),
        (Item.error("boom"), {"type": "error", "data": "boom"}),
        (Item.table([["NAME"], ["x"]]), {"type": "table", "rows": [["NAME"], ["x"]]}),
        (Item.dictionary({"a": 1}), {"type": "dict", "data": {"a": 1}}),
        (Item.command("list_jobs"), {"type": "command", "data": "list_jobs"}),
        (Item.token("t-1"), {"type": "token", "data": "t-1"}),
        (Item.shutdown("Bye bye"), {"type": "shutdown", "data": "Bye bye"}),
    ],
)
def test_item_constructors_and_wire_form(item: Item, wire: dict[str, Any]) -> None:
    assert item.to_json() == wire
    assert validate_document(doc_with(wire)).items == [item]


def test_item_text() -> None:
    assert Item.string("abc").text == "abc"
    assert Item.dictionary({"k": [1, 2]}).text == '{"k": [1, 2]}'
    assert Item.table([["A", None]]).text == '[["A", null]]'
    assert Item(ItemType.ERROR, {"e": "x"}).text == '{"e": "x"}'


# --- Document -------------------------------------------------------------------------------------


def test_document_to_json_uses_default_separators_and_key_order() -> None:
    doc = Document([Item.command("list_jobs"), Item.token("tok")], time="2026-11-28 07:11:58.369943")
    assert doc.to_json() == (
        '{"time": "2026-11-28 07:11:58.369943", "data": [{"type": "command", "data": "list_jobs"}, '
        '{"type": "token", "data": "tok"}], "meta": {}}'
    )


def test_document_to_json_is_ascii_only() -> None:
    doc = Document([Item.string("caf\u00e9 \U0001f600")], meta={"info": "\u4e2d"})
    text = doc.to_json()
    assert text.isascii()
    assert json.loads(text)["data"][0]["data"] == "caf\u00e9 \U0001f600"


def test_document_request() -> None:
    req = Document.request("list_jobs", "tok")
    assert req.items == [Item.command("list_jobs"), Item.token("tok")]
    assert req.meta == {}
    assert Document.request("_cert_login admin@nvidia.com").items == [Item.command("_cert_login admin@nvidia.com")]


def test_document_first_and_of_type() -> None:
    doc = Document([Item.string("a"), Item.error("e1"), Item.string("b"), Item.error("e2")])
    assert doc.first(ItemType.ERROR) == Item.error("e1")
    assert doc.first(ItemType.TABLE) is None
    assert doc.of_type(ItemType.STRING) == [Item.string("a"), Item.string("b")]
    assert doc.of_type(ItemType.TOKEN) == []


def test_now_string_is_str_of_datetime() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?", now_string())


# --- validation: accepted ---------------------------------------------------------------------------


@pytest.mark.parametrize("item_type", NON_TABLE_TYPES)
@pytest.mark.parametrize("value", ["", "text", {}, {"nested": {"list": [1, None, True]}}])
def test_every_non_table_type_accepts_str_or_object_data(item_type: str, value: Any) -> None:
    doc = validate_document(doc_with({"type": item_type, "data": value}))
    assert doc.items == [Item(ItemType(item_type), value)]


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [[]],
        [["NAME", "STATUS"], ["job1", "RUNNING"]],
        [["COMMAND", "DESCRIPTION"], ["_commands", None]],
        [[1, 2.5, True, {"x": 1}, [1]]],
    ],
)
def test_table_rows_list_of_lists_accepted(rows: list[Any]) -> None:
    doc = validate_document(doc_with({"type": "table", "rows": rows}))
    assert doc.items == [Item.table(rows)]


def test_empty_data_list_is_valid() -> None:
    assert validate_document({"data": []}).items == []


def test_missing_meta_becomes_empty_dict() -> None:
    doc = validate_document({"data": [{"type": "success", "data": ""}]})
    assert doc.meta == {}


def test_meta_is_kept() -> None:
    meta = {"status": "ok", "info": "", "jobs": [{"job_id": "1"}]}
    assert validate_document(doc_with(meta=meta)).meta == meta


def test_non_object_meta_is_ignored_not_refused() -> None:
    # Only 'data' is required (3.3 rule 2); other keys are not validated.
    assert validate_document({"data": [], "meta": "oops"}).meta == {}
    assert validate_document({"data": [], "meta": None}).meta == {}


def test_time_is_informational() -> None:
    assert validate_document({"data": [], "time": "2026-11-28 07:11:14"}).time == "2026-11-28 07:11:14"
    assert validate_document({"data": []}).items == []
    assert validate_document({"data": [], "time": 5}).items == []


def test_extra_keys_are_ignored() -> None:
    doc = validate_document(
        {
            "data": [
                {"type": "string", "data": "x", "extra": 1, "rows": "not checked"},
                {"type": "table", "rows": [["A"]], "data": 42},
            ],
            "meta": {},
            "unexpected": [1, 2],
        }
    )
    assert doc.items == [Item.string("x"), Item.table([["A"]])]


def test_mixed_document_all_types() -> None:
    items = [{"type": t, "data": t} for t in NON_TABLE_TYPES] + [{"type": "table", "rows": [["H"]]}]
    doc = validate_document(doc_with(*items))
    assert [item.type.value for item in doc.items] == ALL_TYPES


def test_parse_document_real_reply() -> None:
    text = (
        '{"time": "2026-11-28 07:11:59.1", "data": [{"type": "error", "data": "session_inactive"}, '
        '{"type": "string", "data": "user not authenticated or session timed out after 3600 seconds '
        'of inactivity - logged out"}], "meta": {"status": "error", "info": "session_inactive"}}'
    )
    doc = parse_document(text)
    assert doc.items[0] == Item.error("session_inactive")
    assert doc.meta == {"status": "error", "info": "session_inactive"}


def test_parse_round_trip_of_to_json() -> None:
    doc = Document(
        [Item.string("s"), Item.table([["A"], ["b"]]), Item.dictionary({"k": "v"}), Item.success()],
        meta={"status": "ok", "info": ""},
    )
    parsed = parse_document(doc.to_json())
    assert (parsed.items, parsed.meta, parsed.time) == (doc.items, doc.meta, doc.time)


# --- validation: refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "type_name"),
    [([], "list"), ("x", "str"), (1, "int"), (1.5, "float"), (None, "NoneType"), (True, "bool")],
)
def test_refuses_non_object_document(obj: Any, type_name: str) -> None:
    with pytest.raises(ProtocolViolation, match=f"document must be a JSON object, got {type_name}"):
        validate_document(obj)


def test_refuses_missing_data() -> None:
    with pytest.raises(ProtocolViolation, match="document has no 'data' key"):
        validate_document({"time": "x", "meta": {}})


@pytest.mark.parametrize(
    ("data", "type_name"), [({}, "dict"), ("x", "str"), (None, "NoneType"), (3, "int"), (False, "bool")]
)
def test_refuses_non_list_data(data: Any, type_name: str) -> None:
    with pytest.raises(ProtocolViolation, match=f"'data' must be a list, got {type_name}"):
        validate_document({"data": data})


@pytest.mark.parametrize(("raw", "type_name"), [("string", "str"), (None, "NoneType"), ([], "list"), (7, "int")])
def test_refuses_non_object_item(raw: Any, type_name: str) -> None:
    with pytest.raises(ProtocolViolation, match=f"item 1 must be an object, got {type_name}"):
        validate_document(doc_with({"type": "success", "data": ""}, raw))


@pytest.mark.parametrize(
    "item",
    [
        {"data": "no type"},
        {"type": None, "data": "x"},
        {"type": "String", "data": "x"},
        {"type": "text", "data": "x"},
        {"type": "", "data": "x"},
        {"type": 1, "data": "x"},
        {"type": True, "data": "x"},
        {"type": " string", "data": "x"},
    ],
)
def test_refuses_unknown_item_type(item: dict[str, Any]) -> None:
    with pytest.raises(ProtocolViolation, match="item 0 has unknown type"):
        validate_document(doc_with(item))


@pytest.mark.parametrize("bad_type", [[], ["string"], {}, {"type": "string"}])
def test_refuses_unhashable_item_type(bad_type: Any) -> None:
    with pytest.raises(ProtocolViolation, match="item 0 has unknown type"):
        validate_document(doc_with({"type": bad_type, "data": "x"}))


@pytest.mark.parametrize("item_type", NON_TABLE_TYPES)
@pytest.mark.parametrize(
    ("item_extra", "type_name"),
    [
        ({}, "NoneType"),
        ({"data": None}, "NoneType"),
        ({"data": 1}, "int"),
        ({"data": 1.0}, "float"),
        ({"data": True}, "bool"),
        ({"data": []}, "list"),
        ({"data": ["a"]}, "list"),
    ],
)
def test_refuses_missing_null_or_wrong_data(item_type: str, item_extra: dict[str, Any], type_name: str) -> None:
    message = re.escape(f"item 0 ({item_type}): 'data' must be a string or an object, got {type_name}")
    with pytest.raises(ProtocolViolation, match=message):
        validate_document(doc_with({"type": item_type, **item_extra}))


@pytest.mark.parametrize(
    "item",
    [
        {"type": "table"},
        {"type": "table", "rows": None},
        {"type": "table", "rows": {}},
        {"type": "table", "rows": "A,B"},
        {"type": "table", "rows": ["A", "B"]},
        {"type": "table", "rows": [["A"], "B"]},
        {"type": "table", "rows": [["A"], None]},
        {"type": "table", "rows": [{"A": 1}]},
        {"type": "table", "data": [["A"]]},
    ],
)
def test_refuses_table_without_list_of_lists(item: dict[str, Any]) -> None:
    with pytest.raises(ProtocolViolation, match="item 0: a table's 'rows' must be a list of lists"):
        validate_document(doc_with(item))


def test_error_names_the_index_of_the_bad_item() -> None:
    good = {"type": "string", "data": "ok"}
    with pytest.raises(ProtocolViolation, match=r"^item 3 \(token\): 'data'"):
        validate_document(doc_with(good, good, good, {"type": "token", "data": None}))


@pytest.mark.parametrize("text", ["", "   ", "{", "{'data': []}", '{"data": []}{"data": []}', "nan", "\x03"])
def test_parse_refuses_invalid_json(text: str) -> None:
    with pytest.raises(ProtocolViolation, match="document is not valid JSON"):
        parse_document(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "document must be a JSON object, got list"),
        ('"x"', "document must be a JSON object, got str"),
        ("null", "document must be a JSON object, got NoneType"),
        ('{"meta": {}}', "document has no 'data' key"),
        ('{"data": {}}', "'data' must be a list, got dict"),
        ('{"data": [{"type": "bogus", "data": ""}]}', "item 0 has unknown type 'bogus'"),
    ],
)
def test_parse_refuses_invalid_documents(text: str, message: str) -> None:
    with pytest.raises(ProtocolViolation, match=re.escape(message)):
        parse_document(text)


def test_parse_refuses_deeply_nested_json() -> None:
    depth = 100_000
    with pytest.raises(ProtocolViolation):
        parse_document('{"data": [{"type": "dict", "data": ' + "[" * depth + "]" * depth + "}]}")
