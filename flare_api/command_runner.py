"""What the Session's method mixins rely on: the session core that sends commands and maps replies."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Optional

from .clock import Clock
from .command_table import CommandTable
from .startup_kit import StartupKit
from .types import SystemInfo
from .versions import FlareVersion
from .wire import Document
from .wire.transfer import TransferFraming


class CommandRunner:
    """Base of the mixins (jobs, system, shell, info); :class:`flare_api.Session` implements it."""

    clock: Clock
    kit: StartupKit
    upload_dir: str
    download_dir: str

    @abstractmethod
    def _do_command(
        self,
        line: str,
        *,
        enforce_meta: bool = True,
        check_known: bool = True,
        label: Optional[str] = None,
        props: Any = None,
    ) -> Document:
        """Send one command line (``props``: the request meta's ``cmd_props``); raise FLARE's exception for an
        error reply."""

    @abstractmethod
    def _command(self, *args: str, enforce_meta: bool = True) -> Document:
        """``_do_command`` of the safely joined ``args``."""

    @abstractmethod
    def _do_push(self, line: str, body: bytes, *, label: str) -> Document:
        """FLARE 2.5+'s binary push of ``line`` carrying ``body``; raise FLARE's exception for an error reply."""

    @abstractmethod
    def _do_pull(self, line: str, framing: TransferFraming, *, label: str) -> bytes:
        """FLARE 2.4+'s pull of one file in ``framing``; raise FLARE's exception if the server refused."""

    @property
    @abstractmethod
    def flare_version(self) -> FlareVersion:
        """The server's FLARE series, read from its command table at login."""

    @abstractmethod
    def do_command(self, command: str, *, raise_errors: bool = True) -> dict[str, Any]:
        """The raw reply of a command line, as FLARE's ``api.do_command`` gives it."""

    @property
    @abstractmethod
    def commands(self) -> CommandTable:
        """The server's command list, fetched at login."""

    @property
    @abstractmethod
    def closed(self) -> bool:
        """True once the session is closed."""

    @abstractmethod
    def get_system_info(self) -> SystemInfo:
        """``check_status server``, parsed."""
