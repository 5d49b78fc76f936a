"""A lock file that marks a workspace as owned by a running ``flare-harness serve``.

``serve`` creates ``<workspace>/.flare-harness.lock`` holding its pid and keeps an exclusive ``flock`` on
it until it exits (then removes it). ``provision`` and a second ``serve`` refuse the workspace while a
live process holds it; a file left behind by a dead process (killed with SIGKILL) is stale and taken over.
Where ``fcntl`` is missing (Windows) liveness falls back to checking the recorded pid.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".flare-harness.lock"


class WorkspaceBusy(RuntimeError):
    """Another live ``flare-harness serve`` owns the workspace; ``pid`` is its process id (or None)."""

    def __init__(self, workspace: Path, pid: Optional[int]) -> None:
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"workspace {workspace} is in use by a running 'flare-harness serve' ({who})")
        self.pid = pid


def _read_pid(path: Path) -> Optional[int]:
    try:
        return int(path.read_text(encoding="ascii").strip() or "x")
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner(workspace: Path) -> Optional[int]:
    """The pid of the live process holding ``workspace``'s lock, -1 if live but unknown; None when free or stale."""
    path = Path(workspace) / LOCK_NAME
    if not path.is_file():
        return None
    pid = _read_pid(path)
    if fcntl is None:  # pragma: no cover - Windows
        return pid if pid is not None and _pid_alive(pid) else None
    try:
        with open(path, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return pid if pid is not None else -1
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except FileNotFoundError:
        return None
    return None


def check_free(workspace: Path) -> None:
    """Raise :class:`WorkspaceBusy` if a live ``serve`` holds ``workspace`` (writes nothing)."""
    pid = owner(workspace)
    if pid is not None:
        raise WorkspaceBusy(Path(workspace), None if pid < 0 else pid)


class WorkspaceLock:
    """Hold ``workspace``'s lock for the life of a ``serve``; a stale lock file is taken over."""

    def __init__(self, workspace: Path) -> None:
        self.path = Path(workspace) / LOCK_NAME
        self._handle: Optional[IO[str]] = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`WorkspaceBusy`; the workspace folder must exist."""
        handle = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - held until release()
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise WorkspaceBusy(self.path.parent, _read_pid(self.path)) from None
            else:  # pragma: no cover - Windows
                pid = _read_pid(self.path)
                if pid is not None and pid != os.getpid() and _pid_alive(pid):
                    raise WorkspaceBusy(self.path.parent, pid)
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
        except BaseException:
            handle.close()
            raise
        self._handle = handle

    def release(self) -> None:
        """Remove the lock file and let go of the lock (idempotent)."""
        if self._handle is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._handle.close()
        self._handle = None

    def __enter__(self) -> WorkspaceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
