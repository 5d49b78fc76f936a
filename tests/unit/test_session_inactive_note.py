"""The PEP 678 note on :class:`SessionInactive`: why the server forgot the session, with the idle timeout
the server named (FLARE's own wire text says only "timed out after N seconds", never that a restarted or
reset server forgets every session too)."""

from __future__ import annotations

from typing import Any

import pytest

from flare_api.errors import SessionInactive, raise_for_reply
from flare_api.wire.message import Document, Item

_EXPIRED = "user not authenticated or session timed out after {} seconds of inactivity - logged out"


def _note(idle: str) -> str:
    return (
        f"the server no longer knows this session: it expired {idle}, or the server was restarted "
        "or reset since login; open a new session"
    )


def _notes(exc: BaseException) -> list[str]:
    """PEP 678 notes (``__notes__``, which typeshed declares only for Python 3.11+)."""
    return list(getattr(exc, "__notes__", []))


def _raised(doc: Document, **kwargs: Any) -> SessionInactive:
    with pytest.raises(SessionInactive) as info:
        raise_for_reply("list_jobs", doc, **kwargs)
    return info.value


def _meta_reply(text: str) -> Document:
    """The real two-item reply to an unknown or expired token (reference Appendix B)."""
    return Document(
        [Item.error("session_inactive"), Item.string(text)], meta={"status": "error", "info": "session_inactive"}
    )


@pytest.mark.parametrize(("seconds", "idle"), [("3600", "after 3600 s idle"), ("2.5", "after 2.5 s idle")])
def test_the_note_names_the_idle_timeout_the_server_sent(seconds: str, idle: str) -> None:
    exc = _raised(_meta_reply(_EXPIRED.format(seconds)))
    assert str(exc) == "server internal error (error): session_inactive"
    assert _notes(exc) == [_note(idle)]


def test_without_a_timeout_in_the_text_the_note_says_the_servers_idle_timeout() -> None:
    exc = _raised(_meta_reply("logged out"))
    assert _notes(exc) == [_note("after the server's idle timeout")]


@pytest.mark.parametrize("version", ["2.4", "2.5", "2.6"])
def test_socket_era_message_and_note(version: str) -> None:
    exc = _raised(_meta_reply(_EXPIRED.format("600")), flare_version=version)
    assert str(exc) == "error: session_inactive"
    assert _notes(exc) == [_note("after 600 s idle")]


def test_a_reply_without_meta_gets_the_same_note() -> None:
    # FLARE 2.3's client-side status rule (the "session_inactive" substring), no meta in the reply
    doc = Document([Item.error("session_inactive"), Item.string(_EXPIRED.format("30"))])
    exc = _raised(doc)
    assert str(exc) == f"the session is closed on server: session_inactive; {_EXPIRED.format('30')}"
    assert _notes(exc) == [_note("after 30 s idle")]
