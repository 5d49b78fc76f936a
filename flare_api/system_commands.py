"""The system methods of ``Session``: FLARE 2.4–2.6's names, arguments, returns and errors, on the 2.3 wire.

Argument checks run before any I/O and raise what FLARE raises (``SyntaxError`` for malformed client names
or SP end points, ``ValueError``/``TypeError`` for target types and timeouts), as classes that also derive
from our :class:`~flare_api.errors.FlareError` family. Server refusals a 2.3 server sends as plain errors
(meta status ``error``, which FLARE reports as ``InternalError``) are raised as FLARE 2.4's precise names,
each still an ``InternalError``: ``no clients available`` → :class:`NoClientsAvailable`, ``There are still
active clients...`` → :class:`ClientsStillRunning`, ``There are still jobs running...`` → :class:`JobNotDone`,
``invalid client(s)``/``unknown target type`` → :class:`InvalidTarget`.

Choices where the 2.3 wire differs from what FLARE 2.4+ relies on:

* ``get_client_job_status`` reads the ``check_status client`` table (a 2.3 server sends no ``client_status``
  meta, so FLARE 2.4's client would raise ``missing meta``): one dict per row with the keys ``client_name``,
  ``app_name``, ``job_id``, ``status``, including a client's ``No Jobs``/``No Reply`` row.
* ``set_timeout`` is session-side in FLARE 2.4 (against a 2.4+ server every later request carries meta
  ``cmd_timeout``, as FLARE's client sends it); a 2.3 server only has the server-wide ``set_timeout``
  command (right ``set_timeout``, category ``operate``). We send it: the value applies to every admin
  session until changed, unset, or the server restarts. ``unset_timeout`` sends FLARE's default (10 s) if
  this session set a value, and does nothing otherwise.
* ``list_sp``/``get_active_sp`` describe the kit's ``DummyOverseerAgent`` as dicts (FLARE 2.4 returns
  ``str()`` of that dict and ``None`` respectively); ``promote_sp`` and ``shutdown_system`` raise the dummy
  agent's error, as FLARE does, after the same checks.
* ``restart`` returns the reply's meta plus ``client_status`` (client name → its answer, ``no_reply`` if
  it did not answer), which newer FLARE servers put into meta and 2.3 sends as text.
"""

from __future__ import annotations

import ast
import os
import re
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, Optional

from .command_runner import CommandRunner
from .errors import (
    ArgumentSyntaxError,
    ArgumentTypeError,
    AuthorizationError,
    ClientsStillRunningError,
    InternalError,
    InvalidArgumentError,
    InvalidTarget,
    InvalidTargetError,
    JobNotDone,
    JobsStillRunning,
    NoClientsAvailableError,
    OverseerError,
    SessionClosed,
    TargetSyntaxError,
)
from .types import ApiStatus, ClientInfo, TargetType
from .versions import FlareVersion
from .wire import Document, ItemType, MetaKey, join_command_line

__all__ = ["SystemCommands"]


#: FLARE 2.4's ``_VALID_TARGET_TYPES`` (plain strings there).
VALID_TARGET_TYPES = (TargetType.ALL.value, TargetType.SERVER.value, TargetType.CLIENT.value)
_TARGET_CHARS = re.compile(r"^[A-Za-z0-9._-]*$")
_SP_END_POINT = re.compile(
    r"^((([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*"
    r"([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]):[0-9]*:[0-9]*)$"
)
#: What FLARE's ``DummyOverseerAgent`` says to promote_sp and set_state, and its fixed service session id.
DUMMY_AGENT_ERROR = "this functionality is not supported by the dummy agent"
DUMMY_SSID = "ebc6125d-0a56-4688-9b08-355fe9e4d61a"
#: A 2.3 FedAdminServer's admin→client timeout until set_timeout changes it.
DEFAULT_ADMIN_TIMEOUT = 10.0
NO_REPLY = "no_reply"
#: FLARE 2.4+'s meta key of ``check_status client`` rows and of restart's per-client answers.
CLIENT_STATUS = "client_status"

_SERVER_ERROR_PREFIX = "server internal error (error): "
#: Server refusal texts (2.3.12 wording) and the FLARE 2.4 exception each maps to; prefixes end with a space.
_REFUSALS: tuple[tuple[str, type[InternalError]], ...] = (
    ("no clients available", NoClientsAvailableError),
    ("There are still active clients. Shutdown all clients first.", ClientsStillRunningError),
    ("There are still jobs running. ", JobsStillRunning),
    ("invalid client(s): ", InvalidTargetError),
    ("unknown target type ", InvalidTargetError),
    ("missing target type (server or client)", InvalidTargetError),
    ("invalid target type ", InvalidTargetError),
)
_CLIENT_STATUS_KEYS = (MetaKey.CLIENT_NAME, MetaKey.APP_NAME, MetaKey.JOB_ID, MetaKey.STATUS)
_RESTART_LINE = re.compile(r"^client:(.*?) : (.*)$")
_RESTART_NO_REPLY = "No replies"
_NOT_AUTHORIZED = "not authorized"


def validate_target_type(target_type: object) -> str:
    """FLARE 2.4's check: ``ValueError`` (here :class:`InvalidTarget`) unless server, client or all."""
    if not isinstance(target_type, str) or target_type not in VALID_TARGET_TYPES:
        raise InvalidTarget(f"invalid target_type {target_type} - must be in {list(VALID_TARGET_TYPES)}")
    return str(TargetType(target_type))


def validate_client_names(names: object) -> list[str]:
    """FLARE's ``process_targets_into_str`` checks: a list of names of ``[A-Za-z0-9._-]`` characters."""
    if not isinstance(names, list):
        raise TargetSyntaxError("targets is not a list.")
    if not all(isinstance(name, str) for name in names):
        raise TargetSyntaxError("all targets in the list of targets must be strings.")
    for name in names:
        if not name or not _TARGET_CHARS.match(name):
            raise TargetSyntaxError(f"invalid target {name}")
    return list(names)


def _refine(exc: InternalError) -> Optional[InternalError]:
    """The FLARE 2.4 exception for a server refusal, keeping FLARE 2.3's message; None if not one."""
    text = str(exc)
    if type(exc) is not InternalError or not text.startswith(_SERVER_ERROR_PREFIX):
        return None
    info = text[len(_SERVER_ERROR_PREFIX) :]
    for refusal, cls in _REFUSALS:
        if info == refusal or (refusal.endswith(" ") and info.startswith(refusal)):
            return cls(text)
    return None


def _table_rows(reply: Document) -> Optional[list[list[Any]]]:
    """The rows (header dropped) of the reply's first table, or None if it has none."""
    table = reply.first(ItemType.TABLE)
    if table is None or not table.rows:
        return None
    return [list(row) for row in table.rows[1:]]


def _client_status(reply: Document) -> dict[str, str]:
    """``client:<name> : <answer>`` lines of a restart reply, as newer servers' ``client_status`` meta."""
    statuses: dict[str, str] = {}
    for item in reply.items:
        if item.type is not ItemType.STRING:
            continue
        for line in item.text.splitlines():
            match = _RESTART_LINE.match(line)
            if match:
                answer = match.group(2)
                statuses[match.group(1)] = NO_REPLY if answer == _RESTART_NO_REPLY else answer
    return statuses


def _resource_value(text: Any) -> Any:
    """A ``report_resources`` cell: ``str(dict)`` read back into the dict, anything else as sent."""
    if isinstance(text, str) and text.startswith("{"):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, dict):
            return value
    return text


class SystemCommands(CommandRunner):
    """Mixin: clients, restart/shutdown, timeouts, service providers, resources and cell connections."""

    #: FLARE 2.4+'s session command timeout, sent as request meta ``cmd_timeout`` (None: the server's default).
    _session_cmd_timeout: Optional[float] = None

    @property
    @abstractmethod
    def flare_version(self) -> FlareVersion:
        """The server's FLARE series, read from its command table at login."""

    def _system_command(self, args: Sequence[str], *, enforce_meta: bool = True) -> Document:
        """Send ``args``; server refusals come out as FLARE 2.4's exception names."""
        try:
            return self._do_command(join_command_line(list(args)), enforce_meta=enforce_meta)
        except InternalError as exc:
            refined = _refine(exc)
            if refined is None:
                raise
            raise refined from None

    def _system_target_args(self, command: str, target_type: object, client_names: object) -> list[str]:
        """``[command, type]`` plus the client names when the type is ``client`` and names are given."""
        target = validate_target_type(target_type)
        args = [command, target]
        if target == TargetType.CLIENT.value and client_names:
            args += validate_client_names(client_names)
        return args

    def _system_require_open(self) -> None:
        if self.closed:
            raise SessionClosed("session closed")

    # ------------------------------------------------------------------------------ clients
    def get_connected_client_list(self) -> list[ClientInfo]:
        """The registered clients (``check_status server``)."""
        return self.get_system_info().client_info

    def get_client_job_status(self, client_names: Optional[list[str]] = None) -> Optional[list[dict[str, Any]]]:
        """One dict per row of ``check_status client``: client_name, app_name, job_id, status; None without a table."""
        args = ["check_status", TargetType.CLIENT.value]
        if client_names:
            args += validate_client_names(client_names)
        reply = self._system_command(args, enforce_meta=False)
        statuses = reply.meta.get(CLIENT_STATUS)
        if isinstance(statuses, list):  # FLARE 2.4+: meta ``client_status``, returned as FLARE's client does
            return statuses
        rows = _table_rows(reply)
        if rows is None:
            return None
        return [dict(zip(_CLIENT_STATUS_KEYS, row)) for row in rows]

    # ------------------------------------------------------------------------------ restart / shutdown
    def restart(self, target_type: str, client_names: Optional[list[str]] = None) -> dict[str, Any]:
        """Restart the server (which restarts every client first), some clients, or all.

        Returns the meta plus ``client_status``. After a server restart this session is gone on the server.
        """
        reply = self._system_command(self._system_target_args("restart", target_type, client_names))
        result = dict(reply.meta)
        statuses = _client_status(reply)
        if statuses:
            result["client_status"] = statuses
        return result

    def shutdown(self, target_type: str, client_names: Optional[list[str]] = None) -> None:
        """Shut down clients, then (``server``/``all``) the server; the session closes when the server goes."""
        args = self._system_target_args("shutdown", target_type, client_names)
        line = join_command_line(args)
        reply = self._system_command(args, enforce_meta=False)
        refused = [row for row in _table_rows(reply) or [] if len(row) > 1 and _NOT_AUTHORIZED in str(row[1])]
        if refused:
            details = "; ".join(f"{row[0]}: {row[1]}" for row in refused)
            raise AuthorizationError(f"user not authorized for the action '{line}': {details}")
        if not reply.meta:
            raise ClientsStillRunningError(f"clients did not shut down ('{line}'): {_texts(reply)}")

    def shutdown_system(self) -> None:
        """FLARE's overseer-driven shutdown: project admins only, no running jobs; the dummy agent refuses."""
        meta = self._command("admin_check_status", TargetType.SERVER.value).meta
        if meta.get(MetaKey.SERVER_STATUS) != "stopped":
            raise JobNotDone("there are still running jobs")
        raise OverseerError(DUMMY_AGENT_ERROR)

    # ------------------------------------------------------------------------------ timeouts
    def set_timeout(self, value: float) -> None:
        """Set the server's admin→client command timeout (server-wide on FLARE 2.3, see the module doc)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ArgumentTypeError(f"timeout must be a number but got {type(value)}")
        seconds = float(value)
        if not seconds > 0.0:
            raise InvalidArgumentError(f"invalid timeout value {seconds} - must be > 0.0")
        if self.flare_version >= FlareVersion.V2_4:  # this session only: every request carries it
            self._session_cmd_timeout = seconds
            return
        self._command("set_timeout", str(seconds))
        self._system_timeout_set = True

    def unset_timeout(self) -> None:
        """Put back FLARE's default timeout (10 s) if this session changed it (2.4+: stop sending it)."""
        if self._session_cmd_timeout is not None:
            self._session_cmd_timeout = None
            return
        if getattr(self, "_system_timeout_set", False):
            self._command("set_timeout", str(DEFAULT_ADMIN_TIMEOUT))
            self._system_timeout_set = False

    # ------------------------------------------------------------------------------ service providers
    def _system_sp_end_point(self) -> str:
        agent = self.kit.config["admin"]["overseer_agent"]
        return str(agent["args"]["sp_end_point"])

    def list_sp(self) -> dict[str, Any]:
        """The kit's DummyOverseerAgent's ``overseer_info``: the primary SP, the SP list, the system state."""
        self._system_require_open()
        primary = {"sp_end_point": self._system_sp_end_point(), "service_session_id": DUMMY_SSID, "primary": True}
        primary["state"] = "online"
        return {"primary_sp": primary, "sp_list": [dict(primary)], "system": "ready"}

    def get_active_sp(self) -> dict[str, Any]:
        """The primary SP as FLARE's ``SP`` fields: name, fl_port, admin_port, service_session_id, primary, props."""
        self._system_require_open()
        name, fl_port, admin_port = self._system_sp_end_point().split(":")
        return {
            "name": name,
            "fl_port": fl_port,
            "admin_port": admin_port,
            "service_session_id": DUMMY_SSID,
            "primary": True,
            "props": {},
        }

    def promote_sp(self, sp_end_point: str) -> None:
        """Validate ``host:fl_port:admin_port``; the dummy agent cannot promote, so this always raises."""
        if not isinstance(sp_end_point, str) or not _SP_END_POINT.match(sp_end_point):
            raise ArgumentSyntaxError("sp_string must be of the format example.com:8002:8003")
        self._system_require_open()
        raise OverseerError(f"runtime error encountered: {ApiStatus.ERROR_RUNTIME}: Error: {DUMMY_AGENT_ERROR}")

    def get_available_apps_to_upload(self) -> list[str]:
        """Folder names in the kit's upload dir, sorted (none if it does not exist)."""
        if not os.path.isdir(self.upload_dir):
            return []
        return sorted(e for e in os.listdir(self.upload_dir) if os.path.isdir(os.path.join(self.upload_dir, e)))

    # ------------------------------------------------------------------------------ resources / cells
    def report_resources(self, target_type: str, targets: Optional[list[str]] = None) -> dict[str, Any]:
        """Site name → resources: ``unlimited`` for the server, each client's report dict (or its error text)."""
        reply = self._system_command(
            self._system_target_args("report_resources", target_type, targets), enforce_meta=False
        )
        rows = _table_rows(reply)
        if rows is None:
            raise InvalidTargetError(
                _texts(reply) or f"no resources table in the reply to report_resources {target_type}"
            )
        return {str(row[0]): _resource_value(row[1]) for row in rows if len(row) > 1}

    def get_cell_conn_info(self, fqcn: str) -> Optional[Any]:
        """``conns <fqcn>`` (FLARE 2.3.12): the first item's data (the connectors dict), or None without items."""
        if not isinstance(fqcn, str) or not fqcn or any(c.isspace() for c in fqcn):
            raise InvalidArgumentError(f"fqcn must be a non-empty str without whitespace, got {fqcn!r}")
        reply = self._do_command(join_command_line(["conns", fqcn]), enforce_meta=False)
        if not reply.items:
            return None
        return reply.items[0].data


def _texts(reply: Document) -> str:
    return "; ".join(item.text for item in reply.items if item.type in (ItemType.STRING, ItemType.ERROR))
