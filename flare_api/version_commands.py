"""``Session`` methods of the commands FLARE added after 2.3: ``get_client_env`` (2.4, ``report_env``),
``do_app_command`` (2.5, ``app_command``), ``list_job_components`` (2.6, ``list_job``), and ours for the 2.6
console commands ``configure_site_log`` / ``configure_job_log`` (FLARE's Session has no method for them).

Names, arguments, returns and exceptions are those of nvflare 2.4.2 / 2.5.2 / 2.6.3
``fuel/flare_api/flare_api.py``. Called against a server whose series lacks the command, a method raises
:class:`~flare_api.errors.NotInFlareVersion` naming both versions, before any I/O.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Any, Optional

from .command_runner import CommandRunner
from .errors import ArgumentTypeError, EmptyReply, InvalidArgumentError
from .info_commands import first_dict
from .job_commands import validate_job_id
from .system_commands import validate_client_names, validate_target_type
from .types import TargetType
from .versions import FlareVersion, require_series
from .wire import Document, ItemType, join_command_line

__all__ = ["VersionCommands"]

#: The meta keys these commands answer with.
CLIENTS = "clients"
JOB_COMPONENTS = "job_components"


def _site_replies(reply: Document) -> dict[str, str]:
    """``server`` → the server's line, and each row of a ``Client``/``Response`` table → the site's reply."""
    replies: dict[str, str] = {}
    for item in reply.items:
        if item.type is ItemType.STRING and item.text.startswith("successfully configured server"):
            replies[TargetType.SERVER.value] = item.text
        elif item.type is ItemType.TABLE and item.rows:
            for row in item.rows[1:]:
                if len(row) > 1:
                    replies[str(row[0])] = str(row[1])
    return replies


class VersionCommands(CommandRunner):
    """Mixin: the 2.4–2.6 additions, each refused up front on a server of an older series."""

    @property
    @abstractmethod
    def flare_version(self) -> FlareVersion:
        """The server's FLARE series, read from its command table at login."""

    def _require(self, method: str, command: str, since: FlareVersion) -> None:
        require_series(self.flare_version, since, method, command)

    # ------------------------------------------------------------------------------ 2.4
    def get_client_env(self, client_names: Optional[Any] = None) -> list[Any]:
        """FLARE 2.4+: each client's env (``site_name``, ``workspace``, ``secure_mode``, ``root_url``);
        all clients without names. ``InvalidTarget`` for an unknown name or no clients."""
        self._require("get_client_env", "report_env", FlareVersion.V2_4)
        args = ["report_env"]
        if client_names:
            if isinstance(client_names, str):
                client_names = [client_names]
            elif not isinstance(client_names, list):
                raise InvalidArgumentError(f"client_names must be str or list of str but got {type(client_names)}")
            args += validate_client_names(client_names)
        envs = self._do_command(join_command_line(args)).meta.get(CLIENTS)
        if not envs:
            raise EmptyReply(f"missing {CLIENTS} from meta")
        return list(envs)

    # ------------------------------------------------------------------------------ 2.5
    def do_app_command(self, job_id: str, topic: str, cmd_data: Any) -> dict[str, Any]:
        """FLARE 2.5+: ask a running job's app to run the command ``topic`` with ``cmd_data`` (JSON data,
        sent in the request meta); returns the app's reply dict. ``JobNotRunning``, ``NoReply`` (2.5+: the
        app did not answer), ``InternalError`` (no function for the topic) from the server."""
        self._require("do_app_command", "app_command", FlareVersion.V2_5)
        if not isinstance(job_id, str) or not job_id:
            raise ArgumentTypeError(f"job_id must be a non-empty str but got {job_id!r}")
        if not isinstance(topic, str) or not topic:
            raise ArgumentTypeError(f"topic must be a non-empty str but got {topic!r}")
        if cmd_data:
            try:
                json.dumps(cmd_data)
            except (TypeError, ValueError) as exc:
                raise InvalidArgumentError(f"cmd_data cannot be JSON serialized: {exc}") from None
        line = join_command_line(["app_command", job_id, topic])
        return first_dict(self._do_command(line, enforce_meta=False, props=cmd_data))

    # ------------------------------------------------------------------------------ 2.6
    def list_job_components(self, job_id: str) -> list[str]:
        """FLARE 2.6: the job's additional stored components (e.g. ``ERRORLOG_site-1``). A job without any
        raises ``InternalError("no_job_compoents: ...")``, as FLARE's client does."""
        self._require("list_job_components", "list_job", FlareVersion.V2_6)
        job_id = validate_job_id(job_id)
        meta = self._do_command(join_command_line(["list_job", job_id])).meta
        return list(meta.get(JOB_COMPONENTS, []))

    def configure_site_log(
        self, config: str, target_type: str = "server", client_names: Optional[list[str]] = None
    ) -> dict[str, str]:
        """FLARE 2.6 (console command; FLARE's Session has no method): reconfigure the logging of the server
        and/or clients with a log mode (``concise``, ``full``, ``verbose``, ``reload``) or a level. Returns
        each target's reply (``server`` → the server's line; a client → its answer)."""
        self._require("configure_site_log", "configure_site_log", FlareVersion.V2_6)
        args = ["configure_site_log", *self._log_targets(target_type, client_names), _log_config(config)]
        return _site_replies(self._do_command(join_command_line(args), enforce_meta=False))

    def configure_job_log(
        self, job_id: str, config: str, target_type: str = "server", client_names: Optional[list[str]] = None
    ) -> dict[str, str]:
        """FLARE 2.6 (console command): reconfigure the logging of a running job on the server and/or clients.
        Returns each target's reply; a job that is not running raises ``InternalError``."""
        self._require("configure_job_log", "configure_job_log", FlareVersion.V2_6)
        job_id = validate_job_id(job_id)
        args = ["configure_job_log", job_id, *self._log_targets(target_type, client_names), _log_config(config)]
        return _site_replies(self._do_command(join_command_line(args), enforce_meta=False))

    @staticmethod
    def _log_targets(target_type: str, client_names: Optional[list[str]]) -> list[str]:
        target = validate_target_type(target_type)
        if target == TargetType.CLIENT.value and client_names:
            return [target, *validate_client_names(client_names)]
        return [target]


def _log_config(config: object) -> str:
    if not isinstance(config, str) or not config or any(c.isspace() for c in config):
        raise InvalidArgumentError(f"config must be one word (a log mode, level or file), got {config!r}")
    return config
