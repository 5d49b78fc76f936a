"""The client's ``pull_folder`` download (FLARE 2.4+) against a scripted runner: layout, renames, refusals."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, Optional

import pytest

from flare_api.downloads import framing_of, pull_folder
from flare_api.errors import InternalError, ProtocolError
from flare_api.versions import FlareVersion
from flare_api.wire import Document, MetaKey
from flare_api.wire.transfer import TransferFraming


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Runner:
    """Answers the download command with ``meta`` and each pull from ``files`` (a missing one fails)."""

    def __init__(self, download_dir: Path, meta: dict[str, Any], files: dict[str, bytes]) -> None:
        self.download_dir = str(download_dir)
        self.flare_version = FlareVersion.V2_5
        self.meta = meta
        self.files = files
        self.pulled: list[str] = []

    def _do_command(self, line: str, *, label: Optional[str] = None, **_: Any) -> Document:
        return Document(items=[], meta=dict(self.meta))

    def _do_pull(self, line: str, framing: TransferFraming, *, label: str) -> bytes:
        assert framing is TransferFraming.BINARY_EXCHANGE
        self.pulled.append(line)
        name = line.split(" ")[3]
        if name not in self.files:
            raise InternalError("error: Failed to communicate")
        return self.files[name]


def _meta(files: list[str]) -> dict[str, Any]:
    return {MetaKey.STATUS: "ok", "files": files, "tx_id": "tx-1", "cmd_name": "download_job_file"}


def test_layout_end_marker_and_renames(tmp_path: Path) -> None:
    files = {"job.zip": _zip({"f/meta.json": b"{}"}), "meta.json": b'{"job_id": "j1"}'}
    runner = Runner(tmp_path, _meta(list(files)), files)
    first = pull_folder(runner, "download_job j1", "j1", label="download_job j1")  # type: ignore[arg-type]
    assert first == str(tmp_path / "j1")
    assert runner.pulled == ["download_job_file tx-1 j1 job.zip", "download_job_file tx-1 j1 meta.json end"]
    assert (tmp_path / "j1" / "job" / "f" / "meta.json").is_file() and not (tmp_path / "j1" / "job.zip").exists()
    assert pull_folder(runner, "x", "j1", label="x") == str(tmp_path / "j1__1")  # type: ignore[arg-type]
    (tmp_path / "j1__3").mkdir()  # FLARE's rename lands on an empty folder too
    assert pull_folder(runner, "x", "j1", label="x") == str(tmp_path / "j1__2")  # type: ignore[arg-type]
    assert pull_folder(runner, "x", "j1", label="x") == str(tmp_path / "j1__3")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("files", "message"),
    [([], "lists no files"), (["../evil"], "'..' path segment"), (["/abs"], "absolute path"), ([3], "lists no files")],
)
def test_unsafe_or_missing_file_lists_are_refused(tmp_path: Path, files: list[Any], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        pull_folder(Runner(tmp_path, _meta(files), {}), "x", "j1", label="x")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_zip_entries_outside_the_folder_and_failed_pulls_leave_nothing(tmp_path: Path) -> None:
    evil = {"job.zip": _zip({"../../outside": b"!"})}
    with pytest.raises(ProtocolError):
        pull_folder(Runner(tmp_path, _meta(["job.zip"]), evil), "x", "j1", label="x")  # type: ignore[arg-type]
    runner = Runner(tmp_path, _meta(["meta.json", "workspace.zip"]), {"meta.json": b"{}"})
    with pytest.raises(InternalError, match="Failed to communicate"):
        pull_folder(runner, "x", "j1", label="x")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir()) and not (tmp_path.parent / "outside").exists()


def test_framing_by_series() -> None:
    assert framing_of(FlareVersion.V2_4) is TransferFraming.CHUNK_STREAM
    assert framing_of(FlareVersion.V2_5) is framing_of(FlareVersion.V2_6) is TransferFraming.BINARY_EXCHANGE
