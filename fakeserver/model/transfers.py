"""Open downloads of FLARE 2.4-2.6 (``pull_folder``): a transaction id naming the files a client then pulls.

``download_job <id>`` opens a transaction holding the job's files (``job.zip``, ``meta.json`` and, once the
job ran, ``workspace.zip``); the client pulls each with ``download_job_file <tx_id> <job_id> <file> [end]``
and ``end`` closes it (FLARE deletes its ``<download_dir>/<tx_id>`` folder then). A file is kept as the
bytes the store already holds (the stored job zip is not copied) or as a function that builds it when
pulled. At most :data:`MAX_OPEN` transactions stay open: a client that never sends ``end`` costs a slot
until newer downloads push it out (FLARE keeps such folders on disk for ever).
"""

from __future__ import annotations

import collections
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from typing import Callable, Optional, Union

from .jobs import JobRecord

__all__ = ["JOB_FILES", "MAX_OPEN", "Transfer", "TransferStore", "job_download_files", "workspace_zip"]

#: How many downloads may be open (opened, not yet ended) at once.
MAX_OPEN = 256
#: The file names of a job download, in the order FLARE's ``download_job`` writes them to the tx folder.
JOB_FILES = ("job.zip", "meta.json", "workspace.zip")

FileData = Union[bytes, Callable[[], bytes]]


@dataclass
class Transfer:
    """One open download: its id, the folder name the client sends back, and its files by relative path."""

    tx_id: str
    folder_name: str
    files: dict[str, FileData]

    def read(self, name: str) -> Optional[bytes]:
        """The bytes of file ``name``, or None if the transaction has no such file."""
        source = self.files.get(name)
        if source is None:
            return None
        return source if isinstance(source, bytes) else source()


class TransferStore:
    """The open downloads of one server, oldest first; bounded by ``max_open``."""

    def __init__(self, max_open: int = MAX_OPEN) -> None:
        if max_open < 1:
            raise ValueError(f"max_open must be at least 1, got {max_open!r}")
        self.max_open = max_open
        self._open: collections.OrderedDict[str, Transfer] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._open)

    def open(self, folder_name: str, files: dict[str, FileData]) -> Transfer:
        """Start a download of ``files`` (a fresh uuid4 tx id, as FLARE makes one); the oldest goes if full."""
        while len(self._open) >= self.max_open:
            self._open.popitem(last=False)
        transfer = Transfer(str(uuid.uuid4()), folder_name, dict(files))
        self._open[transfer.tx_id] = transfer
        return transfer

    def get(self, tx_id: str) -> Optional[Transfer]:
        return self._open.get(tx_id)

    def close(self, tx_id: str) -> None:
        """End a download (the client's ``end``); unknown ids are ignored, as FLARE's ``rmtree`` ignores them."""
        self._open.pop(tx_id, None)

    def clear(self) -> None:
        self._open.clear()


def workspace_zip(files: dict[str, bytes]) -> bytes:
    """A run workspace as FLARE stores it for download: STORED, paths relative to the workspace folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    return buffer.getvalue()


def job_download_files(
    record: JobRecord, run_files: Callable[[dict[str, bytes]], dict[str, bytes]] = dict
) -> dict[str, FileData]:
    """What FLARE 2.4+'s ``download_job`` puts in the tx folder: the stored job zip as submitted, the job's meta,
    and the run workspace zipped (only if the job ran; ``run_files`` adds the series' files when it is pulled).
    None is empty, so every one is deliverable to 2.5+ clients, which refuse a zero-byte pull."""
    files: dict[str, FileData] = {
        JOB_FILES[0]: record.content,
        JOB_FILES[1]: json.dumps(record.meta).encode("utf-8"),
    }
    workspace = record.workspace
    if workspace:
        files[JOB_FILES[2]] = lambda: workspace_zip(run_files(workspace))
    return files
