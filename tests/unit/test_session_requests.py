"""What each command request carries and the checks before it is sent (mutation testing, docs/testing.md):
FLARE 2.4+'s request meta (the session's ``cmd_timeout`` from ``set_timeout``, a command's ``cmd_props``,
nothing when neither is set), a closed session's refusal, and a reply without meta refused where FLARE's
API needs it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional

import pytest

from flare_api import Session
from flare_api.errors import (
    AuthorizationError,
    ConnectionLost,
    InternalError,
    InvalidArgumentError,
    NoConnection,
    NoReply,
    SessionClosed,
)
from flare_api.wire import Document, Item

from .test_session_transfers import _healthy_25
from .test_session_unit import Scripted, healthy


class _MetaRecording(Scripted):
    def __init__(self) -> None:
        super().__init__(healthy)
        self.metas: list[tuple[str, Optional[dict[str, Any]]]] = []
        self.tokens: list[Optional[str]] = []

    def request(
        self,
        line: str,
        token: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        meta: Optional[dict[str, Any]] = None,
    ) -> Optional[Document]:
        self.metas.append((line, meta))
        self.tokens.append(token)
        return super().request(line, token, timeout=timeout)


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    from fakeserver.poc_kit import write_poc_admin_kit

    return write_poc_admin_kit(tmp_path / "admin", "127.0.0.9", 8003)


def test_a_24_session_sends_its_timeout_and_a_commands_props_in_the_request_meta(kit: Path) -> None:
    transport = _MetaRecording()
    s = Session("admin", kit, secure_mode=False, transport=transport)
    s.try_connect(1.0)
    assert s.flare_version.value == "2.4"  # the scripted table has no set_timeout
    s._do_command("list_jobs")
    s.set_timeout(30)
    s._do_command("list_jobs")
    s._do_command("list_jobs", props={"k": 1})
    s.unset_timeout()
    s._do_command("list_jobs", props={"k": 2})
    s._do_command("list_jobs", props={})
    assert [meta for line, meta in transport.metas if line == "list_jobs"] == [
        None,
        {"cmd_timeout": 30.0},
        {"cmd_timeout": 30.0, "cmd_props": {"k": 1}},
        {"cmd_props": {"k": 2}},
        None,
    ]
    assert transport.tokens[2:] == ["tok-1"] * 5  # with or without meta, after _login and _commands


def test_a_closed_session_sends_nothing(kit: Path) -> None:
    transport = _MetaRecording()
    s = Session("admin", kit, secure_mode=False, transport=transport)
    s.try_connect(1.0)
    s.close()
    with pytest.raises(SessionClosed) as info:
        s._do_command("list_jobs")
    assert str(info.value) == "session closed"
    assert [line for line, _ in transport.metas] == ["_login admin admin", "_commands"]


def test_a_reply_without_meta_is_refused_unless_the_command_allows_it(kit: Path) -> None:
    bare = Document([Item.string("fine"), Item.success()])

    def no_meta(line: str, token: Optional[str]) -> Optional[Document]:
        return bare if line == "list_jobs" else healthy(line, token)

    s = Session("admin", kit, secure_mode=False, transport=Scripted(no_meta))  # type: ignore[arg-type]
    s.try_connect(1.0)
    with pytest.raises(InternalError) as info:
        s._do_command("list_jobs")
    assert str(info.value).startswith("missing meta from result of 'list_jobs': ")
    assert s._do_command("list_jobs", enforce_meta=False) is bare


def test_commands_need_a_logged_in_session_and_a_line_that_splits(kit: Path) -> None:
    transport = _MetaRecording()
    s = Session("admin", kit, secure_mode=False, transport=transport)
    with pytest.raises(SessionClosed) as info:
        s._do_command("list_jobs")
    assert str(info.value) == "the session is not logged in; call try_connect(timeout) first"
    s.try_connect(1.0)
    with pytest.raises(InvalidArgumentError) as bad:
        s._do_command('list_jobs "unclosed')
    assert str(bad.value) == "cannot split command line 'list_jobs \"unclosed': No closing quotation"
    assert [line for line, _ in transport.metas] == ["_login admin admin", "_commands"]


def _answering(answers: dict[str, Document]) -> Scripted:
    return Scripted(lambda line, token: answers[line] if line in answers else healthy(line, token))


def test_a_lost_connection_a_shutdown_and_the_trace_of_a_command(kit: Path, caplog: pytest.LogCaptureFixture) -> None:
    bye = Document([Item.shutdown("server shutting down"), Item.success()], meta={"status": "ok", "info": ""})
    fine = Document([Item.string("fine"), Item.success()], meta={"status": "ok", "info": ""})

    def answer(line: str, token: Optional[str]) -> Optional[Document]:
        if line == "lost":
            raise NoConnection("talking to admin server 127.0.0.9:8003 failed after 0.00 s: reset")
        return {"shutdown": bye, "list_jobs": fine}.get(line) or healthy(line, token)

    s = Session("admin", kit, secure_mode=False, debug=True, transport=Scripted(answer))  # type: ignore[arg-type]
    s.try_connect(1.0)
    with pytest.raises(ConnectionLost) as info:
        s._do_command("lost", check_known=False)
    assert str(info.value) == "talking to admin server 127.0.0.9:8003 failed after 0.00 s: reset"
    with caplog.at_level(logging.INFO, logger="flare_api"):
        assert s._do_command("list_jobs") is fine
    assert [record.getMessage() for record in caplog.records] == [f"list_jobs -> {fine.to_json()}"]
    assert s.is_ready()
    s._do_command("shutdown", check_known=False)
    assert s._closed is True
    with pytest.raises(SessionClosed):
        s._do_command("list_jobs")


def test_a_commands_reply_is_mapped_with_the_series_and_named_by_its_label(kit: Path) -> None:
    no_reply = Document([Item.error("site-1 did not reply")], meta={"status": "no_reply", "info": "site-1"})
    denied = Document([Item.error("no")], meta={"status": "not_authorized", "info": "no"})
    s = Session("admin", kit, secure_mode=False, transport=_answering({"app_command": no_reply, "go x": denied}))  # type: ignore[arg-type]
    s.try_connect(1.0)

    def answer_25(line: str, token: Optional[str]) -> Optional[Document]:
        return no_reply if line == "app_command" else _healthy_25(line, token)

    s25 = Session("admin", kit, secure_mode=False, transport=Scripted(answer_25))  # type: ignore[arg-type]
    s25.try_connect(1.0)
    assert s25.flare_version.value == "2.5"
    with pytest.raises(NoReply) as info:
        s25._do_command("app_command", check_known=False)
    assert str(info.value) == "site-1"
    with pytest.raises(AuthorizationError) as named:
        s._do_command("go x", check_known=False, label="go <job>")
    assert "'go <job>" in str(named.value)
    with pytest.raises(AuthorizationError) as unnamed:
        s._do_command("go x", check_known=False)
    assert "'go x" in str(unnamed.value)


def test_the_trace_cuts_long_lines_and_replies_and_names_a_missing_document(
    kit: Path, caplog: pytest.LogCaptureFixture
) -> None:
    long_reply = Document([Item.string("r" * 3000), Item.success()], meta={"status": "ok", "info": ""})
    s = Session("admin", kit, secure_mode=False, debug=True, transport=Scripted(healthy))  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="flare_api"):
        s._trace("a" * 200, None)
        s._trace("b" * 201, long_reply)
    text = long_reply.to_json()
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (logging.INFO, f"{'a' * 200} -> <no document>"),
        (logging.INFO, f"{'b' * 200}... (201 chars) -> {text[:2000]}... ({len(text)} chars)"),
    ]
    caplog.clear()
    quiet = Session("admin", kit, secure_mode=False, transport=Scripted(healthy))  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="flare_api"):
        quiet._trace("list_jobs", None)
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (logging.DEBUG, "list_jobs -> <no document>")
    ]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="flare_api"):
        quiet._trace("list_jobs", None)
    assert caplog.records == []


def test_a_reply_of_exactly_2000_characters_is_traced_whole(kit: Path, caplog: pytest.LogCaptureFixture) -> None:
    base = len(Document([Item.string("")], time="t").to_json())
    exact = Document([Item.string("x" * (2000 - base))], time="t")
    over = Document([Item.string("x" * (2001 - base))], time="t")
    assert (len(exact.to_json()), len(over.to_json())) == (2000, 2001)
    s = Session("admin", kit, secure_mode=False, debug=True, transport=Scripted(healthy))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="flare_api"):
        s._trace("l", exact)
        s._trace("l", over)
    assert [record.getMessage() for record in caplog.records] == [
        f"l -> {exact.to_json()}",
        f"l -> {over.to_json()[:2000]}... (2001 chars)",
    ]
