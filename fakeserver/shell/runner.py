"""The entry points: validate a shell command, run it in the workspace, return what ``getoutput`` would.

It ties FLARE's join, the dash word splitter and the tools together; no process is ever started.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Optional

from ..protocol.refusals import FlareCrash
from .grep import _grep
from .ls import _ls
from .sh import _expand, _sh_words
from .text import _cat, _head_tail
from .validation import _check_command, _flare_join, validate
from .workspace import _Workspace


@dataclass(frozen=True)
class ShellResult:
    """One shell command's reply: a validation ``error`` item, or the ``output`` string item."""

    error: Optional[str] = None
    output: str = ""


def execute(
    command: str,
    args: list[str],
    root: Path,
    *,
    display_root: str,
    owner: str = "flare",
    group: str = "flare",
    now: Optional[float] = None,
    tz: Optional[tzinfo] = None,
) -> ShellResult:
    """Validate the wire args, then run the command in ``root``; see :func:`validate` and :func:`run`.

    Where FLARE itself crashes (a blank argument, output that is not UTF-8) :class:`FlareCrash` propagates.
    """
    error, rest = validate(command, args)
    if error is not None:
        return ShellResult(error=error)
    output = run(command, rest, root, display_root=display_root, owner=owner, group=group, now=now, tz=tz)
    return ShellResult(output=output)


def run(
    command: str,
    args: list[str],
    root: Path,
    *,
    display_root: str,
    owner: str = "flare",
    group: str = "flare",
    now: Optional[float] = None,
    tz: Optional[tzinfo] = None,
) -> str:
    """Run an already validated command (args after the target) in ``root``: what ``getoutput`` returns.

    ``pwd`` prints ``display_root``. ``ls -l`` shows ``owner``/``group`` and dates in ``tz`` (default:
    local time), recent meaning within six months before ``now`` (default: the clock). Output that is not
    UTF-8 raises :class:`FlareCrash` (UnicodeDecodeError), as FLARE's ``getoutput`` does.
    """
    _check_command(command)
    line = _flare_join([command, *args])
    try:
        encoded = os.fsencode(line)
    except UnicodeEncodeError as exc:  # Popen's own encoding of the command line
        raise FlareCrash(exc) from exc
    words = _sh_words(encoded)
    if isinstance(words, bytes):
        return _getoutput(words)
    workspace = _Workspace(
        root=os.fsencode(os.path.realpath(os.fspath(root))),
        owner=os.fsencode(owner),
        group=os.fsencode(group),
        now_ns=None if now is None else int(now * 1_000_000_000),
        tz=tz,
    )
    argv = _expand(workspace, words[1:])
    if command == "pwd":
        out = os.fsencode(display_root) + b"\n"
    elif command == "ls":
        out = _ls(workspace, argv)
    elif command == "cat":
        out = _cat(workspace, argv)
    elif command in ("head", "tail"):
        out = _head_tail(command, workspace, argv)
    else:
        out = _grep(workspace, argv)
    return _getoutput(out)


def _getoutput(raw: bytes) -> str:
    """``subprocess.getoutput``'s text: strict UTF-8, universal newlines, one trailing newline dropped."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FlareCrash(exc) from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text[:-1] if text.endswith("\n") else text
