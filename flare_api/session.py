"""The FLARE API ``Session``: log in with a startup kit, then one method per admin command.

Behaves like FLARE 2.3's ``Session`` (names, arguments, return values, exception names) with these
documented improvements: no background thread; a rejected login raises ``AuthenticationError`` at
once; an unreachable server raises ``NoConnection`` naming host, port and elapsed time; every socket
operation has a timeout; all errors derive from ``FlareError``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from types import TracebackType
from typing import Any, Optional, Union

from . import intercept
from .clock import Clock, RealClock
from .command_table import CommandTable, parse_command_table
from .errors import (
    AuthenticationError,
    ConnectionLost,
    InternalError,
    InvalidArgumentError,
    NoConnection,
    ProtocolError,
    SessionClosed,
    TLSRejected,
    classify_reply,
    raise_for_reply,
)
from .info_commands import InfoCommands
from .job_commands import JobCommands
from .shell_commands import ShellCommands
from .startup_kit import StartupKit, load_startup_kit
from .system_commands import SystemCommands
from .transport import RequestTransport, TransferTransport, Transport, client_ssl_context
from .types import ApiStatus, ClientInfo, JobInfo, ServerInfo, SystemInfo
from .version_commands import VersionCommands
from .versions import FlareVersion, detect_flare_version
from .wire import Document, ItemType, MetaKey, join_command_line, split_command_line
from .wire.transfer import TransferFraming

__all__ = ["Session", "new_insecure_session", "new_secure_session"]

log = logging.getLogger("flare_api")

PathLike = Union[str, "os.PathLike[str]"]

LOGIN_OK = "OK"
LOGIN_REJECT = "REJECT"
#: FLARE's POC server accepts exactly this user and password.
POC_USER = "admin"
POC_PASSWORD = "admin"
#: The request meta key of a command's data (FLARE 2.5+ ``app_command``).
CMD_PROPS = "cmd_props"
#: The request meta key of a session's command timeout (FLARE 2.4+ ``set_timeout``).
CMD_TIMEOUT = "cmd_timeout"
#: How long try_connect waits between login attempts while the server is unreachable.
RETRY_INTERVAL = 0.5


class Session(JobCommands, SystemCommands, ShellCommands, InfoCommands, VersionCommands):
    """A logged-in admin session (call :meth:`try_connect` first, or use :func:`new_secure_session`).

    ``timeout`` bounds each socket operation of each request; ``clock`` is what ``monitor_job`` sleeps
    on (share a :class:`~flare_api.clock.VirtualClock` with a fake server to skip waiting). ``transport``
    replaces the TLS transport (the fake server's in-process transport, for speed).
    """

    def __init__(
        self,
        username: str,
        startup_path: PathLike,
        secure_mode: bool = True,
        debug: bool = False,
        *,
        timeout: float = 10.0,
        clock: Optional[Clock] = None,
        transport: Optional[RequestTransport] = None,
    ) -> None:
        if not isinstance(username, str) or not username:
            raise InvalidArgumentError(f"username must be a non-empty str, got {username!r}")
        if not isinstance(startup_path, (str, os.PathLike)):
            raise InvalidArgumentError(f"startup_path must be str or a path, got {type(startup_path).__name__}")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.username = username
        self.secure_mode = secure_mode
        self.debug = debug
        self.clock: Clock = clock if clock is not None else RealClock()
        self.kit: StartupKit = load_startup_kit(startup_path, secure=secure_mode)
        self.upload_dir = str(self.kit.upload_dir)
        self.download_dir = str(self.kit.download_dir)
        if transport is None:
            context = None
            if secure_mode:
                assert self.kit.ca_cert and self.kit.client_cert and self.kit.client_key
                context = client_ssl_context(self.kit.ca_cert, self.kit.client_cert, self.kit.client_key)
            transport = Transport(
                self.kit.host, self.kit.port, context, timeout=timeout, client_cert=self.kit.client_cert
            )
        self._transport: RequestTransport = transport
        self._token: Optional[str] = None
        self._commands: Optional[CommandTable] = None
        self._flare_version: Optional[FlareVersion] = None
        self._closed = False
        self._lock = threading.Lock()

    # ----------------------------------------------------------------------------- connection
    @property
    def host(self) -> str:
        return self._transport.host

    @property
    def port(self) -> int:
        return self._transport.port

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def token(self) -> Optional[str]:
        """The server's session token once logged in."""
        return self._token

    @property
    def commands(self) -> CommandTable:
        """The server's command list, fetched at login."""
        if self._commands is None:
            raise SessionClosed("the session is not logged in; call try_connect(timeout) first")
        return self._commands

    @property
    def flare_version(self) -> FlareVersion:
        """The server's FLARE series, read from its command table at login (it picks transfers and errors)."""
        if self._flare_version is None:
            raise SessionClosed("the session is not logged in; call try_connect(timeout) first")
        return self._flare_version

    def is_ready(self) -> bool:
        """True once logged in and the command list is known (FLARE's ``api.is_ready()``)."""
        return not self._closed and self._token is not None and self._commands is not None

    def try_connect(self, timeout: float) -> None:
        """Log in, retrying while the server is unreachable, for at most ``timeout`` seconds.

        Raises ``AuthenticationError`` as soon as the server answers ``REJECT``, ``TLSRejected`` as soon as
        the TLS handshake fails for a certificate reason (unknown CA, expired), ``NoConnection`` when
        ``timeout`` passes without a login, ``SessionClosed`` if the session was closed.
        """
        if self._closed:
            raise SessionClosed("session closed")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 0:
            raise InvalidArgumentError(f"timeout must be a non-negative number of seconds, got {timeout!r}")
        started = time.monotonic()
        last_problem = "no attempt made"
        while True:
            remaining = timeout - (time.monotonic() - started)
            try:
                self._login(max(remaining, 0.05))
                return
            except TLSRejected:
                raise  # a certificate problem does not go away by retrying
            except NoConnection as exc:
                last_problem = str(exc)
            except _LoginIncomplete as exc:
                last_problem = str(exc)
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                raise NoConnection(
                    f"cannot connect to FLARE in {timeout} seconds "
                    f"({self.host}:{self.port}, {elapsed:.2f} s elapsed): {last_problem}"
                )
            time.sleep(min(RETRY_INTERVAL, max(timeout - elapsed, 0.0) + 0.01))

    def _login(self, timeout: float) -> None:
        timeout = min(timeout, self._transport.timeout)
        if self.secure_mode:
            line, rejected = (
                join_command_line(["_cert_login", self.username]),
                "Incorrect user name or certificate",
            )
            status = ApiStatus.ERROR_CERT
        else:
            line, rejected = (
                join_command_line(["_login", POC_USER, POC_PASSWORD]),
                "Incorrect user name or password",
            )
            status = ApiStatus.ERROR_AUTHENTICATION
        reply = self._transport.request(line, None, timeout=timeout)
        self._trace(line, reply)
        result, token = _login_result(reply)
        if result is None:
            raise _LoginIncomplete(f"login got no answer: {_describe(reply)}")
        if result == LOGIN_REJECT:
            self._closed = True
            raise AuthenticationError(f"user not authenticated: {status}: {rejected} ({self.username!r})")
        commands_reply = self._transport.request("_commands", token, timeout=timeout)
        self._trace("_commands", commands_reply)
        table = parse_command_table(commands_reply)
        if table is None:
            raise _LoginIncomplete(f"Can't fetch command list from server: {_describe(commands_reply)}")
        with self._lock:
            self._token = token
            self._commands = table
            self._flare_version = detect_flare_version(table)

    def close(self) -> None:
        """Close locally; like FLARE, nothing is sent (the server session lives until its idle timeout)."""
        self._closed = True

    def logout(self) -> None:
        """End the session on the server too (``_logout``), then close."""
        if not self._closed and self._token is not None:
            try:
                self._do_command("_logout", enforce_meta=False, check_known=False)
            finally:
                self.close()
        else:
            self.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: Optional[type], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "ready" if self.is_ready() else "not connected"
        return f"<Session {self.username} @ {self.host}:{self.port} ({state})>"

    # ----------------------------------------------------------------------------- commands
    def _do_command(
        self,
        line: str,
        *,
        enforce_meta: bool = True,
        check_known: bool = True,
        label: Optional[str] = None,
        props: Any = None,
    ) -> Document:
        """Send one command line and map the reply to FLARE's exceptions (reference 8.4/8.10).

        ``label`` is the command as the user gave it, for error messages (``submit_job <folder>`` rather
        than the wire line carrying the whole zip), as FLARE names it. ``props`` travel in the request
        meta as ``cmd_props`` (FLARE 2.5+ ``app_command``), omitted when falsy as FLARE does.
        """
        if self._closed:
            raise SessionClosed("session closed")
        if self._token is None or self._commands is None:
            raise SessionClosed("the session is not logged in; call try_connect(timeout) first")
        if check_known:
            try:
                name = split_command_line(line)[0]
            except ValueError as exc:  # shlex: "No closing quotation", "No escaped character"
                raise InvalidArgumentError(f"cannot split command line {_shown(line)}: {exc}") from None
            if name not in self._commands:
                raise InternalError(f"protocol error: {ApiStatus.ERROR_SYNTAX}: Command {name} not found")
        try:
            meta = self._request_meta(props)
            if meta:
                reply = self._transport.request(line, self._token, meta=meta)
            else:
                reply = self._transport.request(line, self._token)
        except NoConnection as exc:
            raise ConnectionLost(str(exc)) from None
        self._trace(line, reply)
        if reply is not None and reply.first(ItemType.SHUTDOWN) is not None:
            self._closed = True
        version = self._flare_version.value if self._flare_version is not None else None
        return raise_for_reply(label or line, reply, enforce_meta=enforce_meta, flare_version=version)

    def _request_meta(self, props: Any) -> dict[str, Any]:
        """FLARE 2.4+'s request meta: the session's ``cmd_timeout`` (``set_timeout``) and a command's ``cmd_props``."""
        meta: dict[str, Any] = {}
        if self._session_cmd_timeout:
            meta[CMD_TIMEOUT] = self._session_cmd_timeout
        if props:
            meta[CMD_PROPS] = props
        return meta

    def _command(self, *args: str, enforce_meta: bool = True) -> Document:
        return self._do_command(join_command_line(list(args)), enforce_meta=enforce_meta)

    def _transfers(self) -> TransferTransport:
        """The transport, if it carries FLARE 2.4+ file transfers (push and pull)."""
        transport = self._transport
        if not (callable(getattr(transport, "push", None)) and callable(getattr(transport, "pull", None))):
            raise InternalError(
                f"protocol error: the transport {type(transport).__name__} cannot carry FLARE "
                f"{self.flare_version.value} file transfers (it has no push/pull)"
            )
        return transport  # type: ignore[return-value]

    def _ready_token(self) -> str:
        if self._closed:
            raise SessionClosed("session closed")
        if self._token is None or self._commands is None:
            raise SessionClosed("the session is not logged in; call try_connect(timeout) first")
        return self._token

    def _do_push(self, line: str, body: bytes, *, label: str) -> Document:
        """FLARE 2.5+'s binary push of ``line`` carrying ``body``; the reply is mapped as for any command."""
        token = self._ready_token()
        try:
            reply = self._transfers().push(line, token, body)
        except NoConnection as exc:
            raise ConnectionLost(str(exc)) from None
        self._trace(line, reply)
        return raise_for_reply(label, reply, flare_version=self.flare_version.value)

    def _do_pull(self, line: str, framing: TransferFraming, *, label: str) -> bytes:
        """FLARE 2.4+'s pull of one file; a text reply instead (the server refused) raises its exception."""
        token = self._ready_token()
        try:
            answer = self._transfers().pull(line, token, framing)
        except NoConnection as exc:
            raise ConnectionLost(str(exc)) from None
        if isinstance(answer, bytes):
            return answer
        self._trace(line, answer)
        raise_for_reply(label, answer, flare_version=self.flare_version.value)
        raise ProtocolError(f"{label}: the server answered a file pull with a reply that is not an error")

    def do_command(self, command: str, *, raise_errors: bool = True) -> dict[str, Any]:
        """Send any command line the server lists and return the reply as FLARE's ``api.do_command`` does:
        the wire document (``data``, ``meta``) plus the client-side ``status``.

        Errors raise as for every other method unless ``raise_errors=False``; a reply without meta is fine.
        """
        if not isinstance(command, str) or not command.strip():
            raise InvalidArgumentError(f"command must be a non-empty str, got {command!r}")
        reply: Optional[Document]
        if raise_errors:
            reply = self._do_command(command, enforce_meta=False)
        else:
            if self._closed:
                raise SessionClosed("session closed")
            if self._token is None:
                raise SessionClosed("the session is not logged in; call try_connect(timeout) first")
            try:
                reply = self._transport.request(command, self._token)
            except NoConnection as exc:
                raise ConnectionLost(str(exc)) from None
            self._trace(command, reply)
        if reply is None:
            return {"status": ApiStatus.ERROR_SERVER_CONNECTION.value, "details": "Server did not respond"}
        result: dict[str, Any] = {"time": reply.time, "data": [item.to_json() for item in reply.items]}
        result["meta"] = reply.meta
        result["status"] = classify_reply(reply).value
        return result

    def _trace(self, line: str, reply: Optional[Document]) -> None:
        if self.debug or log.isEnabledFor(logging.DEBUG):
            shown = line if len(line) <= 200 else line[:200] + f"... ({len(line)} chars)"
            text = reply.to_json() if reply is not None else "<no document>"
            if len(text) > 2000:
                text = text[:2000] + f"... ({len(text)} chars)"
            log.log(logging.INFO if self.debug else logging.DEBUG, "%s -> %s", shown, text)

    def get_system_info(self) -> SystemInfo:
        """``check_status server``: the server's status and start time, its clients and running jobs."""
        meta = self._command("check_status", "server").meta
        try:
            server = ServerInfo(status=meta[MetaKey.SERVER_STATUS], start_time=meta[MetaKey.SERVER_START_TIME])
            clients = [
                ClientInfo(name=c[MetaKey.CLIENT_NAME], last_connect_time=c[MetaKey.CLIENT_LAST_CONNECT_TIME])
                for c in meta.get(MetaKey.CLIENTS, [])
            ]
            jobs = [JobInfo(app_name=j[MetaKey.APP_NAME], job_id=j[MetaKey.JOB_ID]) for j in meta.get(MetaKey.JOBS, [])]
        except (KeyError, TypeError) as exc:
            raise InternalError(f"check_status reply lacks expected meta {exc}: {meta!r}") from None
        return SystemInfo(server_info=server, client_info=clients, job_info=jobs)


class _LoginIncomplete(Exception):
    """The server answered the login, but not with a usable result; try again."""


def _login_result(reply: Optional[Document]) -> tuple[Optional[str], Optional[str]]:
    """FLARE's reading of a login reply: the last string is the result, a token item sets the token."""
    result: Optional[str] = None
    token: Optional[str] = None
    if reply is None:
        return None, None
    for item in reply.items:
        if item.type is ItemType.ERROR:
            break
        if item.type is ItemType.STRING:
            result = item.text
        elif item.type is ItemType.TOKEN and isinstance(item.data, str):
            token = item.data
    return result, token


def _describe(reply: Optional[Document]) -> str:
    if reply is None:
        return "no reply document"
    texts = [item.text for item in reply.items if item.type in (ItemType.ERROR, ItemType.STRING)]
    return "; ".join(texts) or "no text in reply"


def new_secure_session(
    username: str,
    startup_kit_location: PathLike,
    debug: bool = False,
    timeout: float = 10.0,
    *,
    clock: Optional[Clock] = None,
    request_timeout: float = 10.0,
    transport: Optional[RequestTransport] = None,
) -> Session:
    """Open a session with certificate login and wait up to ``timeout`` seconds for it to be ready.

    Without ``transport``, a running fake server that owns the kit answers in-process on its clock
    (see :mod:`flare_api.intercept`).
    """
    transport, clock = _intercepted(startup_kit_location, request_timeout, transport, clock)
    session = Session(
        username, startup_kit_location, True, debug, timeout=request_timeout, clock=clock, transport=transport
    )
    session.try_connect(timeout)
    return session


def new_insecure_session(
    startup_kit_location: PathLike,
    debug: bool = False,
    timeout: float = 10.0,
    *,
    clock: Optional[Clock] = None,
    request_timeout: float = 10.0,
    transport: Optional[RequestTransport] = None,
) -> Session:
    """Open a POC-mode session (plain TCP, FLARE's fixed ``admin``/``admin`` login); intercepted as above."""
    transport, clock = _intercepted(startup_kit_location, request_timeout, transport, clock)
    session = Session(
        POC_USER, startup_kit_location, False, debug, timeout=request_timeout, clock=clock, transport=transport
    )
    session.try_connect(timeout)
    return session


def _shown(line: str) -> str:
    """A command line for an error message, cut so a huge one (a submit_job zip) stays readable."""
    return repr(line) if len(line) <= 200 else repr(line[:200]) + f"... ({len(line)} chars)"


def _intercepted(
    kit: PathLike, timeout: float, transport: Optional[RequestTransport], clock: Optional[Clock]
) -> tuple[Optional[RequestTransport], Optional[Clock]]:
    """The transport and clock a registered interceptor gives this kit, unless the caller chose a transport."""
    if transport is not None or not isinstance(kit, (str, os.PathLike)):
        return transport, clock
    route = intercept.resolve(kit, timeout)
    if route is None:
        return transport, clock
    return route.transport, clock if clock is not None else route.clock
