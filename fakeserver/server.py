"""The fake FLARE admin server: a TLS listener that answers one request per connection.

Each accepted connection gets a thread: TLS handshake (client certificate required), read one
framed request, dispatch it, write one framed reply, close. Every socket operation has a timeout.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Callable, Optional, Union

from flare_api.clock import Clock
from flare_api.wire import (
    DEFAULT_MAX_BYTES,
    Document,
    FrameTimeout,
    FrameTooLarge,
    FramingError,
    ItemType,
    StreamClosed,
    encode_stream,
    join_request_text,
    parse_document,
    read_stream,
    send_stream,
    split_command_line,
)

from .commands import build_registry
from .model.job_script import JobScript
from .model.policy import DEFAULT_POLICY, Policy
from .model.sessions import DEFAULT_IDLE_TIMEOUT
from .model.state import ServerConfig, ServerErrorRecord, ServerState
from .model.workspaces import Workspaces
from .pipeline.dispatch import Dispatcher, PeerIdentity
from .pipeline.reply import Reply
from .poc_kit import write_poc_admin_kit
from .protocol import messages as msg
from .provision import DEFAULT_PROJECT, Project, ProvisionedProject, provision
from .scenario import Jobs, Sites
from .serving.faults import Fault, FaultKind, FaultPlan
from .serving.in_process import InProcessTransport

if TYPE_CHECKING:
    from flare_api import Session

PathLike = Union[str, "os.PathLike[str]"]


class ServerNotRunning(RuntimeError):
    """The operation needs a started server."""


class FakeServerError(AssertionError):
    """Unexpected exceptions were raised inside the fake server while serving requests."""


@dataclass
class ConnectionStats:
    """Counters of what happened on the listener, for tests and benchmarks."""

    accepted: int = 0
    requests: int = 0
    handshake_failures: int = 0
    read_failures: int = 0
    faults_fired: int = 0


class FakeFlareServer:
    """An in-process FLARE 2.3 admin server for tests. Use as a context manager or call start()/stop().

    ``workspace=None`` provisions into a temporary folder removed at ``stop()``; give a folder to keep
    the startup kits. ``clock`` may be a shared :class:`~flare_api.clock.VirtualClock`.
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
        self.state = ServerState(self.project, Policy(policy or DEFAULT_POLICY), clock=clock, config=config)
        if default_script is not None:
            self.state.jobs.base_script = self.state.jobs.default_script = default_script
        self.registry = build_registry()
        self.dispatcher = Dispatcher(self.registry, self.state)
        self.faults = FaultPlan()
        #: Script, step and inspect jobs (see :class:`fakeserver.scenario.Jobs`).
        self.jobs = Jobs(self.state)
        #: Connect and disconnect the simulated client sites.
        self.sites = Sites(self.state)
        self.stats = ConnectionStats()
        self._ssl_context: Optional[ssl.SSLContext] = None
        self._listener: Optional[socket.socket] = None
        self._accept_thread: Optional[threading.Thread] = None
        self._wake_r: Optional[socket.socket] = None
        self._wake_w: Optional[socket.socket] = None
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._conn_lock = threading.Lock()
        self._conn_threads: set[threading.Thread] = set()
        self._conn_sockets: set[socket.socket] = set()
        self._address: Optional[tuple[str, int]] = None
        self._poc_kit: Optional[Path] = None
        #: Why TLS handshakes failed (most recent last), e.g. a client without a certificate.
        self.handshake_errors: list[str] = []
        #: Notified whenever a connection finishes (served, refused or failed): see ``wait_until``.
        self._changed = threading.Condition()

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> FakeFlareServer:
        """Provision (if needed), bind, point the startup kits at the bound port and start serving."""
        if self._accept_thread is not None:
            raise RuntimeError("server already started")
        self._stopping.clear()
        if self.secure:
            self._ssl_context = self._ensure_provisioned().server_ssl_context()
        if self.state.workspaces is None:
            self.state.attach_workspaces(Workspaces(self._workspace_path() / "runtime", self.project))
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self._requested_port))
            listener.listen(128)
        except OSError:
            listener.close()
            raise
        listener.setblocking(False)
        self._listener = listener
        self._address = (self.host, listener.getsockname()[1])
        if self.secure:
            self.provisioned.set_endpoint(self.host, self._address[1])
        else:
            self._poc_kit = write_poc_admin_kit(self._workspace_path() / "admin", self.host, self._address[1])
        self._wake_r, self._wake_w = socket.socketpair()
        self.state.start_time = self.state.clock.time()
        self._accept_thread = threading.Thread(target=self._accept_loop, name="fakeflare-accept", daemon=True)
        self._accept_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut open connections, and join every thread for at most ``timeout`` seconds."""
        if self._accept_thread is None:
            return
        self._stopping.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        self._accept_thread.join(timeout)
        with self._conn_lock:
            sockets = list(self._conn_sockets)
            threads = list(self._conn_threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)
        for closing in (self._listener, self._wake_r, self._wake_w):
            if closing is not None:
                closing.close()
        self._listener = self._wake_r = self._wake_w = None
        self._accept_thread = None
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
        connection statistics."""
        self.faults.reset()
        self.state.reset()
        with self._changed:
            self.stats = ConnectionStats()
            self.handshake_errors.clear()

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
        return self._accept_thread is not None and not self._stopping.is_set()

    @property
    def clock(self) -> Clock:
        return self.state.clock

    @property
    def provisioned(self) -> ProvisionedProject:
        if self._provisioned is None:
            raise ServerNotRunning("nothing provisioned yet; call start() first")
        return self._provisioned

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
        return InProcessTransport(self, user if self.secure else None, timeout=timeout)

    def session(
        self,
        user: str = "admin@nvidia.com",
        *,
        in_process: bool = False,
        clock: Optional[Clock] = None,
        timeout: float = 10.0,
    ) -> Session:
        """A logged-in :class:`flare_api.Session` for ``user`` on this server's clock.

        ``in_process=True`` skips TCP and TLS (same protocol bytes otherwise): fast, for monitor loops.
        ``timeout`` bounds the login and each request.
        """
        from flare_api import new_insecure_session, new_secure_session

        clock = clock if clock is not None else self.clock
        transport = self.in_process_transport(user, timeout) if in_process else None
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
        with self.state.lock:
            return list(self.state.errors)

    def raise_errors(self) -> None:
        """Raise :class:`FakeServerError` describing every recorded unexpected error, then forget them."""
        with self.state.lock:
            errors = list(self.state.errors)
            self.state.errors.clear()
        if errors:
            details = "\n".join(str(e) for e in errors)
            raise FakeServerError(f"{len(errors)} unexpected error(s) in the fake FLARE server:\n{details}")

    def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait (on an event, not by polling) until ``condition()`` holds after some connection finished.

        For tests that check server-side effects the client cannot order itself after, e.g. a TLS
        handshake the server rejects after the client already gave up. Returns ``condition()``.
        """
        with self._changed:
            return self._changed.wait_for(condition, timeout)

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

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._stopping.is_set():
                        return
                    self._accept_one()
        except Exception as exc:  # the listener itself failed: record it, stop serving
            self.state.record_error("<accept>", exc)
        finally:
            selector.close()

    def _accept_one(self) -> None:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        self.stats.accepted += 1
        while not self._slots.acquire(timeout=0.5):
            if self._stopping.is_set():
                conn.close()
                return
        conn.setblocking(True)
        thread = threading.Thread(target=self._serve, args=(conn,), name="fakeflare-conn", daemon=True)
        with self._conn_lock:
            self._conn_threads.add(thread)
            self._conn_sockets.add(conn)
        thread.start()

    def _serve(self, raw: socket.socket) -> None:
        sock: socket.socket = raw
        try:
            if self.state.gone:  # shut down by an admin: behave like a server that is not there
                return
            if self.faults.take(None, at_handshake=True) is not None:
                self.stats.faults_fired += 1
                return
            peer: Optional[PeerIdentity] = None
            if self._ssl_context is not None:
                tls = self._handshake(raw)
                if tls is None:
                    return
                sock = tls
                with self._conn_lock:
                    self._conn_sockets.add(sock)
                peer = PeerIdentity.from_peercert(tls.getpeercert())
            try:
                text = read_stream(sock, timeout=self.request_timeout, max_bytes=self.max_request_bytes)
            except FrameTooLarge:
                self._send(sock, Reply().error(msg.REQUEST_TOO_LARGE.format(limit=self.max_request_bytes)).document())
                self.stats.read_failures += 1
                return
            except (StreamClosed, FrameTimeout, OSError):
                self.stats.read_failures += 1
                return
            except FramingError:
                # A whole request that is not UTF-8: FLARE's handler dies on the decode and hangs up; we
                # answer with its protocol-violation reply instead, which says what went wrong.
                self._send(sock, Reply().error(msg.PROTOCOL_VIOLATION).document())
                self.stats.read_failures += 1
                return
            response = self.respond(text, peer)
            if response.payload:
                send_stream(sock, response.payload, timeout=self.request_timeout)
            if response.hold:
                self._stopping.wait(response.hold)
        except OSError:
            self.stats.read_failures += 1
        except Exception as exc:
            self.state.record_error("<connection>", exc)
        finally:
            self._close(raw, sock)

    def _handshake(self, raw: socket.socket) -> Optional[ssl.SSLSocket]:
        assert self._ssl_context is not None
        raw.settimeout(self.handshake_timeout)
        try:
            tls = self._ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            tls.do_handshake()
            return tls
        except (ssl.SSLError, OSError) as exc:
            with self._changed:
                self.stats.handshake_failures += 1
                self.handshake_errors.append(f"{type(exc).__name__}: {exc}")
                del self.handshake_errors[:-100]
                self._changed.notify_all()
            return None

    def _send(self, sock: socket.socket, document: Document) -> None:
        documents = [document.to_json()] if document.items else []
        send_stream(sock, encode_stream(documents), timeout=self.request_timeout)

    def respond(self, text: str, peer: Optional[PeerIdentity]) -> Response:
        """The bytes answering one received request (armed faults applied): shared by TLS and in-process."""
        self.stats.requests += 1
        fault = self.faults.take(_command_name(text)) if len(self.faults) else None
        if fault is not None:
            self.stats.faults_fired += 1
            if fault.kind is FaultKind.DELAY:
                self._stopping.wait(fault.seconds)
            else:
                return _fault_response(fault)
        if self._stopping.is_set():
            return Response(b"", complete=False)
        document = self.dispatcher.handle_text(text, peer)
        return Response(encode_stream([document.to_json()] if document.items else []), complete=True)

    def _close(self, raw: socket.socket, sock: socket.socket) -> None:
        for s in {id(sock): sock, id(raw): raw}.values():
            with contextlib.suppress(OSError):
                s.close()
        with self._conn_lock:
            self._conn_sockets.discard(raw)
            self._conn_sockets.discard(sock)
            self._conn_threads.discard(threading.current_thread())
        self._slots.release()
        with self._changed:
            self._changed.notify_all()


@dataclass(frozen=True)
class Response:
    """What to send back for one request: ``complete`` if it ends with ``\x04``; ``hold`` keeps the
    connection open that many seconds afterwards (the ``no_end`` fault)."""

    payload: bytes
    complete: bool
    hold: float = 0.0


def _fault_response(fault: Fault) -> Response:
    if fault.kind is FaultKind.GARBAGE:
        return Response(b"this is not a FLARE document\x03\x04", complete=True)
    if fault.kind is FaultKind.EMPTY:
        return Response(b"\x04", complete=True)
    if fault.kind is FaultKind.PARTIAL:
        body = Reply().string("partial").document().to_json().encode("ascii")
        return Response(body[: len(body) // 2], complete=False)
    if fault.kind is FaultKind.NO_END:
        body = Reply().string("no end").document().to_json().encode("ascii") + b"\x03"
        return Response(body, complete=False, hold=fault.seconds)
    return Response(b"", complete=False)  # DROP


def _command_name(text: str) -> Optional[str]:
    """The command name of a request, for fault matching; None if it has none."""
    try:
        command = parse_document(join_request_text(text)).first(ItemType.COMMAND)
        if command is None or not isinstance(command.data, str):
            return None
        return split_command_line(command.data)[0]
    except (ValueError, IndexError):
        return None
