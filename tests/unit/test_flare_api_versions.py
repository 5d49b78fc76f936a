"""The client reads the server's FLARE series from its ``_commands`` table and maps 2.4+ statuses as it does."""

from __future__ import annotations

import json
from typing import Any, Optional

import pytest

from fakeserver.commands import build_registry
from fakeserver.protocol.versions import FlareVersion as ServedVersion
from flare_api import FlareVersion
from flare_api import errors as ours
from flare_api.command_table import CommandEntry, CommandTable, parse_command_table
from flare_api.errors import raise_for_reply
from flare_api.transport import parse_reply
from flare_api.versions import detect_flare_version


def _table(*rows: tuple[str, str, Optional[str]]) -> CommandTable:
    return CommandTable([CommandEntry(s, n, "", n, "none", c, True) for s, n, c in rows])


BASE = [("job_mgmt", "list_jobs", None), ("job_mgmt", "submit_job", "file_transfer.upload_folder")]
V23 = [*BASE, ("training", "set_timeout", None), ("sys", "dead", None), ("job_mgmt", "start_app", None)]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], FlareVersion.V2_3),
        ([("job_mgmt", "download_job", "file_transfer.download_folder")], FlareVersion.V2_3),
        ([("job_mgmt", "download_job", "file_transfer.pull_folder")], FlareVersion.V2_4),
        ([("job_mgmt", "download_job_file", "file_transfer.pull_binary")], FlareVersion.V2_4),
        ([("sys", "report_env", None)], FlareVersion.V2_4),
        ([("job_mgmt", "app_command", None)], FlareVersion.V2_5),
        ([("job_mgmt2", "submit_job", "file_transfer.push_folder")], FlareVersion.V2_5),
        ([("job_mgmt", "list_job", None)], FlareVersion.V2_6),
        ([("sys", "configure_site_log", None)], FlareVersion.V2_6),
    ],
)
def test_detection_from_each_series_addition(extra: list[Any], expected: FlareVersion) -> None:
    """On the 2.3 table: 2.4's additions come with its removals (no ``dead``), as on the real 2.4.2 table."""
    base = [row for row in V23 if expected is not FlareVersion.V2_4 or row[1] not in ("dead", "set_timeout")]
    assert detect_flare_version(_table(*base, *extra)) is expected


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (V23, FlareVersion.V2_3),
        ([*BASE, ("job_mgmt", "start_app", None)], FlareVersion.V2_4),
        ([*BASE, ("sys", "dead", None), ("job_mgmt", "start_app", None)], FlareVersion.V2_5),
        ([*BASE, ("sys", "dead", None)], FlareVersion.V2_6),
    ],
)
def test_detection_from_each_series_removals(rows: list[Any], expected: FlareVersion) -> None:
    """A table without the additions still tells the series by what each one removed (reference 3.1)."""
    assert detect_flare_version(_table(*rows)) is expected


@pytest.mark.parametrize("served", list(ServedVersion))
def test_detection_of_each_served_table(served: ServedVersion) -> None:
    """The fake's per-version tables (transcribed from the real servers' command modules) are told apart."""
    rows = build_registry(served).commands_table()
    reply = parse_reply(json.dumps({"time": "t", "data": [{"type": "table", "rows": rows}]}) + "\x03", "stub")
    table = parse_command_table(reply)
    assert table is not None
    assert detect_flare_version(table).value == served.value


def test_versions_parse_and_order() -> None:
    assert FlareVersion.parse("2.5.2") is FlareVersion.V2_5
    assert FlareVersion.V2_3 < FlareVersion.V2_4 <= FlareVersion.V2_6
    with pytest.raises(ValueError, match=r"2\.7"):
        FlareVersion.parse("2.7")


def _reply(meta: dict[str, Any], items: Optional[list[dict[str, Any]]] = None) -> Any:
    doc = {"time": "t", "data": items if items is not None else [{"type": "success", "data": ""}], "meta": meta}
    return parse_reply(json.dumps(doc) + "\x03", "stub")


@pytest.mark.parametrize(
    ("status", "info", "cls", "message"),
    [
        ("job_not_running", "J1", ours.JobNotRunning, "job J1 is not running"),
        ("clients_running", "", ours.ClientsStillRunning, "one or more clients are still running"),
        ("no_clients", "", ours.NoClientsAvailable, "no clients available"),
        ("invalid_target", "invalid client(s): x", ours.InvalidTarget, "invalid client(s): x"),
        (
            "not_authenticated",
            "invalid credential",
            ours.AuthenticationError,
            "user not authenticated: invalid credential",
        ),
        ("syntax_error", "missing job_id", ours.InternalError, "syntax error: missing job_id"),
        ("internal_error", "boom", ours.InternalError, "server internal error: boom"),
        ("error", "Unknown command", ours.InternalError, "error: Unknown command"),
        ("error", "session_inactive", ours.SessionInactive, "error: session_inactive"),
        ("no_jobs", "x", ours.InternalError, "no_jobs: x"),
        ("no_job_compoents", "none", ours.InternalError, "no_job_compoents: none"),
        ("invalid_job_id", "J", ours.JobNotFound, "no such job: J"),
        ("job_running", "J", ours.JobNotDone, "job J is still running"),
    ],
)
@pytest.mark.parametrize("version", ["2.4", "2.5", "2.6"])
def test_socket_era_status_map(version: str, status: str, info: str, cls: type, message: str) -> None:
    with pytest.raises(cls) as raised:
        raise_for_reply("cmd", _reply({"status": status, "info": info}), flare_version=version)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("version", "cls"), [("2.4", ours.InternalError), ("2.5", ours.NoReply), ("2.6", ours.NoReply)]
)
def test_no_reply_is_mapped_from_2_5(version: str, cls: type) -> None:
    with pytest.raises(cls) as raised:
        raise_for_reply("app_command J t", _reply({"status": "no_reply", "info": "no result"}), flare_version=version)
    assert str(raised.value) == ("no_reply: no result" if version == "2.4" else "no result")


def test_absent_status_is_ok_from_2_4_but_not_in_2_3() -> None:
    reply = _reply({"clients": [{"name": "site-1"}]})
    assert raise_for_reply("report_env", reply, flare_version="2.4") is reply
    with pytest.raises(ours.InternalError, match=r"server internal error \(None\)"):
        raise_for_reply("report_env", reply)


def test_2_3_messages_unchanged() -> None:
    with pytest.raises(ours.InternalError, match=r"^protocol error: x$"):
        raise_for_reply("cmd", _reply({"status": "syntax_error", "info": "x"}), flare_version="2.3")
    with pytest.raises(ours.InternalError, match=r"^server internal error \(job_not_running\): J$"):
        raise_for_reply("cmd", _reply({"status": "job_not_running", "info": "J"}))
