"""FLARE 2.3's argument checks for the shell commands: its argparse validators, file rules and ``join_args``.

Errors and usage strings are FLARE's own texts, so a refused command reads exactly as on the real server.
"""

from __future__ import annotations

import argparse
import functools
import io
import posixpath
import re
from typing import Optional, Union

from ..protocol import messages as msg
from ..protocol.refusals import FlareCrash

SHELL_COMMANDS = ("pwd", "ls", "cat", "head", "tail", "grep")

# --- FLARE's validation texts (fakeserver.protocol.messages, shell section) --------------------------------------
MISSING_TARGET = msg.SHELL_MISSING_TARGET
NO_EXTRA_ARGS = msg.SHELL_NO_EXTRA_ARGS
ONLY_ONE_FILE = msg.SHELL_ONLY_ONE_FILE
UNSUPPORTED_FILE = msg.SHELL_UNSUPPORTED_FILE
ABSOLUTE_PATH = msg.SHELL_ABSOLUTE_PATH
DOTDOT_IN_PATH = msg.SHELL_DOTDOT_IN_PATH
TEXT_FILE_ONLY = msg.SHELL_TEXT_FILE_ONLY
ARGUMENT_ERROR = msg.SHELL_ARGUMENT_ERROR

# FLARE checks names with re.match, so "$" also matches before one trailing newline: "a.txt\n" passes.
_FILE_NAME = re.compile("^[A-Za-z0-9-._/]*$")
_TEXT_EXTENSIONS = (".txt", ".log", ".json", ".csv", ".sh", ".config", ".py")

# The argparse declarations FLARE's validators make: (flag, takes an int, help); then the positionals.
_OptionSpec = tuple[str, bool, Optional[str]]
_OPTIONS: dict[str, tuple[_OptionSpec, ...]] = {
    "ls": (
        ("-a", False, None),
        ("-l", False, "use a long listing format"),
        ("-t", False, "sort by modification time, newest first"),
        ("-S", False, "sort by file size, largest first"),
        ("-R", False, "list subdirectories recursively"),
        ("-u", False, "with -l: show access time, otherwise: sort by access time"),
    ),
    "cat": (
        ("-n", False, "number all output lines"),
        ("-b", False, "number nonempty output lines, overrides -n"),
        ("-s", False, "suppress repeated empty output lines"),
        ("-T", False, "display TAB characters as ^I"),
    ),
    "head": (
        ("-c", True, "print the first C bytes of each file"),
        ("-n", True, "print the first N lines instead of the first 10"),
    ),
    "tail": (("-c", True, "output the last C bytes"), ("-n", True, "output the last N lines")),
    "grep": (
        ("-n", False, "print line number with output lines"),
        ("-i", False, "ignore case distinctions"),
        ("-b", False, "print the byte offset with output lines"),
    ),
}


class _FlareArgParser(argparse.ArgumentParser):
    """argparse used as FLARE's ArgValidator does: no help option, and ``error`` records instead of exiting."""

    def __init__(self, prog: str) -> None:
        # Help width fixed at what a server without a terminal gets (80 columns, less argparse's 2).
        formatter = functools.partial(argparse.HelpFormatter, width=78)
        super().__init__(prog=prog, add_help=False, formatter_class=formatter)
        self.err = ""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Keep the last message and carry on, so a later error overwrites an earlier one (as in FLARE)."""
        self.err = message


def _parser(command: str) -> _FlareArgParser:
    parser = _FlareArgParser(command)
    for flag, takes_int, help_text in _OPTIONS[command]:
        if takes_int:
            parser.add_argument(flag, type=int, help=help_text)
        else:
            parser.add_argument(flag, action="store_true", help=help_text)
    if command == "grep":
        parser.add_argument("pattern", metavar="pattern", type=str)
    parser.add_argument("files", metavar="file", type=str, nargs="?" if command == "ls" else "+")
    return parser


def _check_command(command: str) -> None:
    if command not in SHELL_COMMANDS:
        raise ValueError(f"not a FLARE shell command: {command!r}")


def usage(command: str) -> str:
    """The USAGE column of ``_commands`` for ``command``, with this Python's argparse help wording."""
    _check_command(command)
    if command == "pwd":
        return msg.SHELL_USAGE_HEADS[command]
    buffer = io.StringIO()
    _parser(command).print_help(buffer)
    return msg.SHELL_USAGE_HEADS[command] + buffer.getvalue().split("\n", 1)[1]


def _flare_join(args: list[str]) -> str:
    """FLARE's join_args: one-word args lose surrounding whitespace, others get bare double quotes.

    An empty or all-whitespace arg crashes FLARE (IndexError), which its server sends as ``Exception Occurred``.
    """
    words = []
    for arg in args:
        parts = arg.split()
        if not parts:
            raise FlareCrash(IndexError("list index out of range"))
        words.append(parts[0] if len(parts) == 1 else f'"{arg}"')
    return " ".join(words)


#: Linux's limit on one ``execve`` argument: FLARE's ``getoutput`` passes the whole command line to
#: ``/bin/sh -c`` as one, so a longer line fails there with E2BIG.
MAX_COMMAND_LINE_BYTES = 128 * 1024
#: Ours: argparse is quadratic in the number of options, so after repeated flags are folded a command
#: may have at most this many arguments (answered like an over-long command line).
MAX_SHELL_ARGS = 1024


def _too_long() -> FlareCrash:
    return FlareCrash(OSError(7, "Argument list too long", "/bin/sh"))


def _fold_repeated_flags(command: str, args: list[str]) -> list[str]:
    """Drop a flag cluster (``-l``, ``-la``) equal to one earlier in the same run of flag clusters.

    Every flag of these commands that takes no value is ``store_true``, and a run of consecutive
    clusters is consumed the same whatever its repeats, so argparse's answer does not change: only its
    quadratic time in ``ls -l -l -l ...`` goes.
    """
    flags = "".join(flag[1] for flag, takes_int, _ in _OPTIONS[command] if not takes_int)
    if not flags:
        return args
    cluster = re.compile(f"-[{re.escape(flags)}]+")
    out: list[str] = []
    run: set[str] = set()
    for index, arg in enumerate(args):
        if arg == "--":
            return out + args[index:]
        if cluster.fullmatch(arg):
            if arg in run:
                continue
            run.add(arg)
        else:
            run = set()
        out.append(arg)
    return out


def validate(command: str, args: list[str]) -> tuple[Optional[str], list[str]]:
    """FLARE's checks in FLARE's order on the wire args (``[cmd, target, ...]``): (error or None, args after target).

    Raises :class:`FlareCrash` where FLARE itself crashes (an empty or blank argument, a command line
    longer than :data:`MAX_COMMAND_LINE_BYTES`) and, ours, for more than :data:`MAX_SHELL_ARGS` arguments.
    """
    _check_command(command)
    if len(args) < 2:
        return MISSING_TARGET, []
    rest = list(args[2:])
    line = _flare_join([command, *rest])
    if len(line.encode("utf-8", "surrogatepass")) > MAX_COMMAND_LINE_BYTES:
        raise _too_long()
    if command == "pwd":
        return (NO_EXTRA_ARGS if rest else None), rest
    folded = _fold_repeated_flags(command, rest)
    if len(folded) > MAX_SHELL_ARGS:
        raise _too_long()
    parser = _parser(command)
    try:
        parsed = parser.parse_args(folded)
    except Exception:  # FLARE's ArgValidator turns any parser crash into this text
        return ARGUMENT_ERROR, rest
    if parser.err:
        return parser.err, rest
    return _check_files(command, parsed.files), rest


def _check_files(command: str, files: Union[str, list[str], None]) -> Optional[str]:
    """FLARE's file rules; ``ls`` takes at most one name (argparse ``nargs='?'``), of any extension."""
    if command == "ls" and not files:
        return None
    names = files if isinstance(files, list) else [files or ""]
    if command != "ls" and len(names) != 1:
        return ONLY_ONE_FILE
    for name in names:
        if not _FILE_NAME.match(name):
            return UNSUPPORTED_FILE.format(file=name)
        if name.startswith("/"):
            return ABSOLUTE_PATH
        if ".." in name.split("/"):
            return DOTDOT_IN_PATH
        if command != "ls" and posixpath.splitext(name)[1] not in _TEXT_EXTENSIONS:
            return TEXT_FILE_ONLY.format(file=name)
    return None
