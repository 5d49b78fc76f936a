"""What a finished job leaves behind, and the zip ``download_job`` sends.

A job that ran gets a server run workspace like FLARE's (``log.txt``, ``fl_app.txt``, ``meta.json``,
``app_server/...``, ``models/...``) plus one folder per participating site, so a downloaded result
has real, deterministic content. The download zip is ``<id>/job/...`` (the submitted job) and
``<id>/workspace/...``, laid out the way FLARE's ``zip_directory_to_bytes`` lays out a folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import shutil
import struct
import zipfile
from typing import Optional, Union

from .job_config import CLIENT_CONFIG
from .job_script import RunStatus
from .jobs import JobRecord, history_time

#: Where a persistor that is not FLARE's numpy one saves the global model (PTFileModelPersistor's default).
MODEL_PATH = "models/FL_global_model.pt"
NP_PERSISTOR = "nvflare.app_common.np.np_model_persistor.NPModelPersistor"
NP_TRAINER = "nvflare.app_common.np.np_trainer.NPTrainer"


def round_times(record: JobRecord) -> list[float]:
    """When each round the run got to started."""
    return list(record.round_times)


def server_log(record: JobRecord) -> str:
    """The server's ``log.txt`` of a run, one line per event, in FLARE's logging format."""
    job_id = record.job_id
    lines = []

    def add(when: float, component: str, text: str, level: str = "INFO") -> None:
        lines.append(f"{history_time(when)},000 - {component} - {level} - [identity=server, run={job_id}]: {text}")

    failures = record.load_failures
    if failures and failures[0].on_server and record.started_at is not None:
        # the job process could not build the server app: its ConfigError, and no workflow ever ran
        location = f"startup/../{job_id}/app_server/config/{failures[0].config_file}"
        text = f"FL server execution exception: ConfigError: {failures[0].config_error(location)}"
        lines.append(f"{history_time(record.started_at)},000 - runner_process - ERROR - {text}")
        return "".join(line + "\n" for line in lines)
    if record.started_at is not None:
        add(record.started_at, "ServerRunner", "Server runner starting ...")
        for number, when in enumerate(round_times(record)):
            add(when, "ScatterAndGather", f"Round {number} started.")
    if record.finished_at is not None:
        status = record.status
        if failures and status is RunStatus.FINISHED_EXECUTION_EXCEPTION:
            text = "Aborting current RUN due to FATAL_SYSTEM_ERROR received: All clients are dead"
            add(record.finished_at, "ServerRunner", text, "ERROR")
        elif status is RunStatus.FINISHED_EXECUTION_EXCEPTION:
            add(record.finished_at, "ServerRunner", f"Exception in workflow: {record.script.failure}", "ERROR")
        elif status is RunStatus.FINISHED_ABORTED:
            add(record.finished_at, "ServerRunner", "Abort signal received. Aborting the run.")
        add(record.finished_at, "ServerRunner", f"Server runner finished with status {status.value}")
    return "".join(line + "\n" for line in lines)


def site_log(record: JobRecord, site: str) -> str:
    """A site's view of the run: one line per round it trained."""
    lines = []
    for number, when in enumerate(round_times(record)):
        lines.append(
            f"{history_time(when)},000 - ClientRunner - INFO - [identity={site}, run={record.job_id}]: "
            f"Round {number}: training done"
        )
    return "".join(line + "\n" for line in lines)


def _model_bytes(record: JobRecord) -> bytes:
    seed = hashlib.sha256(f"{record.job_id}:{record.script.rounds}".encode()).digest()
    return b"FLAREHARNESS-MODEL\n" + seed * 32


def npy_bytes(rows: list[list[float]]) -> bytes:
    """A 2-D float32 array in NumPy's ``.npy`` format 1.0, as ``np.save`` writes it."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({len(rows)}, {len(rows[0])}), }}"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    body = struct.pack(f"<{sum(len(r) for r in rows)}f", *(v for r in rows for v in r))
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + body


def np_weights(rounds_done: int) -> bytes:
    """The numpy job's model after ``rounds_done`` rounds: NPModelPersistor's initial 1..9, plus NPTrainer's
    ``delta`` (1) per round (real 3-round run: 4..12), as ``np.save`` writes the float32 array."""
    return npy_bytes([[float(3 * r + c + 1 + rounds_done) for c in range(3)] for r in range(3)])


def trainer_model_path(record: JobRecord, site: str) -> Optional[str]:
    """Where the site's NPTrainer saves its local model in the run folder (``model/best_numpy.npy`` by default);
    None when the site's app trains with another executor."""
    app = record.config.app(record.site_apps.get(site, ""))
    for item in app.class_configs(CLIENT_CONFIG) if app is not None else ():
        if item.json_path.startswith("executors.") and (
            item.path == NP_TRAINER or item.element.get("name") == "NPTrainer"
        ):
            folder, name = item.args.get("model_dir", "model"), item.args.get("model_name", "best_numpy.npy")
            return posixpath.join(str(folder), str(name))
    return None


def saved_model(record: JobRecord) -> Optional[tuple[str, bytes]]:
    """The file the job's persistor writes into the run folder, named from its config.

    NPModelPersistor ``np.save``s ``<model_dir>/<model_name>`` (default ``models/server.npy``): its
    default weights (1..9) plus one per round from NPTrainer's ``delta``. Another persistor gets
    deterministic bytes at ``models/FL_global_model.pt``; a server app without one saves nothing.
    """
    persistor = record.config.persistor(record.app_name)
    if persistor is None:
        return None
    if persistor.path == NP_PERSISTOR:
        folder = str(persistor.args.get("model_dir", "models"))
        name = str(persistor.args.get("model_name", "server.npy"))
        done = len(record.round_times) if record.status is RunStatus.FINISHED_COMPLETED else 0
        return posixpath.join(folder, name), np_weights(done)
    return MODEL_PATH, _model_bytes(record)


def build_workspace(record: JobRecord) -> dict[str, bytes]:
    """The server run folder of a job that ran (empty if it never started)."""
    if record.started_at is None:
        return {}
    files: dict[str, bytes] = {
        "log.txt": server_log(record).encode(),
        "fl_app.txt": (record.app_name or "app").encode(),
        "meta.json": json.dumps(record.meta, indent=4).encode(),
    }
    app = record.app_name
    prefix = f"{record.meta.get('job_folder_name', '')}/{app}/"
    for name, data in job_files(record.content).items():
        if app and name.startswith(prefix):
            files["app_server/" + name[len(prefix) :]] = data
    model = saved_model(record) if record.status is RunStatus.FINISHED_COMPLETED else None
    if model is not None:
        files[model[0]] = model[1]
    # Real 2.3.12 results hold the server's run folder only: no site logs.
    return files


def job_files(content: bytes) -> dict[str, bytes]:
    """The files (not directories) of a stored job zip, by entry name."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


def _job_dirs(content: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {info.filename.rstrip("/") for info in archive.infolist() if info.is_dir()}


#: A file of a virtual folder: its bytes, or an entry of a stored job zip to copy in chunks.
FileSource = Union[bytes, zipfile.ZipInfo]
_COPY_CHUNK = 1 << 20


def zip_tree(
    top: str,
    files: dict[str, FileSource],
    dirs: Optional[set[str]] = None,
    source: Optional[zipfile.ZipFile] = None,
) -> bytes:
    """Zip a virtual folder named ``top`` like FLARE zips a real one: STORED, ``os.walk`` order
    (a folder's files, then its subfolder entries, then each subfolder), no entry for ``top`` itself.

    A file given as a ``ZipInfo`` is streamed from ``source``, so a job's content is never held twice.
    """
    all_dirs = set(dirs or ())
    for path in files:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            all_dirs.add("/".join(parts[:i]))
    files_in: dict[str, list[str]] = {}
    dirs_in: dict[str, list[str]] = {}
    for path in files:
        files_in.setdefault(posixpath.dirname(path), []).append(path)
    for folder in all_dirs:
        if folder:
            dirs_in.setdefault(posixpath.dirname(folder), []).append(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:

        def write(path: str) -> None:
            content = files[path]
            if isinstance(content, bytes):
                archive.writestr(f"{top}/{path}", content)
                return
            assert source is not None, "a streamed file needs its source zip"
            info = zipfile.ZipInfo(f"{top}/{path}")
            info.file_size = content.file_size
            with source.open(content) as reader, archive.open(info, "w") as writer:
                shutil.copyfileobj(reader, writer, _COPY_CHUNK)

        pending = [""]
        while pending:  # iterative, so a deep tree cannot exhaust the stack
            folder = pending.pop()
            here_dirs = sorted(dirs_in.get(folder, ()))
            for path in sorted(files_in.get(folder, ())):
                write(path)
            for sub in here_dirs:
                archive.writestr(zipfile.ZipInfo(f"{top}/{sub}/"), b"")
            pending.extend(reversed(here_dirs))
    return buffer.getvalue()


def download_zip(record: JobRecord) -> bytes:
    """``<id>/job/<folder>/...`` and ``<id>/workspace/...`` of a stored job, job files streamed."""
    with zipfile.ZipFile(io.BytesIO(record.content)) as content:
        infos = content.infolist()
        files: dict[str, FileSource] = {f"job/{info.filename}": info for info in infos if not info.is_dir()}
        dirs = {"job", "workspace"} | {f"job/{info.filename.rstrip('/')}" for info in infos if info.is_dir()}
        for name, data in (record.workspace or {}).items():
            files[f"workspace/{name}"] = data
        return zip_tree(record.job_id, files, dirs, content)
