"""Exceptions with FLARE's names under one :class:`FlareError` base, and the reply → exception mapping.

FLARE's exceptions all derive straight from ``Exception``; ours share a base, and where we raise
something more precise than FLARE would (a dropped connection, an expired session) the class also
derives from the one FLARE raises there, so ``except InternalError`` written for FLARE keeps working.
"""

from __future__ import annotations

import re
from typing import Optional

from .types import ApiStatus
from .wire.message import Document, ItemType, MetaKey, MetaStatus

__all__ = [
    "ArgumentSyntaxError",
    "ArgumentTypeError",
    "AuthenticationError",
    "AuthorizationError",
    "ClientsStillRunning",
    "ClientsStillRunningError",
    "ConfigError",
    "ConnectionLost",
    "EmptyReply",
    "FlareError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidClient",
    "InvalidJobDefinition",
    "InvalidTarget",
    "InvalidTargetError",
    "JobNotDone",
    "JobNotFound",
    "JobNotRunning",
    "JobTimeout",
    "JobsStillRunning",
    "NoClientsAvailable",
    "NoClientsAvailableError",
    "NoConnection",
    "NoReply",
    "OverseerError",
    "ProtocolError",
    "SessionClosed",
    "SessionInactive",
    "TLSRejected",
    "TargetSyntaxError",
    "classify_reply",
    "raise_for_reply",
]


class FlareError(Exception):
    """Base of every error this library raises on purpose."""


class NoConnection(FlareError, ConnectionError):
    """The server cannot be reached (refused, timed out, TLS failure) or login did not finish in time."""


class TLSRejected(NoConnection):
    """The TLS handshake failed for a reason retrying cannot fix: an untrusted or expired certificate."""


class SessionClosed(FlareError):
    """The session was closed, locally or by the server."""


class InvalidArgumentError(FlareError, ValueError):
    """An argument failed a check before anything was sent."""


class InvalidJobDefinition(FlareError):
    """The job folder or its ``meta.json`` was refused, locally or by the server."""


class JobNotFound(FlareError):
    """No job with that id (or no job id given)."""


class JobNotDone(FlareError):
    """The job is still running, so the action is refused."""


class InternalError(FlareError):
    """The server reported an error, or replied with something the protocol does not allow."""


class AuthenticationError(FlareError):
    """Login was refused: wrong user name for the certificate, or wrong password."""


class AuthorizationError(FlareError):
    """The user's role does not grant the right the command needs."""


class ConfigError(FlareError, ValueError):
    """The startup kit is missing files or its ``fed_admin.json`` is malformed."""


class ProtocolError(InternalError):
    """The server's reply broke the wire protocol (bad framing, invalid document, no reply)."""


class InvalidReply(ProtocolError, ConnectionError):
    """The reply held no valid document (FLARE: ``ERROR_SERVER_CONNECTION``, the builtin ``ConnectionError``)."""


class ConnectionLost(NoConnection, InternalError):
    """A command could not reach the server after login (FLARE reports this as an InternalError)."""


class SessionInactive(SessionClosed, InternalError):
    """The server no longer knows the session token (idle timeout, logout, restart)."""


class EmptyReply(ProtocolError, RuntimeError):
    """The reply document had no items (FLARE: ``RuntimeError`` for ``ERROR_RUNTIME``)."""


class JobTimeout(FlareError, TimeoutError):
    """``wait_for_job`` gave up before the job finished."""


class JobNotRunning(FlareError):
    """The command needs a running job (FLARE 2.4 name)."""


class NoClientsAvailable(FlareError):
    """No client site is connected (FLARE 2.4 name)."""


class ClientsStillRunning(FlareError):
    """Clients must be shut down first (FLARE 2.4 name)."""


class NoReply(FlareError):
    """A site did not answer the command (FLARE 2.5 name; 2.4 servers send the status, 2.4 clients do not map it)."""


class InvalidTarget(FlareError, ValueError):
    """The target type or a client name is not valid (FLARE 2.4 name)."""


class InvalidClient(InvalidTarget, RuntimeError):
    """The server named an invalid client or unknown site (FLARE: ``RuntimeError`` for ``ERROR_INVALID_CLIENT``)."""


class ArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument of the wrong type, where FLARE raises ``TypeError``."""


class ArgumentSyntaxError(SyntaxError, InvalidArgumentError):
    """An argument FLARE's ``cmd_arg_utils`` validators refuse with ``SyntaxError``."""


class TargetSyntaxError(SyntaxError, InvalidTarget):
    """A client name list FLARE's ``process_targets_into_str`` refuses with ``SyntaxError``."""


class OverseerError(FlareError, RuntimeError):
    """The overseer agent refused (FLARE raises ``RuntimeError``); the kit's dummy agent always does."""


class NoClientsAvailableError(NoClientsAvailable, InternalError):
    """The server has no (matching) client registered: ``no clients available``."""


class ClientsStillRunningError(ClientsStillRunning, InternalError):
    """``shutdown server`` while clients are registered, or a client refused to shut down."""


class InvalidTargetError(InvalidTarget, InternalError):
    """The server refused the target type or a client name."""


class JobsStillRunning(JobNotDone, InternalError):
    """``shutdown``/``restart`` refused because a job is running."""


class NotInFlareVersion(InternalError):
    """Ours: the method's command is not in the server's FLARE series (e.g. ``do_app_command`` before 2.5);
    an ``InternalError``, as FLARE's client raises when a command is missing from the server's table."""


_SUBSTRING_STATUS = (
    ("session_inactive", ApiStatus.ERROR_INACTIVE_SESSION),
    ("wrong server", ApiStatus.ERROR_SERVER_CONNECTION),
    ("Failed to communicate", ApiStatus.ERROR_SERVER_CONNECTION),
    ("invalid client", ApiStatus.ERROR_INVALID_CLIENT),
    ("unknown site", ApiStatus.ERROR_INVALID_CLIENT),
    ("not authorized", ApiStatus.ERROR_AUTHORIZATION),
)


def classify_reply(reply: Optional[Document]) -> ApiStatus:
    """The ``APIStatus`` FLARE's client would give this reply (reference section 5.8)."""
    if reply is None:
        return ApiStatus.ERROR_SERVER_CONNECTION
    if not reply.items:
        return ApiStatus.ERROR_RUNTIME
    texts: list[str] = []
    for item in reply.items:
        if item.type is ItemType.SUCCESS:
            return ApiStatus.SUCCESS
        if item.type in (ItemType.STRING, ItemType.ERROR):
            texts.append(item.text)
    joined = "\n".join(texts)
    for needle, status in _SUBSTRING_STATUS:
        if needle in joined:
            return status
    return ApiStatus.SUCCESS


def reply_details(reply: Optional[Document]) -> str:
    """The reply's error and string texts joined, for exception messages."""
    if reply is None:
        return "no reply"
    texts = [item.text for item in reply.items if item.type in (ItemType.ERROR, ItemType.STRING)]
    return "; ".join(text for text in texts if text)


def raise_for_reply(
    command: str, reply: Optional[Document], *, enforce_meta: bool = True, flare_version: Optional[str] = None
) -> Document:
    """Map a reply to FLARE's exception for it, or return the reply (FLARE's ``_do_command`` order).

    Meta status first, then the client-side status of the items, then (if ``enforce_meta``) a reply
    without meta is an error, because every command the FLARE API relies on carries meta.
    ``flare_version`` (``"2.4"``, ``"2.5"``, ``"2.6"``) selects that series' status map; None or
    ``"2.3"`` keeps 2.3.12's.
    """
    if reply is None:
        raise InvalidReply(f"server did not respond to '{command}' (the reply held no document)")
    meta = reply.meta
    if meta:
        status = meta.get(MetaKey.STATUS)
        info = meta.get(MetaKey.INFO, "")
        if status == MetaStatus.ERROR and info == "session_inactive":
            prefix = "error" if _socket_era(flare_version) else f"server internal error ({status})"
            raise _session_inactive(f"{prefix}: {info}", reply)
        if _socket_era(flare_version):
            _raise_for_meta_status_24(command, meta.get(MetaKey.STATUS, MetaStatus.OK), info, flare_version)
        else:
            _raise_for_meta_status(command, status, info)
    api_status = classify_reply(reply)
    if api_status is ApiStatus.SUCCESS:
        if enforce_meta and not meta:
            raise InternalError(f"missing meta from result of '{command}': {reply_details(reply)}")
        return reply
    details = reply_details(reply)
    if api_status is ApiStatus.ERROR_INACTIVE_SESSION:
        raise _session_inactive(f"the session is closed on server: {details}", reply)
    if api_status is ApiStatus.ERROR_AUTHORIZATION:
        raise AuthorizationError(f"user not authorized for the action '{command}': {details}")
    if api_status is ApiStatus.ERROR_INVALID_CLIENT:
        raise InvalidClient(f"invalid target in '{command}': {details}")
    if api_status is ApiStatus.ERROR_RUNTIME:
        raise EmptyReply(f"server sent an empty reply to '{command}'")
    raise ConnectionLost(f"cannot connect to server: {api_status}: {details}")


def _raise_for_meta_status(command: str, status: object, info: object) -> None:
    if status == MetaStatus.OK:
        return
    if status == MetaStatus.INVALID_JOB_DEFINITION:
        raise InvalidJobDefinition(f"invalid job definition: {info}")
    if status == MetaStatus.NOT_AUTHORIZED:
        raise AuthorizationError(f"user not authorized for the action '{command}: {info}'")
    if status == MetaStatus.SYNTAX_ERROR:
        raise InternalError(f"protocol error: {info}")
    if status == MetaStatus.INVALID_JOB_ID:
        raise JobNotFound(f"no such job: {info}")
    if status == MetaStatus.JOB_RUNNING:
        raise JobNotDone(f"job {info} is still running")
    raise InternalError(f"server internal error ({status}): {info}")


def _socket_era(flare_version: Optional[str]) -> bool:
    return flare_version is not None and flare_version != "2.3"


# nvflare 2.4.2/2.5.2/2.6.3 fuel/flare_api/flare_api.py ``_do_command``: status -> (class, message format).
_STATUS_24: dict[str, tuple[type[FlareError], str]] = {
    "invalid_job_def": (InvalidJobDefinition, "invalid job definition: {info}"),
    "not_authorized": (AuthorizationError, "user not authorized for the action '{command}: {info}'"),
    "not_authenticated": (AuthenticationError, "user not authenticated: {info}"),
    "syntax_error": (InternalError, "syntax error: {info}"),
    "invalid_job_id": (JobNotFound, "no such job: {info}"),
    "job_running": (JobNotDone, "job {info} is still running"),
    "job_not_running": (JobNotRunning, "job {info} is not running"),
    "clients_running": (ClientsStillRunningError, "one or more clients are still running"),
    "no_clients": (NoClientsAvailableError, "no clients available"),
    "internal_error": (InternalError, "server internal error: {info}"),
    "invalid_target": (InvalidTargetError, "{info}"),
    "error": (InternalError, "error: {info}"),
}


def _raise_for_meta_status_24(command: str, status: object, info: object, flare_version: Optional[str]) -> None:
    """2.4+ order: an absent status counts as ok; ``no_reply`` maps to ``NoReply`` only from 2.5 on."""
    if status == MetaStatus.OK:
        return
    if status == "no_reply" and flare_version in ("2.5", "2.6"):
        raise NoReply(str(info))
    mapped = _STATUS_24.get(status) if isinstance(status, str) else None
    if mapped is None:
        raise InternalError(f"{status}: {info}")
    cls, text = mapped
    raise cls(text.format(command=command, info=info))


_IDLE_TIMEOUT = re.compile(r"timed out after (\d+(?:\.\d+)?) seconds")


def _session_inactive(message: str, reply: Document) -> SessionInactive:
    """FLARE's exception text, plus a note (PEP 678, shown in tracebacks) saying why the session is gone:
    FLARE's wire text names only the idle timeout, not that a restarted (or reset) server forgets sessions."""
    found = _IDLE_TIMEOUT.search(reply_details(reply))
    idle = f"after {found.group(1)} s idle" if found else "after the server's idle timeout"
    note = (
        f"the server no longer knows this session: it expired {idle}, or the server was restarted "
        f"or reset since login; open a new session"
    )
    exc = SessionInactive(message)
    # what ``add_note`` (Python 3.11+) does to a new exception; on older Pythons the note is kept where
    # 3.11's tracebacks look for it
    setattr(exc, "__notes__", [note])  # noqa: B010
    return exc
