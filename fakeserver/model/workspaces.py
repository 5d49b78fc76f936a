"""The server's and the sites' workspace folders on disk, and the log lines running jobs write there.

Shell commands (``ls``, ``cat``, ``tail``, ``grep`` ...) read these folders, so a test can ``tail`` a
site's ``log.txt`` and see the rounds its job trained. Lines are written as the job timeline is
replayed, stamped with server-clock time.

Each folder is laid out like a provisioned, running FLARE 2.3.12 participant: ``audit.log``,
``daemon_pid.fl``, ``local/``, ``log.txt``, ``pid.fl``, ``readme.txt``, ``start.out``, ``startup/`` (the
kit's file names; ``readme.txt``, ``fed_server.json`` and ``fed_client.json`` with ``nvflare provision``'s
content, the rest stand-in text: no real keys) and ``transfer/``. A job gets a run folder ``<job_id>/``
(``app_<name>/``, ``fl_app.txt``, ``log.txt``, ``meta.json``) on the server while it has a run process,
and on each site it was deployed to, where it stays.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import threading
import uuid
import zipfile
import zlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from .job_script import RunStatus
from .jobs import JobRecord, JobStore, history_time, schedule_count
from .load_failure_logs import Row, config_location, dead_job_rows, job_process_rows
from .policy import DEFAULT_POLICY
from .project import Project
from .reaper import REAPER
from .results import job_files, np_weights, trainer_model_path

SERVER_TARGET = "server"
LOG_FILE = "log.txt"
AUDIT_FILE = "audit.log"
#: ``audit.log`` is rotated to ``audit.log.1`` (replacing it) when it grows past this size.
AUDIT_LOG_MAX_BYTES = 16 * 1024 * 1024
TRANSFER_DIR = "transfer"
SERVER_STARTUP_FILES = (
    "rootCA.pem", "server.crt", "server.key", "server.pfx", "signature.json", "start.sh", "stop_fl.sh", "sub_start.sh",
)  # fmt: skip
CLIENT_STARTUP_FILES = (
    "client.crt", "client.key", "client.pfx", "rootCA.pem", "signature.json", "start.sh", "stop_fl.sh", "sub_start.sh",
)  # fmt: skip
_EXECUTABLE = 0o755
#: The ``local/`` log configuration file of 2.3-2.5 workspaces; 2.6 provisions :func:`log_config_26` instead.
LOG_CONFIG_23 = "log.config.default"
LOG_CONFIG_26 = "log_config.json.default"


def log_config_26() -> tuple[str, str]:
    """2.6's ``local/log_config.json.default``: FLARE 2.6.3's provisioned default (a ``dictConfig`` JSON)."""
    return LOG_CONFIG_26, (Path(__file__).parent / "log_config_26.json").read_text(encoding="utf-8")


_LOG_CONFIG = """[loggers]
keys=root

[handlers]
keys=consoleHandler

[formatters]
keys=fullFormatter

[logger_root]
level=INFO
handlers=consoleHandler

[handler_consoleHandler]
class=StreamHandler
level=DEBUG
formatter=fullFormatter
args=(sys.stdout,)

[formatter_fullFormatter]
format=%(asctime)s - %(name)s - %(levelname)s - %(message)s
"""
_PRIVACY_SAMPLE: dict[str, Any] = {
    "scopes": [
        {"name": "public", "properties": {"train_dataset": "/data/public/train"}, "task_result_filters": []},
        {"name": "private", "properties": {"train_dataset": "/data/private/train"}, "task_result_filters": []},
    ],
    "default_scope": "public",
}
_SERVER_RESOURCES: dict[str, Any] = {
    "format_version": 2,
    "servers": [{"admin_storage": TRANSFER_DIR, "download_job_url": "http://download.server.com/"}],
    "components": [{"id": "job_scheduler", "args": {"max_jobs": 4}}],
}
_CLIENT_RESOURCES: dict[str, Any] = {
    "format_version": 2,
    "components": [{"id": "resource_manager", "args": {"num_of_gpus": 0, "mem_per_gpu_in_GiB": 0}}],
}


_SERVER_README = """*********************************
Federated Learning Server package
*********************************
The package includes at least the following files:
readme.txt
rootCA.pem
server.crt
server.key
authorization.json
fed_server.json
start.sh
sub_start.sh
stop_fl.sh
signature.json

Run start.sh to start the server.

The rootCA.pem file is pointed by "ssl_root_cert" in fed_server.json.  If you plan to move/copy it to a different place,
you will need to modify fed_server.json.  The same applies to the other two files, server.crt and server.key.

Please always safeguard the server.key.
"""
_CLIENT_README = """*********************************
Federated Learning Client package
*********************************
The package includes at least the following files:
readme.txt
rootCA.pem
client.crt
client.key
fed_client.json
start.sh
sub_start.sh
stop_fl.sh

Run start.sh to start the client.

The rootCA.pem file is pointed by "ssl_root_cert" in fed_client.json.  If you plan to move/copy it to a different place,
you will need to modify fed_client.json.  The same applies to the other two files, client.crt and client.key.

The client name in your submission to participate this Federated Learning project is embedded in the CN field of client
certificate, which uniquely identifies the participant.  As such, please safeguard its private key, client.key.
"""


def _overseer(project: Project) -> dict[str, Any]:
    end_point = f"{project.server_name}:{project.fl_port}:{project.admin_port}"
    return {"path": "nvflare.ha.dummy_overseer_agent.DummyOverseerAgent", "args": {"sp_end_point": end_point}}


def fed_server_config(project: Project) -> dict[str, Any]:
    """``startup/fed_server.json`` as ``nvflare provision`` 2.3.12 writes it for a one-server secure project."""
    server = {
        "name": project.name,
        "service": {"target": f"{project.server_name}:{project.fl_port}", "scheme": "grpc"},
        "admin_host": project.server_name,
        "admin_port": project.admin_port,
        "ssl_private_key": "server.key",
        "ssl_cert": "server.crt",
        "ssl_root_cert": "rootCA.pem",
    }
    return {"format_version": 2, "servers": [server], "overseer_agent": _overseer(project)}


def fed_client_config(project: Project) -> dict[str, Any]:
    """``startup/fed_client.json`` as ``nvflare provision`` 2.3.12 writes it (the same for every site)."""
    return {
        "format_version": 2,
        "servers": [{"name": project.name, "service": {"scheme": "grpc"}}],
        "client": {"ssl_private_key": "client.key", "ssl_cert": "client.crt", "ssl_root_cert": "rootCA.pem"},
        "overseer_agent": _overseer(project),
    }


def log_time(epoch: float) -> str:
    """FLARE's log timestamp: ``2026-11-28 07:11:59,526``."""
    moment = datetime.datetime.fromtimestamp(epoch)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + f",{moment.microsecond // 1000:03d}"


def service_session_id(project: Project) -> str:
    """The overseer's service session id (SSID) of the server: stable for one project, as for one real start."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"flare-harness:{project.name}:{project.server_name}"))


def participant_pid(name: str) -> int:
    """A stable process id of a participant's parent process (``pid.fl``, ``process_info``)."""
    return 1000 + zlib.crc32(name.encode("utf-8")) % 60000


def _json_text(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"


def _stand_in(name: str) -> str:
    return f"Stand-in {name} of the fake FLARE federation; not a real kit file.\n"


@lru_cache(maxsize=1)
def _script_templates() -> dict[str, str]:
    text = resources.files(__package__).joinpath("startup_scripts.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def startup_script(file_name: str, participant: str, org: str) -> Optional[str]:
    """``start.sh``, ``sub_start.sh`` or ``stop_fl.sh`` as ``nvflare provision`` 2.3.12 writes them for a server
    (``participant`` "server") or a site; None for other files (keys and certificates stay stand-ins)."""
    kind = "svr" if participant == SERVER_TARGET else "cln"
    key = {"start.sh": f"start_{kind}_sh", "sub_start.sh": f"sub_start_{kind}_sh", "stop_fl.sh": "stop_fl_sh"}.get(
        file_name
    )
    if key is None:
        return None
    text = _script_templates()[key]
    if file_name != "sub_start.sh":
        return text  # written as the template is (the server's start.sh keeps its unreplaced {~~ha_mode~~})
    for name, value in {"client_name": participant, "config_folder": "config", "org_name": org}.items():
        text = text.replace("{~~" + name + "~~}", value)
    return text


class Workspaces:
    """``<root>/server`` and ``<root>/<site>`` folders shaped like FLARE workspaces."""

    def __init__(self, root: Path, project: Project, *, log_config: Optional[tuple[str, str]] = None) -> None:
        self.root = Path(root)
        self._project = project
        #: ``local/``'s default log configuration: (file name, text); 2.3's ``log.config.default`` unless given.
        self._log_config = log_config or (LOG_CONFIG_23, _LOG_CONFIG)
        self._spare_lock = threading.Lock()
        self._spare: Optional[_Spare] = None
        self.reset()
        self.prepare_spare()

    def relocate(self, root: Path) -> None:
        """Lay the folders out afresh under ``root`` (a restarted server whose temporary workspace was removed)."""
        self.close()
        self.root = Path(root)
        self.reset()
        self.prepare_spare()

    def reset(self) -> None:
        """Recreate every folder with its stand-in files and an empty ``log.txt`` and ``audit.log``, in place."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self._lay_out_tree(self.root)
        self._went_live()

    def renew(self) -> Optional[Path]:
        """``reset()`` in two renames: the old folders moved aside (returned for the caller to delete; None if
        there was nothing to move) and the spare laid out in advance moved in; then the next spare is laid
        out in the background. Without a ready spare, or if a rename fails, the folders are laid out inline."""
        trash = _move_aside(self.root)
        spare = self._take_spare()
        if spare is not None:
            try:
                if self.root.exists():
                    raise FileExistsError(self.root)
                os.rename(spare, self.root)
            except OSError:
                shutil.rmtree(spare, ignore_errors=True)
                spare = None
            else:
                self._went_live()
        if spare is None:
            self.reset()
        self.prepare_spare()
        return trash

    def _went_live(self) -> None:
        """Anything that depends on the server clock is written here, when a layout becomes the workspace,
        never in a spare laid out in advance (nothing yet: the layout is clock-independent)."""

    def prepare_spare(self) -> None:
        """Have the reaper thread lay out the next ``renew()``'s folders beside ``root`` (one spare at a time)."""
        with self._spare_lock:
            if self._spare is not None:
                return
            spare = _Spare(self.root.with_name(f".{self.root.name}.spare"), self.root)
            self._spare = spare
        if not REAPER.run_soon(lambda: self._build_spare(spare)):
            spare.done.set()  # the reaper is backed up: no spare this time, the next reset lays out inline

    def _build_spare(self, spare: _Spare) -> None:
        try:
            if spare.path.exists():
                shutil.rmtree(spare.path)
            self._lay_out_tree(spare.path)
            spare.ok = True
        except OSError:  # e.g. stop() removed the temporary workspace meanwhile
            spare.ok = False
        finally:
            spare.done.set()

    def _take_spare(self) -> Optional[Path]:
        """The ready spare for the current ``root`` (now owned by the caller), or None (not ready: left to finish)."""
        with self._spare_lock:
            spare = self._spare
            if spare is None or not spare.done.is_set():
                return None
            self._spare = None
        if spare.ok and spare.root == self.root and spare.path.is_dir():
            return spare.path
        shutil.rmtree(spare.path, ignore_errors=True)
        return None

    def close(self) -> None:
        """Wait for a spare being laid out and delete it (before the workspace itself is removed)."""
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.done.wait()
            shutil.rmtree(spare.path, ignore_errors=True)

    def _lay_out_tree(self, root: Path) -> None:
        """Every participant's folder under ``root``: the one layout both ``reset()`` and the spare use (file
        contents name the folders as they will be once live, under ``self.root``)."""
        project = self._project
        configs: dict[str, dict] = {"fed_server.json": fed_server_config(project)}
        server_folder = root / self.server.name
        self._lay_out(server_folder, SERVER_TARGET, SERVER_STARTUP_FILES, configs, self.server)
        client_config = fed_client_config(project)
        for site in project.sites:
            configs = {"fed_client.json": client_config}
            self._lay_out(root / site.name, site.name, CLIENT_STARTUP_FILES, configs, self.site(site.name))
            if site.resources is not None:
                # What an operator configures from resources.json.default: the site's resource manager.
                (root / site.name / "local" / "resources.json").write_text(_json_text(site.resources.resources_json()))

    def _lay_out(
        self, folder: Path, name: str, startup_files: tuple[str, ...], configs: dict[str, dict], live: Path
    ) -> None:
        startup = folder / "startup"
        startup.mkdir(parents=True)
        (folder / TRANSFER_DIR).mkdir()
        for file_name, config in configs.items():
            (startup / file_name).write_text(json.dumps(config, indent=2))  # provision writes no final newline
        org = self._project.server_org if name == SERVER_TARGET else self._project.site(name).org
        for file_name in startup_files:
            script = startup_script(file_name, name, org)
            (startup / file_name).write_text(_stand_in(file_name) if script is None else script)
            if file_name.endswith(".sh"):
                (startup / file_name).chmod(_EXECUTABLE)
        self._lay_out_local(folder / "local", name, self._log_config)
        kind = "server" if name == SERVER_TARGET else "client"
        (folder / "readme.txt").write_text(_SERVER_README if kind == "server" else _CLIENT_README)
        pid = participant_pid(name)
        (folder / "pid.fl").write_text(f"{pid}\n")
        (folder / "daemon_pid.fl").write_text(f"{pid - 1}\n")
        console = f"WORKSPACE set to {live / 'startup'}/..\nstart fl because of no pid.fl\nnew pid {pid}\n"
        (folder / "start.out").write_text(console)
        (folder / AUDIT_FILE).write_text("")
        (folder / LOG_FILE).write_text("")

    @staticmethod
    def _lay_out_local(local: Path, name: str, log_config: tuple[str, str]) -> None:
        local.mkdir()
        (local / "authorization.json.default").write_text(_json_text(DEFAULT_POLICY))
        log_name, log_text = log_config
        (local / log_name).write_text(log_text)
        (local / "privacy.json.sample").write_text(_json_text(_PRIVACY_SAMPLE))
        resources = _SERVER_RESOURCES if name == SERVER_TARGET else _CLIENT_RESOURCES
        (local / "resources.json.default").write_text(_json_text(resources))

    @property
    def server(self) -> Path:
        return self.root / self._project.server_name  # named after the server participant, as provisioned

    def site(self, name: str) -> Path:
        return self.root / name

    def target(self, name: str) -> Path:
        """The folder of ``server`` or of a site."""
        return self.server if name == SERVER_TARGET else self.site(name)

    def run_folder(self, target: str, job_id: str) -> Path:
        """``<target>/<job_id>``: where a job runs on the server or a site."""
        return self.target(target) / job_id

    def append(self, target: str, line: str, job_id: str = "", *, parent: bool = True) -> None:
        """Append one line to the target's ``log.txt`` (unless not ``parent``: a job process's own line) and, if the
        job has a run folder there, to its ``log.txt``."""
        files = [self.target(target) / LOG_FILE] if parent else []
        if job_id and self.run_folder(target, job_id).is_dir():
            files.append(self.run_folder(target, job_id) / LOG_FILE)
        for path in files:
            with path.open("a", encoding="utf-8", errors="backslashreplace") as log:
                log.write(line + "\n")

    def write_audit(self, line: str) -> None:
        """Append one line to the server's ``audit.log``, rotated at :data:`AUDIT_LOG_MAX_BYTES`.

        A command may hold lone surrogates (``\\ud800``), which UTF-8 cannot encode: they are written
        backslash-escaped rather than failing the request.
        """
        path = self.server / AUDIT_FILE
        try:
            if path.stat().st_size >= AUDIT_LOG_MAX_BYTES:
                path.replace(path.with_name(AUDIT_FILE + ".1"))
        except FileNotFoundError:
            pass
        with path.open("a", encoding="utf-8", errors="backslashreplace") as audit:
            audit.write(line + "\n")

    def deploy(self, target: str, record: JobRecord, app_name: str, meta: dict[str, Any]) -> None:
        """Create the job's run folder on ``target``: its app as ``app_<target>``, ``fl_app.txt``, ``meta.json``."""
        folder = self.run_folder(target, record.job_id)
        if folder.exists():
            shutil.rmtree(folder)
        app_dir = folder / f"app_{target}"
        app_dir.mkdir(parents=True)
        prefix = f"{record.meta.get('job_folder_name', '')}/{app_name}/"
        for name, data in job_files(record.content).items():
            relative = name[len(prefix) :]
            if app_name and name.startswith(prefix) and ".." not in relative.split("/"):
                path = app_dir / relative.lstrip("/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        (folder / "fl_app.txt").write_text(app_name)
        (folder / "meta.json").write_text(json.dumps(meta, indent=4))
        (folder / LOG_FILE).write_text("")

    def remove_run_folder(self, target: str, job_id: str) -> None:
        """The server deletes a run folder once the job's workspace is saved to the job store."""
        shutil.rmtree(self.run_folder(target, job_id), ignore_errors=True)

    def unpack_download(self, job_id: str, data: bytes) -> Path:
        """Unzip a download (``<job_id>/job/...``, ``<job_id>/workspace/...``) into the server's ``transfer/``."""
        transfer = self.server / TRANSFER_DIR
        folder = transfer / job_id
        if folder.exists():
            shutil.rmtree(folder)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(transfer)
        folder.mkdir(parents=True, exist_ok=True)
        return folder


class _Spare:
    """A workspace layout under construction beside the live one, for ``root``."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        self.done = threading.Event()
        self.ok = False


def _move_aside(root: Path) -> Optional[Path]:
    """Rename ``root`` to a hidden sibling (one system call) and return it; None if there is nothing to move."""
    if not root.is_dir():
        return None
    trash = root.with_name(f".{root.name}.discarded-{uuid.uuid4().hex}")
    try:
        os.rename(root, trash)
    except OSError:
        return None  # reset() then removes it in place
    return trash


def deployed_meta(record: JobRecord, when: float) -> dict[str, Any]:
    """The meta a participant gets with the app: still SUBMITTED, with the attempt that scheduled it."""
    meta = dict(record.meta)
    meta["status"] = RunStatus.SUBMITTED.value
    meta["schedule_history"] = [*(meta.get("schedule_history") or []), f"{history_time(when)}: scheduled"]
    meta["schedule_count"] = schedule_count(meta) + 1
    meta["last_schedule_time"] = when
    return meta


class JobLogWriter:
    """Writes FLARE-like log lines for job events into the server's and the sites' ``log.txt``, and keeps the
    jobs' run folders: created when a job is deployed, removed from the server when it finishes."""

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces
        self._project = workspaces._project

    def attach(self, jobs: JobStore) -> None:
        jobs.on_transition.append(self.on_transition)
        jobs.on_round.append(self.on_round)

    def _identity(self, target: str) -> str:
        """The log identity: a site's name; for the server, the name in ``fed_server.json`` (the project's)."""
        return self._project.name if target == SERVER_TARGET else target

    def _line(self, when: float, identity: str, job_id: str, component: str, text: str, level: str = "INFO") -> str:
        return f"{log_time(when)} - {component} - {level} - [identity={identity}, run={job_id}]: {text}"

    def _write(self, target: str, when: float, job_id: str, component: str, text: str, level: str = "INFO") -> None:
        self.workspaces.append(target, self._line(when, self._identity(target), job_id, component, text, level), job_id)

    def _plain(self, target: str, when: float, component: str, text: str) -> None:
        """A line outside any job context: no ``[identity=..., run=...]`` part, as the parent processes log."""
        self.workspaces.append(target, f"{log_time(when)} - {component} - INFO - {text}")

    def server_started(self, when: float, sites: list[Any]) -> None:
        """The server parent's startup lines (at start, so they carry the start time), then the sites it has."""
        project = self._project
        self._plain(SERVER_TARGET, when, "Cell", f"server: creating listener on grpc://0:{project.fl_port}")
        self._plain(
            SERVER_TARGET, when, "Cell", f"server: created backbone external listener for grpc://0:{project.fl_port}"
        )
        text = f"Starting Admin Server {project.server_name} on Port {project.admin_port}"
        self._plain(SERVER_TARGET, when, "nvflare.fuel.hci.server.hci", text)
        self._plain(SERVER_TARGET, when, "root", "Server started")
        for number, site in enumerate(sites, 1):
            self._site_started(site.name, when)
            self.site_registered(site, when, number)

    def _site_started(self, name: str, when: float) -> None:
        """A site parent's first lines, before it registers: its cell connecting to the server's FL port."""
        project = self._project
        text = f"{name}: created backbone external connector to grpc://{project.server_name}:{project.fl_port}"
        self._plain(name, when, "Cell", text)
        listener = "{'secure': False, 'host': 'localhost'}"
        text = f"{participant_pid(name)}: Try start_listener Listener resources: {listener}"
        self._plain(name, when, "ConnectorManager", text)

    def site_registered(self, site: Any, when: float, total: int) -> None:
        """``ClientManager``'s line on the server (``total``: registered clients now) and ``FederatedClient``'s on
        the site, with the new token."""
        text = f"Client: New client {site.name}@127.0.0.1 joined. Sent token: {site.token}.  Total clients: {total}"
        self._plain(SERVER_TARGET, when, "ClientManager", text)
        text = f"Successfully registered client:{site.name} for project {self._project.name}. Token:{site.token}"
        text += f" SSID:{service_session_id(self._project)}"
        self._plain(site.name, when, "FederatedClient", text)

    def on_transition(self, record: JobRecord, old: RunStatus, new: RunStatus, when: float) -> None:
        job_id = record.job_id
        if new is RunStatus.DISPATCHED:
            self._deploy(record, when)
            self._job_runner_lines(record, when)
        elif new is RunStatus.RUNNING:
            failing = {failure.target for failure in record.load_failures}
            self._load_failure_lines(record, when)
            if SERVER_TARGET not in failing:
                self._write(SERVER_TARGET, when, job_id, "ServerRunner", "Server runner starting ...")
            for site in record.sites:
                if site not in failing:
                    self._write(site, when, job_id, "ClientRunner", "client runner started")
        elif new.finished:
            self._finish(record, old, new, when)

    def _job_runner_lines(self, record: JobRecord, when: float) -> None:
        """The server parent's ``JobRunner`` lines (``run=?``: outside the job) and each site's ``ClientEngine``."""
        job_id, sites = record.job_id, ",".join(record.sites)
        texts = [
            f"Got the job: {job_id} from the scheduler to run",
            f"Application {record.app_name} deployed to the server for job: {job_id}",
        ]
        by_app: dict[str, list[str]] = {}
        for site in record.sites:  # one line per app, as JobRunner deploys them
            by_app.setdefault(record.site_apps.get(site, ""), []).append(site)
        texts += [
            f"App {app} to be deployed to the clients: {','.join(names)} for run: {job_id}"
            for app, names in by_app.items()
        ]
        texts.append(f"Started run: {job_id} for clients: {sites}")
        for text in texts:
            self._write(SERVER_TARGET, when, "?", "JobRunner", text)
        for site in record.sites:
            self._plain(site, when, "ClientEngine", "Starting client app. rank: 0")

    def _deploy(self, record: JobRecord, when: float) -> None:
        meta = deployed_meta(record, when)
        self.workspaces.deploy(SERVER_TARGET, record, record.app_name, meta)
        for site in record.sites:
            self.workspaces.deploy(site, record, record.site_apps.get(site, ""), meta)

    def _load_failure_lines(self, record: JobRecord, when: float) -> None:
        """The job process log of each participant whose app does not load (its run folder only)."""
        for failure in record.load_failures:
            location = config_location(str(self.workspaces.target(failure.target)), record.job_id, failure)
            self._rows(failure.target, when, job_process_rows(failure, location), record.job_id, parent=False)

    def _rows(self, target: str, start: float, rows: list[Row], job_id: str = "", *, parent: bool = True) -> None:
        for offset, component, level, text in rows:
            line = f"{log_time(start + offset)} - {component} - {level} - {text}"
            self.workspaces.append(target, line, job_id, parent=parent)

    def _load_failure_end(self, record: JobRecord, new: RunStatus, when: float) -> None:
        """The server parent's lines when a run whose app did not load somewhere ends: the server's job process
        exiting, or the sites' dead-job reports while it ran; then, for a failed run, FLARE aborting it on the sites."""
        job_id, start = record.job_id, record.started_at if record.started_at is not None else when
        failed = new is RunStatus.FINISHED_EXECUTION_EXCEPTION
        if record.load_failures[0].on_server:
            if failed:
                text = f"Job: {job_id} child process exit with return code 103"
                self._rows(SERVER_TARGET, when, [(0.0, "ServerEngine", "INFO", text)])
        else:
            sites = [failure.target for failure in record.load_failures]
            self._rows(SERVER_TARGET, start, dead_job_rows(job_id, sites, when - start))
        if failed:
            self._write(SERVER_TARGET, when, "?", "JobRunner", f"Try to abort run ({job_id}) on clients.")

    def _save_site_models(self, record: JobRecord, rounds_done: int) -> None:
        """Each site's NPTrainer saves its trained model into its run folder after every round it trained."""
        failing = {failure.target for failure in record.load_failures}
        for site in (site for site in record.sites if site not in failing):
            path = trainer_model_path(record, site)
            folder = self.workspaces.run_folder(site, record.job_id)
            if path is None or not folder.is_dir() or ".." in path.split("/") or path.startswith("/"):
                continue
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(np_weights(rounds_done))

    def _finish(self, record: JobRecord, old: RunStatus, new: RunStatus, when: float) -> None:
        job_id = record.job_id
        if new is RunStatus.FINISHED_COMPLETED and record.round_times:
            self._save_site_models(record, len(record.round_times))
        if record.load_failures:
            self._load_failure_end(record, new, when)
        elif new is RunStatus.FINISHED_EXECUTION_EXCEPTION:
            text = f"Exception in workflow: {record.script.failure}"
            self._write(SERVER_TARGET, when, job_id, "ServerRunner", text, "ERROR")
        self._write(SERVER_TARGET, when, job_id, "ServerRunner", f"Server runner finished with status {new.value}")
        if old is RunStatus.RUNNING:
            failing = {failure.target for failure in record.load_failures}  # their job process is gone
            for site in (site for site in record.sites if site not in failing):
                self._write(site, when, job_id, "ClientRunner", "client runner finished")
        self.workspaces.remove_run_folder(SERVER_TARGET, job_id)

    def on_round(self, record: JobRecord, number: int, when: float) -> None:
        job_id = record.job_id
        rounds = record.script.rounds
        self._write(SERVER_TARGET, when, job_id, "ScatterAndGather", f"Round {number} started.")
        if number:
            self._save_site_models(record, number)  # the previous round's training is done
        failing = {failure.target for failure in record.load_failures}
        for site in (site for site in record.sites if site not in failing):
            self._write(site, when, job_id, "ClientRunner", f"Round {number}/{rounds}: got task assignment: name=train")
