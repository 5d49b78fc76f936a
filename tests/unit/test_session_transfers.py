"""The session's FLARE 2.4+ file transfers against a scripted transport: which transport can carry them, the
token and the checks before any I/O, the push's reply mapped like any command's (under the method's label),
the pull's file returned as bytes, a text answer raising its error (or ``ProtocolError`` when it is not an
error), a lost connection, and the debug trace (mutation testing, docs/testing.md)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Union

import pytest

from flare_api import Session
from flare_api.errors import (
    AuthorizationError,
    ConnectionLost,
    InternalError,
    JobNotFound,
    NoConnection,
    NoReply,
    ProtocolError,
    SessionClosed,
)
from flare_api.wire import Document, Item
from flare_api.wire.transfer import TransferFraming

from .test_session_unit import TABLE, Scripted, healthy

#: A 2.5 command table (``app_command`` is new in 2.5).
TABLE_25 = [*TABLE, ["training", "app_command", "app command", "app_command", "none", None, "True"]]
OK = Document([Item.string("Submitted job: j1"), Item.success()], meta={"status": "ok", "info": "", "job_id": "j1"})


def _healthy_25(line: str, token: Optional[str]) -> Optional[Document]:
    if line == "_commands":
        return Document([Item.table(TABLE_25)])
    return healthy(line, token)


class Transfers(Scripted):
    """A scripted transport that also pushes and pulls: it records each transfer and answers from a list."""

    def __init__(self, answers: list[Union[bytes, Optional[Document], BaseException]]) -> None:
        super().__init__(_healthy_25)
        self.answers = answers
        self.transfers: list[tuple[str, str, Optional[str], object]] = []

    def _next(self) -> Union[bytes, Optional[Document]]:
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def push(self, line: str, token: Optional[str], body: bytes, *, timeout: Optional[float] = None) -> object:
        self.transfers.append(("push", line, token, body))
        return self._next()

    def pull(
        self, line: str, token: Optional[str], framing: TransferFraming, *, timeout: Optional[float] = None
    ) -> object:
        self.transfers.append(("pull", line, token, framing))
        return self._next()


def _session(kit: Path, transport: Scripted, **kwargs: object) -> Session:
    return Session("admin", kit, secure_mode=False, transport=transport, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    from fakeserver.poc_kit import write_poc_admin_kit

    return write_poc_admin_kit(tmp_path / "admin", "127.0.0.9", 8003)


def test_a_push_sends_the_token_and_body_and_returns_the_reply(kit: Path) -> None:
    transport = Transfers([OK])
    s = _session(kit, transport)
    s.try_connect(1.0)
    assert s.flare_version.value == "2.5"
    assert s._do_push("submit_job x", b"zip", label="submit_job") is OK
    assert transport.transfers == [("push", "submit_job x", "tok-1", b"zip")]


def test_a_refused_push_raises_its_error_under_the_label(kit: Path) -> None:
    refused = Document([Item.error("not authorized")], meta={"status": "not_authorized", "info": "no"})
    s = _session(kit, Transfers([refused]))
    s.try_connect(1.0)
    with pytest.raises(AuthorizationError, match="submit_job"):
        s._do_push("submit_job x", b"zip", label="submit_job")


def test_a_push_or_pull_that_loses_the_connection_raises_connection_lost(kit: Path) -> None:
    lost = NoConnection("connecting to admin server 127.0.0.9:8003 failed after 0.01 s: refused")
    transport = Transfers([lost, lost])
    s = _session(kit, transport)
    s.try_connect(1.0)
    with pytest.raises(ConnectionLost) as info:
        s._do_push("submit_job x", b"zip", label="submit_job")
    assert str(info.value) == str(lost)
    with pytest.raises(ConnectionLost) as info:
        s._do_pull("download_job_file j1 a.txt", TransferFraming.CHUNK_STREAM, label="download")
    assert str(info.value) == str(lost)


def test_a_pull_returns_the_files_bytes_untouched(kit: Path) -> None:
    transport = Transfers([b"file body", b""])
    s = _session(kit, transport)
    s.try_connect(1.0)
    line = "download_job_file j1 a.txt"
    assert s._do_pull(line, TransferFraming.BINARY_EXCHANGE, label="download") == b"file body"
    assert s._do_pull(line, TransferFraming.CHUNK_STREAM, label="download") == b""
    assert transport.transfers == [
        ("pull", line, "tok-1", TransferFraming.BINARY_EXCHANGE),
        ("pull", line, "tok-1", TransferFraming.CHUNK_STREAM),
    ]


def test_a_pull_answered_with_text_raises_its_error_or_protocol_error(kit: Path) -> None:
    missing = Document([Item.error("no such job")], meta={"status": "invalid_job_id", "info": "j9"})
    transport = Transfers([missing, OK, None])
    s = _session(kit, transport)
    s.try_connect(1.0)
    with pytest.raises(JobNotFound):
        s._do_pull("download_job_file j9 a.txt", TransferFraming.BINARY_EXCHANGE, label="download_job_file")
    with pytest.raises(ProtocolError) as info:
        s._do_pull("download_job_file j1 a.txt", TransferFraming.BINARY_EXCHANGE, label="get a.txt")
    assert str(info.value) == "get a.txt: the server answered a file pull with a reply that is not an error"
    with pytest.raises(ProtocolError, match=r"'get b\.txt'"):
        s._do_pull("download_job_file j1 b.txt", TransferFraming.BINARY_EXCHANGE, label="get b.txt")


def test_transfers_are_traced_like_commands(kit: Path, caplog: pytest.LogCaptureFixture) -> None:
    transport = Transfers([OK, b"file", OK])
    s = _session(kit, transport, debug=True)
    s.try_connect(1.0)
    with caplog.at_level(logging.INFO, logger="flare_api"):
        s._do_push("submit_job x", b"zip", label="submit_job")
        s._do_pull("download_job_file j1 a.txt", TransferFraming.BINARY_EXCHANGE, label="download")
        with pytest.raises(ProtocolError):
            s._do_pull("download_job_file j1 b.txt", TransferFraming.BINARY_EXCHANGE, label="download")
    assert [record.getMessage() for record in caplog.records] == [
        f"submit_job x -> {OK.to_json()}",
        f"download_job_file j1 b.txt -> {OK.to_json()}",
    ]


def test_transfers_need_a_logged_in_open_session(kit: Path) -> None:
    transport = Transfers([])
    s = _session(kit, transport)
    with pytest.raises(SessionClosed) as info:
        s._do_push("submit_job x", b"zip", label="submit_job")
    assert str(info.value) == "the session is not logged in; call try_connect(timeout) first"
    s.try_connect(1.0)
    s.close()
    with pytest.raises(SessionClosed) as info:
        s._do_pull("download_job_file j1 a.txt", TransferFraming.CHUNK_STREAM, label="download")
    assert str(info.value) == "session closed"
    assert transport.transfers == []


class _PushOnly(Scripted):
    def push(self, line: str, token: Optional[str], body: bytes, *, timeout: Optional[float] = None) -> object:
        raise AssertionError("not called")


class _PullNotCallable(_PushOnly):
    pull = "not a method"


@pytest.mark.parametrize("transport_class", [Scripted, _PushOnly, _PullNotCallable])
def test_a_transport_without_push_and_pull_cannot_transfer(kit: Path, transport_class: type[Scripted]) -> None:
    transport = transport_class(_healthy_25)
    s = _session(kit, transport)
    s.try_connect(1.0)
    for call in (
        lambda: s._do_push("submit_job x", b"zip", label="submit_job"),
        lambda: s._do_pull("download_job_file j1 a.txt", TransferFraming.CHUNK_STREAM, label="download"),
    ):
        with pytest.raises(InternalError) as info:
            call()
        assert str(info.value) == (
            f"protocol error: the transport {transport_class.__name__} cannot carry FLARE 2.5 file transfers "
            "(it has no push/pull)"
        )


def test_transfer_replies_are_mapped_with_the_servers_series(kit: Path) -> None:
    """``no_reply`` is FLARE 2.5's ``NoReply``; 2.3.12's mapping would not know it."""
    no_reply = Document([Item.error("site-1 did not reply")], meta={"status": "no_reply", "info": "site-1"})
    s = _session(kit, Transfers([no_reply, no_reply]))
    s.try_connect(1.0)
    with pytest.raises(NoReply) as info:
        s._do_push("submit_job x", b"zip", label="submit_job")
    assert str(info.value) == "site-1"
    with pytest.raises(NoReply):
        s._do_pull("download_job_file j1 a.txt", TransferFraming.BINARY_EXCHANGE, label="download")
