"""The server's and the sites' workspace folders on disk, and the log lines running jobs write there.

Shell commands (``ls``, ``cat``, ``tail``, ``grep`` ...) read these folders, so a test can ``tail`` a
site's ``log.txt`` and see the rounds its job trained. Lines are written as the job timeline is
replayed, stamped with server-clock time.
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

from .job_script import RunStatus
from .jobs import JobRecord, JobStore
from .provision import Project

SERVER_TARGET = "server"


def log_time(epoch: float) -> str:
    """FLARE's log timestamp: ``2026-11-28 07:11:59,526``."""
    moment = datetime.datetime.fromtimestamp(epoch)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + f",{moment.microsecond // 1000:03d}"


class Workspaces:
    """``<root>/server`` and ``<root>/<site>`` folders shaped like FLARE workspaces."""

    def __init__(self, root: Path, project: Project) -> None:
        self.root = Path(root)
        self._project = project
        self.reset()

    def reset(self) -> None:
        """Recreate every folder with its stand-in files and an empty ``log.txt``."""
        if self.root.exists():
            shutil.rmtree(self.root)
        project = self._project
        self._lay_out(self.server, "fed_server.json", {"servers": [{"name": project.name, "admin_port": 0}]})
        for site in project.sites:
            self._lay_out(self.site(site.name), "fed_client.json", {"client": {"name": site.name, "org": site.org}})

    def _lay_out(self, folder: Path, startup_file: str, startup_config: dict) -> None:
        (folder / "startup").mkdir(parents=True)
        (folder / "local").mkdir()
        (folder / "startup" / startup_file).write_text(json.dumps({"format_version": 2, **startup_config}, indent=2))
        (folder / "startup" / "readme.txt").write_text("Stand-in startup folder of the fake FLARE federation.\n")
        resources = {"format_version": 2, "components": [{"id": "resource_manager", "args": {"num_of_gpus": 0}}]}
        (folder / "local" / "resources.json.default").write_text(json.dumps(resources, indent=2))
        (folder / "log.txt").write_text("")

    @property
    def server(self) -> Path:
        return self.root / SERVER_TARGET

    def site(self, name: str) -> Path:
        return self.root / name

    def target(self, name: str) -> Path:
        """The folder of ``server`` or of a site."""
        return self.server if name == SERVER_TARGET else self.site(name)

    def append(self, target: str, line: str) -> None:
        """Append one line to the target's ``log.txt``."""
        with (self.target(target) / "log.txt").open("a", encoding="utf-8") as log:
            log.write(line + "\n")


class JobLogWriter:
    """Writes FLARE-like log lines for job events into the server's and the sites' ``log.txt``."""

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces

    def attach(self, jobs: JobStore) -> None:
        jobs.on_transition.append(self.on_transition)
        jobs.on_round.append(self.on_round)

    def _line(self, when: float, identity: str, job_id: str, component: str, text: str, level: str = "INFO") -> str:
        return f"{log_time(when)} - {component} - {level} - [identity={identity}, run={job_id}]: {text}"

    def on_transition(self, record: JobRecord, old: RunStatus, new: RunStatus, when: float) -> None:
        job_id = record.job_id
        write = self.workspaces.append
        if new is RunStatus.DISPATCHED:
            write(SERVER_TARGET, self._line(when, SERVER_TARGET, job_id, "JobRunner", "job deployed"))
        elif new is RunStatus.RUNNING:
            write(SERVER_TARGET, self._line(when, SERVER_TARGET, job_id, "ServerRunner", "Server runner starting ..."))
            for site in record.sites:
                write(site, self._line(when, site, job_id, "ClientRunner", "client runner started"))
        elif new.finished:
            if new is RunStatus.FINISHED_EXECUTION_EXCEPTION:
                text = f"Exception in workflow: {record.script.failure}"
                write(SERVER_TARGET, self._line(when, SERVER_TARGET, job_id, "ServerRunner", text, "ERROR"))
            text = f"Server runner finished with status {new.value}"
            write(SERVER_TARGET, self._line(when, SERVER_TARGET, job_id, "ServerRunner", text))
            if old is RunStatus.RUNNING:
                for site in record.sites:
                    write(site, self._line(when, site, job_id, "ClientRunner", "client runner finished"))

    def on_round(self, record: JobRecord, number: int, when: float) -> None:
        job_id = record.job_id
        rounds = record.script.rounds
        text = f"Round {number} started."
        self.workspaces.append(SERVER_TARGET, self._line(when, SERVER_TARGET, job_id, "ScatterAndGather", text))
        for site in record.sites:
            line = f"Round {number}/{rounds}: got task assignment: name=train"
            self.workspaces.append(site, self._line(when, site, job_id, "ClientRunner", line))
