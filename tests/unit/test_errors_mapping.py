"""Unit tests for flare_api.errors: FLARE's client-side APIStatus rules and the reply -> exception mapping.

Reference: flare-2.3-admin-protocol.md sections 3.4 (meta status table), 5.8 (APIStatus rules),
8.4 (2.3.8 ``_do_command``), 8.8 (exceptions), 8.10 (2.3.12 ``enforce_meta``).
"""

from __future__ import annotations

from typing import Any

import pytest

from flare_api.errors import (
    AuthorizationError,
    ConnectionLost,
    FlareError,
    InternalError,
    InvalidJobDefinition,
    InvalidReply,
    JobNotDone,
    JobNotFound,
    NoConnection,
    ProtocolError,
    SessionClosed,
    SessionInactive,
    classify_reply,
    raise_for_reply,
)
from flare_api.types import ApiStatus
from flare_api.wire.message import Document, Item, MetaStatus

SUCCESS = ApiStatus.SUCCESS


def reply(*items: Item, **meta: Any) -> Document:
    return Document(list(items), meta=dict(meta), time="2026-11-28 07:11:14.388036")


def raised(command: str, doc: Document | None, **kwargs: Any) -> BaseException:
    with pytest.raises(Exception) as info:
        raise_for_reply(command, doc, **kwargs)
    return info.value


# --- classify_reply (section 5.8) -----------------------------------------------------------------


def test_classify_none_is_server_connection() -> None:
    assert classify_reply(None) is ApiStatus.ERROR_SERVER_CONNECTION


def test_classify_empty_data_is_runtime_error() -> None:
    assert classify_reply(reply()) is ApiStatus.ERROR_RUNTIME
    assert classify_reply(reply(status="ok", info="")) is ApiStatus.ERROR_RUNTIME


def test_classify_success_item() -> None:
    assert classify_reply(reply(Item.success())) is SUCCESS


def test_classify_first_success_wins_even_after_errors() -> None:
    doc = reply(Item.error("not authorized"), Item.string("session_inactive"), Item.success(), Item.error("x"))
    assert classify_reply(doc) is SUCCESS


def test_classify_success_before_error_items() -> None:
    assert classify_reply(reply(Item.success(), Item.error("Failed to communicate"))) is SUCCESS


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("session_inactive", ApiStatus.ERROR_INACTIVE_SESSION),
        ("wrong server", ApiStatus.ERROR_SERVER_CONNECTION),
        ("Failed to communicate with Admin Server h on 8003", ApiStatus.ERROR_SERVER_CONNECTION),
        ("invalid client site-9", ApiStatus.ERROR_INVALID_CLIENT),
        ("unknown site: site-9", ApiStatus.ERROR_INVALID_CLIENT),
        ("user is not authorized for the action", ApiStatus.ERROR_AUTHORIZATION),
    ],
)
@pytest.mark.parametrize("make_item", [Item.error, Item.string], ids=["error", "string"])
def test_classify_substring_rules(text: str, status: ApiStatus, make_item: Any) -> None:
    assert classify_reply(reply(make_item(text))) is status
    # The substring may sit anywhere in any collected item.
    assert classify_reply(reply(Item.string("first"), make_item(f"... {text} ..."))) is status


@pytest.mark.parametrize(
    ("texts", "status"),
    [
        (["not authorized", "session_inactive"], ApiStatus.ERROR_INACTIVE_SESSION),
        (["not authorized; unknown site"], ApiStatus.ERROR_INVALID_CLIENT),
        (["unknown site", "wrong server"], ApiStatus.ERROR_SERVER_CONNECTION),
        (["invalid client", "Failed to communicate"], ApiStatus.ERROR_SERVER_CONNECTION),
        (["not authorized", "invalid client"], ApiStatus.ERROR_INVALID_CLIENT),
    ],
)
def test_classify_rule_order_not_text_order_decides(texts: list[str], status: ApiStatus) -> None:
    assert classify_reply(reply(*(Item.error(t) for t in texts))) is status


@pytest.mark.parametrize(
    "text", ['Unknown command "foo"', "Not Authorized", "failed to communicate", "Session_Inactive", "", "error"]
)
def test_classify_other_error_text_is_success(text: str) -> None:
    # 5.8 rule 5: an error item without one of the substrings still counts as SUCCESS.
    assert classify_reply(reply(Item.error(text))) is SUCCESS


@pytest.mark.parametrize(
    "item",
    [
        Item.dictionary({"msg": "not authorized"}),
        Item.table([["STATUS"], ["session_inactive"]]),
        Item.token("wrong server"),
        Item.command("unknown site"),
        Item.shutdown("Failed to communicate"),
    ],
)
def test_classify_only_string_and_error_items_are_collected(item: Item) -> None:
    assert classify_reply(reply(item)) is SUCCESS


# --- raise_for_reply: one test per meta status (section 3.4 table) ---------------------------------


def test_meta_ok_returns_the_reply() -> None:
    doc = reply(Item.string("x"), Item.success(), status="ok", info="")
    assert raise_for_reply("list_jobs", doc) is doc


def test_meta_syntax_error() -> None:
    exc = raised("list_jobs -z", reply(Item.error("bad"), status="syntax_error", info="unrecognized arguments: -z"))
    assert type(exc) is InternalError
    assert str(exc) == "protocol error: unrecognized arguments: -z"


def test_meta_not_authorized() -> None:
    doc = reply(Item.error("not authorized"), status="not_authorized", info="no right")
    exc = raised("abort_job 123", doc)
    assert type(exc) is AuthorizationError
    assert str(exc) == "user not authorized for the action 'abort_job 123: no right'"


def test_meta_error() -> None:
    exc = raised("foo", reply(Item.error('Unknown command "foo"'), status="error", info='Unknown command "foo"'))
    assert type(exc) is InternalError
    assert str(exc) == 'server internal error (error): Unknown command "foo"'


def test_meta_internal_error() -> None:
    exc = raised("list_jobs", reply(Item.error("boom"), status="internal_error", info="boom"))
    assert type(exc) is InternalError
    assert str(exc) == "server internal error (internal_error): boom"


def test_meta_invalid_job_def() -> None:
    doc = reply(Item.error("x"), status="invalid_job_def", info="job meta.json missing")
    exc = raised("submit_job j", doc)
    assert type(exc) is InvalidJobDefinition
    assert str(exc) == "invalid job definition: job meta.json missing"


def test_meta_invalid_job_id() -> None:
    exc = raised("get_job_meta 42", reply(Item.error("x"), status="invalid_job_id", info="42"))
    assert type(exc) is JobNotFound
    assert str(exc) == "no such job: 42"


def test_meta_job_running() -> None:
    exc = raised("delete_job 42", reply(Item.error("x"), status="job_running", info="42"))
    assert type(exc) is JobNotDone
    assert str(exc) == "job 42 is still running"


def test_meta_error_with_session_inactive_info() -> None:
    # The real two-item reply to an unknown or expired token (Appendix B); FLARE raises
    # InternalError("server internal error (error): session_inactive") (section 5.6).
    doc = reply(
        Item.error("session_inactive"),
        Item.string("user not authenticated or session timed out after 3600 seconds of inactivity - logged out"),
        status="error",
        info="session_inactive",
    )
    exc = raised("list_jobs", doc)
    assert type(exc) is SessionInactive
    assert str(exc) == "server internal error (error): session_inactive"
    assert isinstance(exc, InternalError)
    assert isinstance(exc, SessionClosed)


def test_meta_status_constants_cover_the_tests_above() -> None:
    assert {
        MetaStatus.OK,
        MetaStatus.SYNTAX_ERROR,
        MetaStatus.NOT_AUTHORIZED,
        MetaStatus.ERROR,
        MetaStatus.INTERNAL_ERROR,
        MetaStatus.INVALID_JOB_DEFINITION,
        MetaStatus.INVALID_JOB_ID,
        MetaStatus.JOB_RUNNING,
    } == {
        "ok",
        "syntax_error",
        "not_authorized",
        "error",
        "internal_error",
        "invalid_job_def",
        "invalid_job_id",
        "job_running",
    }


# --- raise_for_reply: details of the meta step ----------------------------------------------------


def test_meta_info_defaults_to_empty_string() -> None:
    exc = raised("list_jobs", reply(Item.error("boom"), status="internal_error"))
    assert type(exc) is InternalError
    assert str(exc) == "server internal error (internal_error): "


def test_meta_unknown_status_raises_internal_error() -> None:
    exc = raised("list_jobs", reply(Item.success(), status="weird", info="x"))
    assert type(exc) is InternalError
    assert str(exc) == "server internal error (weird): x"


def test_meta_without_status_is_not_ok() -> None:
    # 8.4 step 5: any status other than ok raises, including a missing one in non-empty meta.
    exc = raised("list_jobs", reply(Item.success(), info="x"))
    assert type(exc) is InternalError


def test_meta_status_is_checked_before_items() -> None:
    doc = reply(Item.success(), status="invalid_job_id", info="7")
    assert type(raised("get_job_meta 7", doc)) is JobNotFound


def test_failed_to_communicate_document_is_internal_error() -> None:
    # Section 2.6: the synthetic document carries meta status error, so FLARE raises InternalError.
    text = "Failed to communicate with Admin Server localhost on 8003: ConnectionRefusedError: refused"
    exc = raised("list_jobs", reply(Item.error(text), status="error", info=text))
    assert type(exc) is InternalError
    assert str(exc) == f"server internal error (error): {text}"
    assert not isinstance(exc, ConnectionError)


# --- raise_for_reply: no reply, empty meta, enforce_meta (8.4, 8.10) -------------------------------


def test_none_reply_is_protocol_error() -> None:
    exc = raised("list_jobs", None)
    # FLARE raises the builtin ConnectionError here (ERROR_SERVER_CONNECTION); ours is that and a ProtocolError
    assert type(exc) is InvalidReply
    assert isinstance(exc, ProtocolError) and isinstance(exc, ConnectionError)
    assert isinstance(exc, InternalError)
    assert "list_jobs" in str(exc)
    assert "did not respond" in str(exc)


@pytest.mark.parametrize("enforce_meta", [True, False])
def test_none_reply_is_protocol_error_whatever_enforce_meta(enforce_meta: bool) -> None:
    assert type(raised("x", None, enforce_meta=enforce_meta)) is InvalidReply


def test_enforce_meta_refuses_a_successful_reply_without_meta() -> None:
    doc = reply(Item.string("site-1 connected"), Item.success())
    exc = raised("check_status client", doc)
    assert type(exc) is InternalError
    assert str(exc).startswith("missing meta from result of 'check_status client'")
    assert "site-1 connected" in str(exc)


def test_enforce_meta_is_the_default() -> None:
    with pytest.raises(InternalError, match="missing meta"):
        raise_for_reply("sys_info server", reply(Item.dictionary({"a": 1})))


def test_without_enforce_meta_a_reply_without_meta_is_returned() -> None:
    doc = reply(Item.string("x"), Item.success())
    assert raise_for_reply("check_status client", doc, enforce_meta=False) is doc


def test_without_enforce_meta_unknown_command_error_is_returned() -> None:
    # 5.8 rule 5: an error item without a known substring is SUCCESS for the client status.
    doc = reply(Item.error('Unknown command "foo"'))
    assert raise_for_reply("foo", doc, enforce_meta=False) is doc


@pytest.mark.parametrize("enforce_meta", [True, False])
def test_no_meta_not_authorized_text(enforce_meta: bool) -> None:
    exc = raised("shutdown client", reply(Item.error("not authorized")), enforce_meta=enforce_meta)
    assert type(exc) is AuthorizationError
    assert str(exc).startswith("user not authorized for the action 'shutdown client'")


@pytest.mark.parametrize("enforce_meta", [True, False])
def test_no_meta_session_inactive_text(enforce_meta: bool) -> None:
    # 8.10: status checks run before enforce_meta, so this is a closed session, not "missing meta".
    exc = raised("list_jobs", reply(Item.error("session_inactive")), enforce_meta=enforce_meta)
    assert type(exc) is SessionInactive
    assert isinstance(exc, SessionClosed)
    assert str(exc).startswith("the session is closed on server")


def test_ok_meta_with_not_authorized_text_still_raises() -> None:
    exc = raised("abort_job 1", reply(Item.error("not authorized"), status="ok", info=""))
    assert type(exc) is AuthorizationError


def test_ok_meta_with_empty_data_raises() -> None:
    exc = raised("list_jobs", reply(status="ok", info=""))
    assert isinstance(exc, FlareError)


# The cases below are where FLARE 2.3 (8.4 step 7, also 8.10) raises a builtin exception. errors.py
# promises that a more precise class "also derives from the one FLARE raises there", so code written
# with ``except ConnectionError`` / ``except RuntimeError`` for FLARE keeps working.


@pytest.mark.parametrize("text", ["wrong server", "Failed to communicate with Admin Server h on 1"])
def test_server_connection_status_is_a_connection_error(text: str) -> None:
    exc = raised("list_jobs", reply(Item.error(text), status="ok", info=""))
    assert isinstance(exc, ConnectionError)


@pytest.mark.parametrize("text", ["invalid client site-9", "unknown site site-9"])
def test_invalid_client_status_is_a_runtime_error(text: str) -> None:
    exc = raised("check_status client site-9", reply(Item.error(text), status="ok", info=""))
    assert isinstance(exc, RuntimeError)


def test_empty_data_status_is_a_runtime_error() -> None:
    exc = raised("list_jobs", reply(status="ok", info=""))
    assert isinstance(exc, RuntimeError)


# --- the exception hierarchy (8.8 names, one FlareError base) ---------------------------------------


def test_hierarchy() -> None:
    assert issubclass(ProtocolError, InternalError)
    assert issubclass(SessionInactive, SessionClosed)
    assert issubclass(SessionInactive, InternalError)
    assert issubclass(ConnectionLost, NoConnection)
    assert issubclass(ConnectionLost, InternalError)
    assert issubclass(NoConnection, ConnectionError)
    for cls in (AuthorizationError, InternalError, InvalidJobDefinition, JobNotDone, JobNotFound, SessionClosed):
        assert issubclass(cls, FlareError)
