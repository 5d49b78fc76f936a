"""The fake FLARE admin server's facade: lifecycle, startup kits, sessions, handles for tests, faults, errors.

Serving is delegated: :class:`~fakeserver.serving.listener.Listener` accepts TLS connections and
:class:`~fakeserver.serving.respond.Responder` turns each request into its reply bytes, for the
listener and the in-process transport alike.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Callable, Optional, Union

from flare_api import intercept as client_intercept
from flare_api.clock import Clock
from flare_api.wire import DEFAULT_MAX_BYTES

from .commands import build_registry
from .model.job_script import JobScript
from .model.policy import DEFAULT_POLICY, Policy
from .model.sessions import DEFAULT_IDLE_TIMEOUT
from .model.state import AuditRecord, ServerConfig, ServerErrorRecord, ServerState
from .model.workspaces import Workspaces, log_config_26
from .pipeline.dispatch import Dispatcher, PeerIdentity
from .poc_kit import write_poc_admin_kit
from .protocol.versions import DEFAULT_VERSION, FlareVersion
from .provision import DEFAULT_PROJECT, Project, ProvisionedProject, provision
from .scenario import Jobs, Sessions, Sites
from .serving.calls import DEFAULT_CAPACITY, CallLog
from .serving.faults import Fault, FaultKind, FaultPlan, parse_kind
from .serving.in_process import InProcessTransport
from .serving.listener import Listener
from .serving.respond import Responder
from .serving.stats import ConnectionStats

if TYPE_CHECKING:
    from flare_api import Session

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["CallLog", "ConnectionStats", "FakeFlareServer", "FakeServerError", "ServerNotRunning"]


class ServerNotRunning(RuntimeError):
    """The operation needs a started server."""


class FakeServerError(AssertionError):
    """Unexpected exceptions were raised inside the fake server while serving requests."""


class FakeFlareServer:
    """An in-process FLARE 2.3 admin server for tests. Use as a context manager or call start()/stop().

    ``workspace=None`` provisions into a temporary folder removed at ``stop()``; give a folder to keep
    the startup kits. ``clock`` may be a shared :class:`~flare_api.clock.VirtualClock`.

    ``intercept=True`` (the default): while running, sessions opened from this server's kits with
    ``flare_api.new_secure_session``/``new_insecure_session`` and no explicit ``transport`` talk to it
    in-process on its clock, wherever in the code under test they are opened (see
    :mod:`flare_api.intercept`). ``calls_capacity`` bounds :attr:`calls`.

    Connections: ``handshake_timeout`` (from accept) and ``first_byte_timeout`` (after the handshake) bound
    a connection that has not begun its request; at most ``max_pending`` such connections wait (the oldest is
    cut), and only begun requests take one of ``max_connections`` workers (see ``docs/robustness.md``).
    """

    def __init__(
        self,
        project: Project = DEFAULT_PROJECT,
        workspace: Optional[PathLike] = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secure: bool = True,
        clock: Optional[Clock] = None,
        seed: int = 0,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        connect_sites: bool = True,
        default_script: Optional[JobScript] = None,
        max_jobs: int = 4,
        policy: Optional[dict] = None,
        provisioned: Optional[ProvisionedProject] = None,
        request_timeout: float = 30.0,
        handshake_timeout: float = 10.0,
        max_request_bytes: int = DEFAULT_MAX_BYTES,
        max_connections: int = 64,
        first_byte_timeout: Optional[float] = None,
        max_pending: Optional[int] = None,
        intercept: bool = True,
        calls_capacity: int = DEFAULT_CAPACITY,
        flare_version: Union[str, FlareVersion] = DEFAULT_VERSION,
    ) -> None:
        if request_timeout <= 0 or handshake_timeout <= 0:
            raise ValueError("request_timeout and handshake_timeout must be positive")
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections!r}")
        if provisioned is not None and provisioned.project != project and project is not DEFAULT_PROJECT:
            raise ValueError("pass either a project or an already provisioned project, not two different ones")
        self.project = provisioned.project if provisioned is not None else project
        self.host = host
        self._requested_port = port
        self.secure = secure
        self.request_timeout = request_timeout
        self.handshake_timeout = handshake_timeout
        self.max_request_bytes = max_request_bytes
        self._workspace_arg = workspace
        self._temp_workspace: Optional[str] = None
        self._provisioned = provisioned
        config = ServerConfig(
            idle_timeout=idle_timeout, seed=seed, secure=secure, connect_sites=connect_sites, max_jobs=max_jobs
        )
        self._state = ServerState(self.project, Policy(policy or DEFAULT_POLICY), clock=clock, config=config)
        if default_script is not None:
            self._state.jobs.base_script = self._state.jobs.default_script = default_script
        #: The FLARE series this server emulates (``flare_version="2.3" | "2.4" | "2.5" | "2.6"``).
        self.flare_version = FlareVersion.parse(flare_version)
        self._registry = build_registry(self.flare_version)
        self._dispatcher = Dispatcher(self._registry, self._state)
        #: The armed faults (``inject_fault`` adds to them; ``faults.fired`` lists those that fired).
        self.faults = FaultPlan()
        #: Script, step and inspect jobs (see :class:`fakeserver.scenario.Jobs`).
        self.jobs = Jobs(self._state)
        #: Connect and disconnect the simulated client sites.
        self.sites = Sites(self._state)
        #: FLARE 2.5+ ``app_command`` functions by topic (``register(topic, fn(job_id, cmd_data) -> dict)``).
        self.app_commands = self._state.app_commands
        #: The admin sessions the server holds (read-only).
        self.sessions = Sessions(self._state)
        #: Counters of connections and requests (TLS and in-process).
        self.stats = ConnectionStats()
        #: Every request answered, in order (TLS and in-process); cleared by ``reset()``.
        self.calls = CallLog(calls_capacity)
        self._responder = Responder(
            self._state,
            self._dispatcher,
            self.faults,
            self.stats,
            max_request_bytes=max_request_bytes,
            calls=self.calls,
            network="tls" if secure else "tcp",
        )
        self._listener = Listener(
            self._responder,
            self.stats,
            request_timeout=request_timeout,
            handshake_timeout=handshake_timeout,
            max_connections=max_connections,
            first_byte_timeout=first_byte_timeout,
            max_pending=max_pending,
        )
        self._address: Optional[tuple[str, int]] = None
        self._poc_kit: Optional[Path] = None
        self._intercept = intercept

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> FakeFlareServer:
        """Provision (if needed), bind, point the startup kits at the bound port and start serving."""
        if self._listener.running:
            raise RuntimeError("server already started")
        ssl_context = self._ensure_provisioned().server_ssl_context() if self.secure else None
        runtime = self._workspace_path() / "runtime"
        if self._state.workspaces is None:
            log_config = log_config_26() if self.flare_version >= FlareVersion.V2_6 else None
            self._state.attach_workspaces(Workspaces(runtime, self.project, log_config=log_config))
        elif not self._state.workspaces.root.exists():  # stop() removed the temporary workspace it ran in
            with self._state.lock:
                self._state.workspaces.relocate(runtime)
        self._state.start_time = self._state.clock.time()
        self._responder.open()
        try:
            self._address = self._listener.start(self.host, self._requested_port, ssl_context)
            if self.secure:
                self.provisioned.set_endpoint(self.host, self._address[1])
            else:
                self._poc_kit = write_poc_admin_kit(self._workspace_path() / "admin", self.host, self._address[1])
        except BaseException:
            self._responder.close()
            self._listener.stop(5.0)
            raise
        if self._intercept:
            client_intercept.register(self._route)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut open connections, and join every thread for at most ``timeout`` seconds."""
        if not self._listener.running:
            return
        client_intercept.unregister(self._route)
        self._responder.close()
        self._listener.stop(timeout)
        if self._state.workspaces is not None:
            self._state.workspaces.close()  # its spare layout is never left behind
        if self._temp_workspace is not None:
            shutil.rmtree(self._temp_workspace, ignore_errors=True)
            self._temp_workspace = None
            self._provisioned = None
            self._poc_kit = None

    def __enter__(self) -> FakeFlareServer:
        return self.start()

    def __exit__(self, exc_type: Optional[type], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a fresh server without restarting the listener: sessions, jobs, sites, faults, clock,
        connection statistics, call log."""
        self.faults.reset()
        self.calls.clear()
        self._state.reset()
        self._listener.reset()

    # ----------------------------------------------------------------------------- accessors
    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the server listens on."""
        if self._address is None:
            raise ServerNotRunning("the server has not been started; call start() or use it as a context manager")
        return self._address

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def running(self) -> bool:
        return self._listener.running

    @property
    def shut_down(self) -> bool:
        """True after an admin's ``shutdown`` command ended the server (until ``reset()`` or a restart)."""
        with self._state.lock:
            return self._state.gone

    @property
    def intercept(self) -> bool:
        """Whether sessions opened from this server's kits without a transport come here in-process."""
        return self._intercept

    @intercept.setter
    def intercept(self, enabled: bool) -> None:
        self._intercept = bool(enabled)
        if self._intercept and self.running:
            client_intercept.register(self._route)
        else:
            client_intercept.unregister(self._route)

    @property
    def clock(self) -> Clock:
        return self._state.clock

    @property
    def provisioned(self) -> ProvisionedProject:
        if self._provisioned is None:
            raise ServerNotRunning("nothing provisioned yet; call start() first")
        return self._provisioned

    @property
    def start_time(self) -> float:
        """When the server (re)started, on its clock: ``check_status``'s ``server_start_time``."""
        with self._state.lock:
            return self._state.start_time

    @property
    def audit(self) -> list[AuditRecord]:
        """The commands that passed the session and authorization checks (FLARE's audit log), oldest first."""
        with self._state.lock:
            return list(self._state.audit)

    @property
    def admin_timeout(self) -> float:
        """FLARE's admin→client request timeout in seconds, as ``set_timeout`` left it."""
        with self._state.lock:
            return self._state.config.admin_timeout

    @property
    def policy(self) -> Policy:
        """The authorization policy commands are checked against."""
        return self._state.policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        with self._state.lock:
            self._state.policy = policy

    @property
    def handshake_errors(self) -> list[str]:
        """Why TLS handshakes failed (most recent last), e.g. a client without a certificate."""
        return self._listener.handshake_errors

    def startup_kit(self, user: str = "admin@nvidia.com") -> Path:
        """The admin startup kit folder of ``user`` (pass it to ``new_secure_session``).

        In POC mode (``secure=False``) there is one kit, for FLARE's fixed user ``admin``.
        """
        if not self.secure:
            if self._poc_kit is None:
                raise ServerNotRunning("the POC kit is written at start(); start the server first")
            return self._poc_kit
        return self.provisioned.kit(user)

    def in_process_transport(
        self, user: Optional[str] = "admin@nvidia.com", timeout: float = 10.0
    ) -> InProcessTransport:
        """A socket-free transport to this server, presenting ``user``'s identity (see ``session``)."""
        peer: Optional[PeerIdentity] = None
        if user is not None and self.secure:
            admin = self.project.admin(user)
            peer = PeerIdentity(admin.name, admin.org, admin.role)
        return InProcessTransport(self._responder, self.address, peer, timeout=timeout)

    def session(
        self,
        user: str = "admin@nvidia.com",
        *,
        in_process: bool = False,
        clock: Optional[Clock] = None,
        timeout: float = 10.0,
    ) -> Session:
        """A logged-in :class:`flare_api.Session` for ``user`` on this server's clock.

        ``in_process=True`` skips TCP and TLS (same protocol bytes otherwise): fast, for monitor loops;
        ``in_process=False`` goes over the network even while :attr:`intercept` is on.
        ``timeout`` bounds the login and each request.
        """
        from flare_api import new_insecure_session, new_secure_session

        clock = clock if clock is not None else self.clock
        kit = self.startup_kit(user) if self.secure else self.startup_kit()
        transport = (
            self.in_process_transport(user, timeout)
            if in_process
            else client_intercept.network_transport(kit, secure=self.secure, timeout=timeout)
        )
        if not self.secure:
            return new_insecure_session(
                self.startup_kit(), timeout=timeout, request_timeout=timeout, clock=clock, transport=transport
            )
        return new_secure_session(
            user, self.startup_kit(user), timeout=timeout, request_timeout=timeout, clock=clock, transport=transport
        )

    @property
    def errors(self) -> list[ServerErrorRecord]:
        """Unexpected exceptions raised while serving (bugs in the fake), oldest first."""
        with self._state.lock:
            return list(self._state.errors)

    @property
    def errors_dropped(self) -> int:
        """How many of the oldest error records were dropped to keep ``errors`` bounded."""
        with self._state.lock:
            return self._state.errors_dropped

    def raise_errors(self) -> None:
        """Raise :class:`FakeServerError` describing every recorded unexpected error, then forget them."""
        with self._state.lock:
            errors = list(self._state.errors)
            self._state.errors.clear()
        if errors:
            details = "\n".join(str(e) for e in errors)
            raise FakeServerError(f"{len(errors)} unexpected error(s) in the fake FLARE server:\n{details}")

    def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait (on an event, not by polling) until ``condition()`` holds after some connection finished.

        For tests that check server-side effects the client cannot order itself after, e.g. a TLS
        handshake the server rejects after the client already gave up. Returns ``condition()``.
        """
        return self._listener.wait_until(condition, timeout)

    def inject_fault(
        self,
        kind: Union[FaultKind, str],
        *,
        command: Optional[str] = None,
        times: int = 1,
        seconds: float = 0.0,
    ) -> Fault:
        """Arm a fault for the next ``times`` requests (see :class:`~fakeserver.serving.faults.FaultKind`)."""
        return self.faults.inject(kind, command=command, times=times, seconds=seconds)

    @contextmanager
    def fault(
        self,
        kind: Union[FaultKind, str],
        *,
        command: Optional[str] = None,
        times: int = 1,
        seconds: float = 0.0,
        forever: bool = False,
    ) -> Iterator[Fault]:
        """Arm a fault inside the ``with`` block and disarm it on exit (used up or not); yields the fault.

        ``command`` must name a command this server knows; ``times`` (at least 1) is how many matching
        requests it answers, or ``forever=True`` for every one. ``fault.hits`` counts them.
        """
        kind = parse_kind(kind)
        if command is not None:
            self._check_command(command)
        if forever:
            times = -1
        elif isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be an int of at least 1, got {times!r} (pass forever=True for every request)")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a number of seconds, not negative, got {seconds!r}")
        armed = self.faults.inject(kind, command=command, times=times, seconds=seconds)
        try:
            yield armed
        finally:
            self.faults.disarm(armed)

    def _check_command(self, command: str) -> None:
        """ValueError unless ``command`` (bare or scoped) names a registered command; suggests close names."""
        if not isinstance(command, str) or not command:
            raise ValueError(f"command must be a command name, got {command!r}")
        if self._registry.lookup(command):
            return
        names = sorted({n for spec in self._registry.specs() for n in (spec.name, spec.full_name)})
        close = difflib.get_close_matches(command, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown command {command!r}: the fake FLARE server has no such command{hint}")

    def _route(self, kit_path: Path, timeout: float) -> Optional[client_intercept.Route]:
        """The interception resolver: this server's in-process transport and clock for its own kits."""
        if not self._intercept or not self.running:
            return None
        if not self.secure:
            if self._poc_kit is not None and kit_path == self._poc_kit.resolve():
                return client_intercept.Route(self.in_process_transport(None, timeout), self.clock)
            return None
        if self._provisioned is None:
            return None
        for user, path in self._provisioned.kits.items():
            if kit_path == Path(path).resolve():
                return client_intercept.Route(self.in_process_transport(user, timeout), self.clock)
        return None

    # ----------------------------------------------------------------------------- internals
    def _workspace_path(self) -> Path:
        if self._workspace_arg is not None:
            return Path(self._workspace_arg)
        if self._temp_workspace is None:
            self._temp_workspace = tempfile.mkdtemp(prefix="fakeflare-")
        return Path(self._temp_workspace)

    def _ensure_provisioned(self) -> ProvisionedProject:
        if self._provisioned is None:
            self._provisioned = provision(self.project, self._workspace_path())
        return self._provisioned
