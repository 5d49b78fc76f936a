"""All mutable state of a fake server, behind one lock: sessions, jobs, sites, clock, audit, errors.

Connections carry no state; every handler reads and writes this object while holding ``lock``.
"""

from __future__ import annotations

import datetime
import random
import threading
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Optional

from flare_api.clock import Clock, RealClock, VirtualClock

from .app_commands import AppCommands
from .job_script import RunStatus
from .jobs import JobRecord, JobStore
from .policy import Policy
from .project import Project
from .reaper import REAPER
from .resources import ResourcePool
from .results import build_workspace
from .sessions import DEFAULT_IDLE_TIMEOUT, SessionStore
from .sites import DEFAULT_HEARTBEAT_INTERVAL, SiteRegistry
from .transfers import TransferStore
from .workspaces import SERVER_TARGET, JobLogWriter, Workspaces, log_time

_DISPATCHED = RunStatus.DISPATCHED

#: At most this many unexpected errors are kept (the oldest are dropped; ``errors_dropped`` counts them).
MAX_ERROR_RECORDS = 100
#: A kept error's request line and traceback text are cut to these many characters.
ERROR_COMMAND_CHARS = 1_000
ERROR_TRACEBACK_CHARS = 20_000


def _truncated(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


def _drop_tracebacks(exc: BaseException) -> None:
    """Forget the frames of ``exc`` and its chain: they hold every local of the failed request."""
    seen: set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__


@dataclass(frozen=True)
class ServerErrorRecord:
    """An unexpected exception raised while serving a request: a bug in the fake, never swallowed.

    The request line and traceback text are truncated and the exception keeps no frames, so a record
    stays small whatever the request held.
    """

    command: str
    exception: BaseException
    traceback: str

    def __str__(self) -> str:
        return f"while handling {self.command!r}: {type(self.exception).__name__}: {self.exception}\n{self.traceback}"


AUDIT_RECORDS = 10_000
#: Command lines FLARE's ``Auditor.add_event`` leaves out (compared with the whole, cut line).
AUDIT_EXCLUDED_ACTIONS = frozenset({"scheduler.check_resource", "_check_session", "_commands", "__aux_command__"})
#: FLARE's audit filter keeps at most this many characters of the command line.
AUDIT_ACTION_CHARS = 100
#: The user name of a command without a session (``_cert_login``, ``_login``): FLARE's ``?``.
AUDIT_NO_USER = "?"


@dataclass(frozen=True)
class AuditRecord:
    """One command that passed the session and authorization checks (a line of the server's ``audit.log``)."""

    time: float
    user: str
    command: str
    event_id: str = ""

    def line(self) -> str:
        """FLARE's ``CommandAudit`` line: ``[E:<uuid>][T:<str(datetime.now())>][U:<user>][A:<command>]``."""
        when = datetime.datetime.fromtimestamp(self.time)
        return f"[E:{self.event_id}][T:{when}][U:{self.user}][A:{self.command}]"


#: The traceback a real 2.3.12 server logs when ``resource_spec`` omits a site that passed the check.
SCHEDULER_KEYERROR_TRACE = """Traceback (most recent call last):
  File "{nvflare}/app_common/job_schedulers/job_scheduler.py", line 253, in schedule_job
    ready_job, dispatch_info = self._do_schedule_job(job_candidates, fl_ctx, failed_jobs, blocked_jobs)
  File "{nvflare}/app_common/job_schedulers/job_scheduler.py", line 325, in _do_schedule_job
    rc, sites_dispatch_info, result = self._try_job(job, ctx)
  File "{nvflare}/app_common/job_schedulers/job_scheduler.py", line 191, in _try_job
    self._cancel_resources(
  File "{nvflare}/app_common/job_schedulers/job_scheduler.py", line 96, in _cancel_resources
    engine.cancel_client_resources(resource_check_results, resource_reqs)
  File "{nvflare}/private/fed/server/server_engine.py", line 774, in cancel_client_resources
    resource_requirements = resource_reqs[site_name]
KeyError: '{site}'
""".replace("{nvflare}", "/usr/local/lib/python3.10/site-packages/nvflare")


@dataclass
class ServerConfig:
    """Knobs a test may turn; ``reset()`` keeps them."""

    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    seed: int = 0
    #: False: plain TCP and ``_login admin admin`` (FLARE's POC mode).
    secure: bool = True
    #: Whether the project's sites are registered when the server starts (and after ``reset()``).
    connect_sites: bool = True
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    #: The scheduler's concurrent-job limit (provisioned FLARE default: 4).
    max_jobs: int = 4
    #: Above this size a download answers with a URL instead (FLARE: 50*1024*1024*1204 bytes).
    max_download_bytes: int = 50 * 1024 * 1024 * 1204
    download_job_url: str = "http://download.server.com/"
    #: FLARE's admin→client request timeout, changed by ``set_timeout``.
    admin_timeout: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)


class ServerState:
    """The fake federation's state. Create one per server; ``reset()`` returns it to a fresh start."""

    def __init__(
        self,
        project: Project,
        policy: Policy,
        *,
        clock: Optional[Clock] = None,
        config: Optional[ServerConfig] = None,
    ) -> None:
        self.lock = threading.RLock()
        self.project = project
        self.policy = policy
        self.clock: Clock = clock if clock is not None else RealClock()
        self.config = config if config is not None else ServerConfig()
        self.rng = random.Random(self.config.seed)
        # Tokens have their own seeded source that reset() does not rewind: job ids repeat after a reset (so a
        # test sees the same ids), but a token must never be issued twice, or an old client would act as a new one.
        tokens = random.Random(f"flare-harness tokens {self.config.seed}")
        self.sessions = SessionStore(self.clock, tokens, self.config.idle_timeout)
        self.sites = SiteRegistry(
            project,
            self.clock,
            self.rng,
            connect_all=self.config.connect_sites,
            heartbeat_interval=self.config.heartbeat_interval,
        )
        self.jobs = JobStore(
            self.clock, self.rng, lambda: [site.name for site in self.sites.connected()], max_jobs=self.config.max_jobs
        )
        self.jobs.on_finish.append(self._save_workspace)
        self.jobs.resources = ResourcePool({s.name: s.resources for s in project.sites if s.resources is not None})
        self.jobs.on_schedule.append(self._log_schedule)
        self.jobs.on_fault.append(lambda record, exc: self.record_error(f"<replay of job {record.job_id}>", exc))
        #: FLARE 2.4+ downloads opened by ``download_job`` and not yet ended by the client.
        self.transfers = TransferStore()
        self.workspaces: Optional[Workspaces] = None
        self.app_commands = AppCommands()
        self._log_writer: Optional[JobLogWriter] = None
        #: Set by ``shutdown server|all``: the server behaves as gone (connections cut) until ``reset()``.
        self.gone = False
        self.start_time = self.clock.time()
        #: The latest commands that passed authorization (FLARE's audit log), oldest first; bounded so a
        #: long-running server (``flare-harness serve``, load tests) does not grow without end.
        self.audit: deque[AuditRecord] = deque(maxlen=AUDIT_RECORDS)
        #: Unexpected errors, oldest first: the latest :data:`MAX_ERROR_RECORDS` of them.
        self.errors: deque[ServerErrorRecord] = deque(maxlen=MAX_ERROR_RECORDS)
        #: How many errors were dropped from ``errors`` to keep it bounded (since the last ``reset()``).
        self.errors_dropped = 0
        #: ``set_timeout`` changes ``config.admin_timeout``; a restart or ``reset()`` brings this back.
        self._default_admin_timeout = self.config.admin_timeout

    @property
    def server_org(self) -> str:
        """The org the server belongs to: ``o:site`` conditions compare against it."""
        return self.project.server_org

    def sync(self) -> None:
        """Bring sites and job timelines up to the clock's now (call with the lock held)."""
        if self.sites.sync():
            self.jobs.sites_changed()
        self.jobs.sync()

    def attach_workspaces(self, workspaces: Workspaces) -> None:
        """Give the federation folders on disk; job events are logged into them from now on."""
        self.workspaces = workspaces
        writer = self._log_writer = JobLogWriter(workspaces)
        writer.attach(self.jobs)
        writer.server_started(self.clock.time(), self.sites.connected())
        self.sites.on_connect.append(lambda site, when: writer.site_registered(site, when, len(self.sites.connected())))

    def running_jobs(self) -> list[tuple[str, str]]:
        """``(job_id, app_name)`` of each job with a run process (FLARE lists DISPATCHED ones too)."""
        return [(r.job_id, r.app_name) for r in self.jobs.with_process()]

    def client_job_rows(self, site_name: str) -> list[list[str]]:
        """``[site, app, job_id, status]`` rows of the jobs a site runs, for ``check_status client``.

        A 2.3.12 site asks the job's own process, whose client says ``starting`` until it has synced with its
        parent and ``started`` after: ``starting`` while the job is DISPATCHED, ``started`` once it runs.
        """
        return [
            [site_name, r.site_apps.get(site_name, "?"), r.job_id, "starting" if r.status is _DISPATCHED else "started"]
            for r in self.jobs.with_process()
            if site_name in r.sites
        ]

    def set_admin_timeout(self, seconds: float) -> None:
        """``set_timeout``: the server's admin→site request timeout, until a restart or ``reset()``."""
        self.config.admin_timeout = seconds

    def restart(self) -> None:
        """A new server process: start time, no sessions, unfinished jobs abandoned, sites registering again."""
        for site in self.sites.connected():
            self.sites.remove(site.name)
        self.sessions.clear()
        self.jobs.abandon_unfinished()
        self.start_time = self.clock.time()
        self.config.admin_timeout = self._default_admin_timeout

    def _log_schedule(self, record: JobRecord, result: Optional[str], when: float) -> None:
        """The server log lines of FLARE 2.3.12's scheduler for one attempt (``result`` None: it raised)."""
        if self.workspaces is None:
            return
        level = "INFO" if result is not None else "ERROR"
        head = f"{log_time(when)} - DefaultJobScheduler - {level} - "
        ident = f"[identity={self.project.name}, run=?]: "
        if result is not None:
            text = f"Try to schedule job {record.job_id}, get result: ({result})."
            self.workspaces.append(SERVER_TARGET, head + ident + text)
            return
        self.workspaces.append(SERVER_TARGET, f"{head}{ident}error scheduling job")
        self.workspaces.append(SERVER_TARGET, head + SCHEDULER_KEYERROR_TRACE.format(site=self.jobs.crash_site))

    @staticmethod
    def _save_workspace(record: JobRecord) -> None:
        record.workspace = build_workspace(record)

    def record_error(self, command: str, exc: BaseException) -> None:
        """Keep a bounded record of an unexpected exception (see :data:`MAX_ERROR_RECORDS`)."""
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        _drop_tracebacks(exc)
        record = ServerErrorRecord(
            _truncated(command, ERROR_COMMAND_CHARS), exc, _truncated(trace, ERROR_TRACEBACK_CHARS)
        )
        with self.lock:
            if len(self.errors) == self.errors.maxlen:
                self.errors_dropped += 1
            self.errors.append(record)

    def record_audit(self, user: str, command: str) -> None:
        """FLARE's audit filter: one ``audit.log`` line (and ``audit`` record) unless the action is excluded."""
        action = command[:AUDIT_ACTION_CHARS]
        if action in AUDIT_EXCLUDED_ACTIONS:
            return
        event_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        record = AuditRecord(self.clock.time(), user, action, event_id)
        self.audit.append(record)
        if self.workspaces is not None:
            self.workspaces.write_audit(record.line())

    def reset(self) -> None:
        """Forget sessions, jobs, sites, audit and errors; rewind a virtual clock; reseed ids.

        Fresh containers are swapped in and the old ones (jobs, audit, the old workspace folders) handed to
        the reaper thread, so the cost does not grow with history; the workspace's spare layout is renamed in.
        """
        with self.lock:
            if isinstance(self.clock, VirtualClock):
                self.clock.reset()
            self.rng.seed(self.config.seed)
            self.sessions.clear()
            self.transfers.clear()
            self.sessions.idle_timeout = self.config.idle_timeout
            self.start_time = self.clock.time()
            self.sites.reset()
            self.app_commands.clear()
            trash = self.workspaces.renew() if self.workspaces is not None else None
            old_audit, self.audit = self.audit, deque(maxlen=AUDIT_RECORDS)
            old_errors, self.errors = self.errors, deque(maxlen=MAX_ERROR_RECORDS)
            batch: list[object] = [*self.jobs.reset(), old_audit, old_errors]
            if trash is not None:
                batch.append(trash)
            del old_audit, old_errors, trash
            REAPER.discard(batch)  # no local keeps the old containers: the reaper frees them
            if self.workspaces is not None and self._log_writer is not None:
                self._log_writer.server_started(self.start_time, self.sites.connected())
            self.errors_dropped = 0
            self.gone = False
            self.config.admin_timeout = self._default_admin_timeout
