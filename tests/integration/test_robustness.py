"""Hostile input over real TLS cannot brick, bloat or freeze the fake server (docs/robustness.md)."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import zipfile
from typing import Any

import pytest

from fakeserver import FakeFlareServer, FakeServerError
from fakeserver.model.state import ERROR_COMMAND_CHARS, MAX_ERROR_RECORDS
from flare_api import VirtualClock
from flare_api.wire import ItemType
from tests.helpers import ADMIN, login, raw, wire

pytestmark = pytest.mark.fake_flare_only

GOOD_META: dict[str, Any] = {"name": "j", "deploy_map": {"app": ["@ALL"]}, "min_clients": 1}


def job_zip(meta: Any, extra: tuple[tuple[str, bytes], ...] = ()) -> str:
    """A minimal valid job ``j`` with this ``meta.json``, base64 as ``submit_job`` carries it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("j/meta.json", json.dumps(meta))
        archive.writestr("j/app/", b"")
        archive.writestr("j/app/config/", b"")
        archive.writestr("j/app/config/config_fed_server.json", b"{}")
        archive.writestr("j/app/config/config_fed_client.json", b"{}")
        for name, data in extra:
            archive.writestr(name, data)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def submit(server: FakeFlareServer, token: str, meta: Any) -> str:
    reply = raw(server, f"submit_job j {job_zip(meta)}", token)
    assert reply.meta.get("status") == "ok", wire(reply)
    return str(reply.meta["job_id"])


def status(server: FakeFlareServer, token: str, job_id: str) -> str:
    reply = raw(server, f"get_job_meta {job_id}", token)
    assert reply.meta.get("status") == "ok", wire(reply)
    return str(reply.meta["job_meta"]["status"])


@pytest.mark.parametrize(
    "hostile",
    [
        {"schedule_count": "x"},
        {"schedule_count": None},
        {"schedule_count": [1]},
        {"schedule_count": -3},
        {"schedule_count": 1.5},
        {"schedule_history": 5},
        {"schedule_history": "abc"},
        {"schedule_history": {"a": 1}},
        {"schedule_count": 2, "last_schedule_time": "yesterday"},
        {"mandatory_clients": 5},
    ],
)
def test_poisoned_meta_stays_with_its_job(flare: FakeFlareServer, flare_clock: VirtualClock, hostile: dict) -> None:
    token = login(flare)
    poisoned = submit(flare, token, {**GOOD_META, **hostile})
    legit = submit(flare, token, GOOD_META)
    for _ in range(40):  # well past every scheduling attempt and the default run
        flare_clock.advance(30)
        assert raw(flare, "list_jobs", token).meta["status"] == "ok"
    assert raw(flare, f"_cert_login {ADMIN}").first(ItemType.TOKEN) is not None
    assert status(flare, token, legit) == "FINISHED:COMPLETED"
    assert status(flare, token, poisoned) == "SUBMITTED"
    meta = raw(flare, f"get_job_meta {poisoned}", token).meta["job_meta"]
    assert {key: meta[key] for key in hostile} == hostile  # kept as FLARE keeps them
    assert flare.jobs.record(poisoned).fault is not None
    assert "aborted" in str(wire(raw(flare, f"abort_job {poisoned}", token))).lower()
    assert flare.errors == []


def test_a_numeric_uploaded_count_is_used_as_flare_uses_it(flare: FakeFlareServer, flare_clock: VirtualClock) -> None:
    token = login(flare)
    job_id = submit(flare, token, {**GOOD_META, "schedule_count": 10})
    flare_clock.advance(30)
    assert status(flare, token, job_id) == "FINISHED:CAN_NOT_SCHEDULE"


def test_a_replay_bug_freezes_one_job_and_is_recorded(flare: FakeFlareServer, flare_clock: VirtualClock) -> None:
    token = login(flare)
    broken = submit(flare, token, GOOD_META)
    flare.jobs.record(broken).script = None  # type: ignore[assignment]  # what a bug in the fake could leave behind
    legit = submit(flare, token, GOOD_META)
    flare_clock.advance(3600)
    assert status(flare, token, legit) == "FINISHED:COMPLETED"
    assert len(flare.errors) == 1 and "replay of job" in flare.errors[0].command
    with pytest.raises(FakeServerError, match="replay of job"):
        flare.raise_errors()


def test_surrogate_command_is_answered_and_audited(flare: FakeFlareServer) -> None:
    token = login(flare)
    reply = raw(flare, "list_jobs \ud800", token)
    assert reply.meta["status"] == "ok"
    assert flare.audit[-1].command == "list_jobs \ud800"
    audit_log = (flare.sites.workspace("server") / "audit.log").read_text(encoding="utf-8")
    assert "[A:list_jobs \\ud800]" in audit_log
    assert flare.errors == []


def test_error_records_are_bounded(flare: FakeFlareServer) -> None:
    huge = "x" * (ERROR_COMMAND_CHARS * 50)
    try:
        for number in range(MAX_ERROR_RECORDS + 5):
            flare._state.record_error(  # white-box: plant errors directly
                f"cmd{number} {huge}", ValueError(number)
            )
        assert len(flare.errors) == MAX_ERROR_RECORDS
        assert flare.errors_dropped == 5
        assert flare.errors[0].command.startswith("cmd5 ")
        assert all(len(record.command) < ERROR_COMMAND_CHARS + 100 for record in flare.errors)
        assert all(record.exception.__traceback__ is None for record in flare.errors)
    finally:
        with contextlib.suppress(FakeServerError):
            flare.raise_errors()


def test_expired_sessions_are_swept(flare: FakeFlareServer, flare_clock: VirtualClock) -> None:
    idle = flare.sessions.idle_timeout
    for _ in range(50):
        login(flare)
    assert len(flare.sessions) == 50
    flare_clock.advance(idle + 1)
    kept = login(flare)  # one request: every abandoned session goes
    assert len(flare.sessions) == 1
    login(flare)  # a newer session...
    flare_clock.advance(idle / 2)
    assert raw(flare, "list_jobs", kept).meta["status"] == "ok"  # ...that the older one now outlives
    flare_clock.advance(idle / 2 + 1)
    assert raw(flare, "list_jobs", kept).meta["status"] == "ok"
    assert [session.token for session in flare.sessions.all()] == [kept]


def _zip_b64(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_JOB = [
    ("j/meta.json", json.dumps(GOOD_META).encode()),
    ("j/app/", b""),
    ("j/app/config/", b""),
    ("j/app/config/config_fed_server.json", b"{}"),
    ("j/app/config/config_fed_client.json", b"{}"),
]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ([("j/app/custom/zeros.bin", bytes(2 * 1024 * 1024))], "compression ratio above 100:1"),
        ([("j/" + "a" * 300 + ".txt", b"x")], "path segment longer than 255 bytes"),
        ([("j/" + "/".join(["d"] * 600), b"x")], "name longer than 1024 bytes"),
        ([("j/app/custom", b"x"), ("j/app/custom/x.py", b"y")], "both a file and a folder"),
        ([("j/app/custom/../../x", b"x")], "'..' path segment"),
        ([("j/C:\\evil", b"x"), ("C:evil", b"x")], "absolute path"),
    ],
)
def test_hostile_zip_is_refused_as_invalid_job(flare: FakeFlareServer, extra: list, reason: str) -> None:
    token = login(flare)
    payload = _zip_b64(_JOB + extra, zipfile.ZIP_DEFLATED)
    reply = raw(flare, f"submit_job j {payload}", token)
    assert reply.meta["status"] == "invalid_job_def", wire(reply)
    assert reason in reply.meta["info"]
    assert len(flare.jobs) == 0
    submit(flare, token, GOOD_META)  # the server is fine afterwards


def test_zip_bomb_is_refused_from_the_directory_alone() -> None:
    """A 1 GiB declared entry is refused before a byte of it is inflated (memory stays flat)."""
    import tracemalloc

    from fakeserver.model.uploads import UnsafeUpload, decode_upload

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in _JOB:
            archive.writestr(name, data)
        info = zipfile.ZipInfo("j/app/custom/bomb.bin")
        archive.writestr(info, b"tiny")
    data = bytearray(buffer.getvalue())
    # Claim 1 GiB uncompressed in the central directory record of the last entry.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (1 << 30).to_bytes(4, "little")
    payload = base64.b64encode(bytes(data)).decode("ascii")
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeUpload, match="expands to 1073741"):
            decode_upload("j", payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * len(payload) + 1_000_000


def test_catastrophic_grep_is_answered(flare: FakeFlareServer) -> None:
    token = login(flare)
    (flare.sites.workspace("server") / "big.txt").write_bytes(b"a" * 30_000 + b"\n")
    reply = raw(flare, "grep server '\\(a*\\)*b' big.txt", token)
    assert wire(reply) == [{"type": "string", "data": ""}]
    reply = raw(flare, "grep server '\\(a*\\)*\\1b' big.txt", token)
    assert "(the fake server's limit)" in wire(reply)[0]["data"]
    assert raw(flare, "list_jobs", token).meta["status"] == "ok"
