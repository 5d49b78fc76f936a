"""Command-line tokenizing of the FLARE 2.3 admin protocol (reference section 3.6).

``split_command_line`` is the server's rule, reproduced exactly (quirks included). ``join_command_line``
is our client's rule: unlike FLARE's join it quotes safely, so ``split(join(args)) == args`` for every
list of non-empty arguments.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

__all__ = ["join_command_line", "split_command_line"]

_SPACE_RUNS = re.compile(" +")
# Characters shlex (POSIX mode) reads literally outside quotes.
_SHLEX_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./\-]+")


def split_command_line(line: str) -> list[str]:
    """Split a command line as FLARE's server does.

    With a ``"`` anywhere the line goes through ``shlex.split`` (which may raise ``ValueError``, e.g.
    ``No closing quotation``); otherwise runs of spaces collapse and the line is
    split on single spaces, so tabs are not separators and a leading space gives an empty first arg.
    """
    if '"' in line:
        return shlex.split(line)
    return _SPACE_RUNS.sub(" ", line).split(" ")


def join_command_line(args: Sequence[str]) -> str:
    """Build a command line that :func:`split_command_line` turns back into exactly ``args``.

    Plain arguments are joined with spaces, as FLARE does. If any argument holds a space or a double
    quote, the line must take the shlex path, so every argument that is not shlex-safe is wrapped in
    double quotes with ``\\`` and ``"`` escaped.
    """
    if not args:
        raise ValueError("a command line needs at least one argument (the command name)")
    for index, arg in enumerate(args):
        if not isinstance(arg, str):
            raise TypeError(f"command argument {index} must be str, got {type(arg).__name__}")
        if not arg:
            raise ValueError(f"command argument {index} is empty; FLARE's protocol cannot carry empty arguments")
    if not any(" " in arg or '"' in arg for arg in args):
        return " ".join(args)
    return " ".join(arg if _SHLEX_SAFE.fullmatch(arg) else _double_quote(arg) for arg in args)


def _double_quote(arg: str) -> str:
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
