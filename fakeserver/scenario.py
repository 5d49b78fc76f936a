"""The test author's handles on a running fake server: ``server.jobs``, ``server.sites``, ``server.sessions``.

Every call takes the server's state lock and first brings job timelines up to the clock's now, so a
test can script, step, connect and disconnect while sessions are talking to the server.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from .model.job_script import JobScript, RunStatus
from .model.jobs import JobRecord, JobStore
from .model.resources import SiteResources
from .model.sites import SiteState
from .model.state import ServerState


class Jobs:
    """Script jobs, step them without a clock, and inspect them."""

    def __init__(self, state: ServerState) -> None:
        self._state = state

    @contextmanager
    def _synced(self) -> Iterator[JobStore]:
        with self._state.lock:
            self._state.sync()
            yield self._state.jobs

    def script(self, script: JobScript, *, name: Optional[str] = None) -> None:
        """Use ``script`` for jobs named ``name`` (or, without a name, for every unscripted job)."""
        with self._state.lock:
            self._state.jobs.script(script, name=name)

    def script_next(self, script: JobScript, count: int = 1) -> None:
        """Use ``script`` for the next ``count`` submissions or clones."""
        with self._state.lock:
            self._state.jobs.script_next(script, count)

    @property
    def default_script(self) -> JobScript:
        return self._state.jobs.default_script

    def ids(self) -> list[str]:
        """Job ids in submission order."""
        with self._synced() as jobs:
            return [r.job_id for r in sorted(jobs, key=lambda r: r.seq)]

    def meta(self, job_id: str) -> dict[str, Any]:
        """A copy of the job's meta, as ``get_job_meta`` would return it (without counting a poll)."""
        with self._synced() as jobs:
            return copy.deepcopy(jobs.require(job_id).meta)

    def status(self, job_id: str) -> RunStatus:
        with self._synced() as jobs:
            return jobs.require(job_id).status

    def record(self, job_id: str) -> JobRecord:
        """The live record (read-only use: the server may change it while sessions are talking to it)."""
        with self._synced() as jobs:
            return jobs.require(job_id)

    def step(self, job_id: str) -> RunStatus:
        """Move the job to its next status now, whatever its script's timing."""
        with self._synced() as jobs:
            return jobs.step(job_id)

    def advance(self, job_id: str, to: Union[str, RunStatus, None] = None) -> RunStatus:
        """Step the job once (``to=None``) or until it has status ``to``; no clock involved."""
        return self.step(job_id) if to is None else self.advance_to(job_id, to)

    def advance_to(self, job_id: str, status: Union[str, RunStatus]) -> RunStatus:
        """Step the job until it has ``status`` (e.g. ``"RUNNING"``)."""
        with self._synced() as jobs:
            return jobs.advance_to(job_id, status).status

    def run_to_completion(self, job_id: Optional[str] = None) -> list[RunStatus]:
        """Finish one job, or every unfinished job, now; returns their final statuses."""
        with self._synced() as jobs:
            return jobs.run_to_completion(job_id)

    def orphan(self, job_id: str) -> None:
        """Make a RUNNING job lose its process: ``abort_job`` then answers ``Job <id> is not running.``"""
        with self._synced() as jobs:
            jobs.orphan(job_id)

    #: The keys FLARE's InfoCollector files errors under (one per log event type).
    ERROR_KEYS = ("error", "exception", "warning", "critical")

    def inject_error(
        self, job_id: str, text: str, *, target: str = "server", group: str = "general", key: str = "error"
    ) -> str:
        """Record an error a running job's component reported, as FLARE's InfoCollector does; returns the value.

        ``target`` is ``"server"`` or a site running the job; ``group`` is the reporting component (FLARE:
        the event origin, else ``"general"``); ``key`` one of :attr:`ERROR_KEYS`. A later error with the same
        group and key replaces the earlier one. ``show_errors <id> server`` shows the server's errors; FLARE
        2.3.12 sites never report theirs (they answer ``{}``), but ``reset_errors <id> client`` clears them.
        """
        from .model.jobs import SERVER_SITE, JobStoreError, history_time

        if key not in self.ERROR_KEYS:
            raise ValueError(f"key must be one of {', '.join(self.ERROR_KEYS)}, got {key!r}")
        with self._synced() as jobs:
            record = jobs.require(job_id)
            if record.status is not RunStatus.RUNNING or not record.in_runner:
                raise JobStoreError(f"job {job_id} is {record.status.value}, not running: it collects no errors")
            if target != SERVER_SITE and target not in record.sites:
                runs = ", ".join(record.sites) or "none"
                raise JobStoreError(f"site {target!r} does not run job {job_id} (its sites: {runs})")
            value = f"{history_time(self._state.clock.time())}: {text}"
            record.errors.setdefault(target, {}).setdefault(group, {})[key] = value
            return value

    def errors(self, job_id: str, target: str = "server") -> dict[str, dict[str, str]]:
        """A copy of the errors ``target`` holds for the job: group -> key -> ``"<time>: <text>"``."""
        with self._synced() as jobs:
            return copy.deepcopy(jobs.require(job_id).errors.get(target, {}))

    def __len__(self) -> int:
        with self._state.lock:
            return len(self._state.jobs)


class Sites:
    """Connect and disconnect the project's simulated client sites."""

    def __init__(self, state: ServerState) -> None:
        self._state = state

    def connect(self, *names: str) -> None:
        """Register sites now (all of the project's sites if no name is given)."""
        with self._state.lock:
            self._state.sync()
            for name in names or tuple(self._state.sites.names()):
                self._state.sites.connect(name)
            self._state.jobs.sites_changed()

    def disconnect(self, *names: str) -> None:
        """Unregister sites now (all if no name is given)."""
        with self._state.lock:
            self._state.sync()
            for name in names or tuple(self._state.sites.names()):
                self._state.sites.disconnect(name)
            self._state.jobs.sites_changed()

    def silence(self, *names: str) -> None:
        """Sites stay registered but stop answering (FLARE shows "No Reply"); dropped after the timeout."""
        with self._state.lock:
            self._state.sync()
            for name in names or tuple(site.name for site in self._state.sites.connected()):
                self._state.sites.silence(name)

    def connected(self) -> list[str]:
        """Registered sites (silent ones included), in registration order."""
        with self._state.lock:
            self._state.sync()
            return [site.name for site in self._state.sites.connected()]

    def last_connect_time(self, name: str) -> Optional[float]:
        """When the site last heartbeated (``check_status server``'s LAST CONNECT TIME); None if unregistered."""
        with self._state.lock:
            self._state.sync()
            return self._state.sites.last_connect_time(name)

    @property
    def heartbeat_timeout(self) -> float:
        """Seconds of silence after which the server drops a site (FLARE's ``heart_beat_timeout``)."""
        return self._state.sites.heartbeat_timeout

    def workspace(self, name: str = "server") -> Path:
        """The folder ``server`` or a site works in (what ``ls``/``cat``/``tail`` see)."""
        workspaces = self._state.workspaces
        if workspaces is None:
            raise RuntimeError("workspaces exist once the server has started")
        if name != "server":
            self._state.sites.get(name)
        return workspaces.target(name)

    def resources(self, name: str) -> dict[str, Any]:
        """The site's resource manager and its free units now (what running jobs hold is not free)."""
        with self._state.lock:
            self._state.sync()
            self._state.sites.get(name)
            pool = self._state.jobs.resources
            assert pool is not None
            spec = pool.spec(name)
            return {"manager": type(spec).__name__, **pool.report(name)}

    def set_resources(self, name: str, resources: SiteResources) -> None:
        """Give a site a new resource manager (``GPUResources`` or ``ListResources``), all units free."""
        with self._state.lock:
            self._state.sync()
            self._state.sites.get(name)
            pool = self._state.jobs.resources
            assert pool is not None
            pool.set_spec(name, resources)

    def get(self, name: str) -> SiteState:
        with self._state.lock:
            self._state.sync()
            return copy.copy(self._state.sites.get(name))


@dataclass(frozen=True)
class SessionInfo:
    """A copy of one admin session the server holds: who, its token, and how long it has been idle."""

    user_name: str
    org: Optional[str]
    role: Optional[str]
    token: str
    #: Server-clock seconds since the session's last request.
    idle: float


class Sessions:
    """The admin sessions the server holds (read-only)."""

    def __init__(self, state: ServerState) -> None:
        self._state = state

    def all(self) -> list[SessionInfo]:
        """The sessions not yet removed, oldest login first (expired ones are swept on the next request)."""
        now = self._state.clock.time()
        return [
            SessionInfo(s.user_name, s.org, s.role, s.token, now - s.last_active) for s in self._state.sessions.all()
        ]

    def __len__(self) -> int:
        return len(self._state.sessions)

    @property
    def idle_timeout(self) -> float:
        """Seconds of inactivity after which a session expires."""
        return self._state.sessions.idle_timeout
