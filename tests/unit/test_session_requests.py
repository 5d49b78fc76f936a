"""What each command request carries and the checks before it is sent (mutation testing, docs/testing.md):
FLARE 2.4+'s request meta (the session's ``cmd_timeout`` from ``set_timeout``, a command's ``cmd_props``,
nothing when neither is set), a closed session's refusal, and a reply without meta refused where FLARE's
API needs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pytest

from flare_api import Session
from flare_api.errors import InternalError, InvalidArgumentError, SessionClosed
from flare_api.wire import Document, Item

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
