"""FLARE 2.4-2.6's ``pull_folder`` download, as their client does it, made safe.

The server answers ``download_job <id>`` (or ``download_job_components <id>``) with the files of a transaction;
each is pulled with ``<cmd_name> <tx_id> <id> <file>`` (``end`` on the last) in the version's framing (2.4 chunk
stream, 2.5+ binary exchange), written under ``<download_dir>/<id>__<tx_id>/``, every ``*.zip`` unpacked into a
folder of its name without ``.zip``, and the folder renamed to ``<download_dir>/<id>`` or, if that exists,
``<id>__1`` ... ``<id>__999`` (reference flare-2.4-2.6 section 6.2). Unlike FLARE's client, file names and zip
entries that would land outside the folder are refused, a failed download leaves no partial folder, and one
file is held in memory at a time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from .command_runner import CommandRunner
from .errors import ProtocolError
from .job_folder import safe_extract, unsafe_entry_reason
from .versions import FlareVersion
from .wire import join_command_line
from .wire.transfer import TransferFraming, TransferKey

__all__ = ["MAX_RENAME_TRIES", "framing_of", "pull_folder"]

#: FLARE's client tries ``<id>``, then ``<id>__1`` ... ``<id>__999``.
MAX_RENAME_TRIES = 1000
ZIP_SUFFIX = ".zip"


def framing_of(version: FlareVersion) -> TransferFraming:
    """How a server of ``version`` frames a pulled file (2.4: chunk stream; 2.5, 2.6: binary exchange)."""
    return TransferFraming.CHUNK_STREAM if version is FlareVersion.V2_4 else TransferFraming.BINARY_EXCHANGE


def _str(meta: dict[str, Any], key: str, command: str) -> str:
    value = meta.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{command}: the server's reply has no {key} (got {value!r:.100})")
    return value


def _file_names(meta: dict[str, Any], command: str) -> list[str]:
    files = meta.get(TransferKey.FILES)
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise ProtocolError(f"{command}: the server's reply lists no files to download (got {files!r:.200})")
    for name in files:
        reason = unsafe_entry_reason(name)
        if reason is not None:
            raise ProtocolError(f"{command}: refusing to download {name!r}: {reason}")
    return files


def pull_folder(runner: CommandRunner, line: str, folder_name: str, *, label: str) -> str:
    """Run a ``pull_folder`` download whose first command is ``line``; return the folder it landed in."""
    meta = runner._do_command(line, label=label).meta
    files = _file_names(meta, label)
    tx_id = _str(meta, TransferKey.TX_ID, label)
    cmd_name = _str(meta, TransferKey.CMD_NAME, label)
    if unsafe_entry_reason(tx_id) or "/" in tx_id or "\\" in tx_id:
        raise ProtocolError(f"{label}: the server's tx_id {tx_id!r:.100} is not a plain name")
    framing = framing_of(runner.flare_version)
    download_dir = Path(runner.download_dir)
    tx_path = download_dir / f"{folder_name}__{tx_id}"
    try:
        for index, name in enumerate(files):
            words = [cmd_name, tx_id, folder_name, name] + (["end"] if index == len(files) - 1 else [])
            data = runner._do_pull(join_command_line(words), framing, label=f"{label}: {name}")
            _store(tx_path, name, data)
            del data
        return _rename(tx_path, download_dir / folder_name)
    finally:
        if tx_path.exists():
            shutil.rmtree(tx_path, ignore_errors=True)


def _store(tx_path: Path, name: str, data: bytes) -> None:
    """Write one pulled file; a zip is unpacked (safely) into the folder of its name, as FLARE's client does."""
    target = tx_path / name
    if name.endswith(ZIP_SUFFIX):
        safe_extract(data, target.with_name(target.name[: -len(ZIP_SUFFIX)]))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _rename(source: Path, destination: Path) -> str:
    """FLARE's ``_rename_folder``: the first of ``destination``, ``destination__1``, ... that the rename takes."""
    for attempt in range(MAX_RENAME_TRIES):
        candidate = destination if attempt == 0 else destination.with_name(f"{destination.name}__{attempt}")
        try:  # onto an empty folder it succeeds, onto a non-empty one it fails: FLARE's rule
            os.rename(source, candidate)
        except OSError:
            continue
        return str(candidate)
    raise ProtocolError(f"could not move the download to {destination} or any of its {MAX_RENAME_TRIES - 1} variants")
