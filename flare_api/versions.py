"""Which FLARE release series the server is, read from the ``_commands`` table it sends at login.

Each series changed the table (reference flare-2.4-2.6 section 3.1, checked against the real 2.4.2, 2.5.2
and 2.6.3 command modules): 2.4 added ``report_env`` and the ``pull_folder``/``pull_binary`` downloads,
2.5 made ``submit_job`` a binary ``push_folder`` and added ``app_command``, 2.6 added ``list_job``,
``download_job_components`` and the ``configure_*_log`` commands. The client picks its transfer framing
and error mapping from the series.
"""

from __future__ import annotations

import enum

from .command_table import CommandTable
from .errors import NotInFlareVersion

__all__ = ["PULL_BINARY", "PULL_FOLDER", "PUSH_FOLDER", "FlareVersion", "detect_flare_version", "require_series"]

PUSH_FOLDER = "file_transfer.push_folder"
PULL_FOLDER = "file_transfer.pull_folder"
PULL_BINARY = "file_transfer.pull_binary"

_V26_COMMANDS = ("list_job", "download_job_components", "configure_job_log", "configure_site_log")
_V24_COMMANDS = ("report_env", "download_job_file")


class FlareVersion(enum.Enum):
    """A FLARE release series of the socket era (2.3 to 2.6), ordered by release."""

    V2_3 = "2.3"
    V2_4 = "2.4"
    V2_5 = "2.5"
    V2_6 = "2.6"

    @classmethod
    def parse(cls, value: object) -> FlareVersion:
        """``"2.5"``, ``"2.5.2"`` or a ``FlareVersion``; anything else raises ``ValueError`` naming it."""
        if isinstance(value, FlareVersion):
            return value
        series = ".".join(str(value).strip().split(".")[:2])
        for version in cls:
            if version.value == series:
                return version
        raise ValueError(f"unsupported FLARE version {value!r}: choose one of {', '.join(v.value for v in cls)}")

    @property
    def key(self) -> tuple[int, int]:
        major, minor = self.value.split(".")
        return int(major), int(minor)

    def __lt__(self, other: FlareVersion) -> bool:
        return self.key < other.key

    def __le__(self, other: FlareVersion) -> bool:
        return self.key <= other.key

    def __gt__(self, other: FlareVersion) -> bool:
        return self.key > other.key

    def __ge__(self, other: FlareVersion) -> bool:
        return self.key >= other.key


def _client_cmds(table: CommandTable) -> set[str]:
    return {entry.client_cmd for entry in table.entries if entry.client_cmd}


def detect_flare_version(table: CommandTable) -> FlareVersion:
    """The newest series whose additions the table holds, else the one its removals point to, else 2.3.

    Additions: 2.6 ``list_job``/``configure_*_log``..., 2.5 ``app_command`` or a ``push_folder`` row, 2.4
    ``report_env`` or a ``pull_*`` row. Removals: 2.4 dropped ``set_timeout``, ``abort_task`` and ``dead``;
    2.5 brought ``dead`` back; 2.6 dropped ``start_app``. Every real 2.3.12 table lists ``set_timeout``.
    """
    names = {entry.name for entry in table.entries}
    client_cmds = _client_cmds(table)
    if any(name in names for name in _V26_COMMANDS):
        return FlareVersion.V2_6
    if PUSH_FOLDER in client_cmds or "app_command" in names:
        return FlareVersion.V2_5
    added_24 = PULL_FOLDER in client_cmds or PULL_BINARY in client_cmds or any(n in names for n in _V24_COMMANDS)
    if not added_24 and "set_timeout" in names:
        return FlareVersion.V2_3
    if "dead" not in names:
        return FlareVersion.V2_4
    return FlareVersion.V2_5 if "start_app" in names else FlareVersion.V2_6


def require_series(version: FlareVersion, since: FlareVersion, method: str, command: str) -> None:
    """Raise :class:`NotInFlareVersion` (before any I/O) if a ``version`` server lacks ``method``'s ``command``."""
    if version < since:
        raise NotInFlareVersion(
            f"{method} needs a FLARE {since.value} or newer server (command {command}); "
            f"this server is FLARE {version.value}, whose command table has no {command}"
        )
