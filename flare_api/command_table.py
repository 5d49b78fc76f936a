"""The server's command list (the ``_commands`` table), read the way FLARE's client reads it.

The client only sends commands the server listed; rows whose CLIENTCMD is set are client-side
commands (``submit_job`` uploads a folder, ``download_job`` unpacks a zip) rather than server ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .wire import Document, ItemType

__all__ = ["DOWNLOAD_FOLDER", "UPLOAD_FOLDER", "CommandEntry", "CommandTable", "parse_command_table"]

UPLOAD_FOLDER = "file_transfer.upload_folder"
DOWNLOAD_FOLDER = "file_transfer.download_folder"


@dataclass(frozen=True)
class CommandEntry:
    """One row of the table."""

    scope: str
    name: str
    description: str
    usage: str
    confirm: str
    client_cmd: Optional[str]
    visible: bool

    @property
    def full_name(self) -> str:
        return f"{self.scope}.{self.name}"


class CommandTable:
    """Commands by bare and scoped name."""

    def __init__(self, entries: list[CommandEntry]) -> None:
        self.entries = list(entries)
        self._by_name: dict[str, list[CommandEntry]] = {}
        for entry in self.entries:
            self._by_name.setdefault(entry.name, []).append(entry)
            self._by_name.setdefault(entry.full_name, []).append(entry)

    def lookup(self, name: str) -> list[CommandEntry]:
        return list(self._by_name.get(name, []))

    def find(self, name: str) -> Optional[CommandEntry]:
        """The single entry for ``name``, or None if it is unknown or ambiguous."""
        entries = self.lookup(name)
        return entries[0] if len(entries) == 1 else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._by_name

    def __len__(self) -> int:
        return len(self.entries)


def parse_command_table(reply: Optional[Document]) -> Optional[CommandTable]:
    """The table from a ``_commands`` reply, or None where FLARE's client would fail its login.

    FLARE skips the header row, stops at the first row with fewer than five cells (which fails the
    login) and needs the visibility cell to be a string.
    """
    if reply is None:
        return None
    table = reply.first(ItemType.TABLE)
    if table is None or not table.rows:
        return None
    entries: list[CommandEntry] = []
    for row in table.rows[1:]:
        if len(row) < 5:
            return None
        scope, name, description, usage, confirm = row[:5]
        client_cmd = row[5] if len(row) > 5 else None
        visible = row[6] if len(row) > 6 else "True"
        if not isinstance(visible, str):
            return None
        if not isinstance(scope, str) or not isinstance(name, str):
            return None
        entries.append(
            CommandEntry(
                scope=scope,
                name=name,
                description=str(description or ""),
                usage=str(usage or ""),
                confirm=str(confirm or "none"),
                client_cmd=client_cmd if isinstance(client_cmd, str) and client_cmd else None,
                visible=visible.lower() in ("true", "yes"),
            )
        )
    return CommandTable(entries)
