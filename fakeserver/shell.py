"""FLARE 2.3's admin shell commands (``pwd ls cat head tail grep``), emulated in pure Python inside one folder.

The real server checks the arguments, joins them into a line and runs it with ``subprocess.getoutput`` in
its workspace. We never start a process: the line goes through FLARE's join, a small ``/bin/sh`` (dash)
word splitter and Python versions of GNU coreutils 9.1 / grep 3.8, and the bytes they would print (stdout
and stderr in order) become text exactly as ``getoutput`` makes it.

The model is a server whose tools run with ``LC_ALL=C`` (bytes, ASCII quotes, byte-order sorting) and
whose Python decodes output as strict UTF-8. Known limits, all rare or unreachable through FLARE's checks:

* shell: quoting, ``#`` comments, dash's unterminated-quote error and globbing (``* ? [...]``, matched in
  the workspace; an absolute pattern matches nothing) are done; ``$`` and backquote expansions, ``~`` and
  operators (``; | & < > ( )``) are passed on literally, where the real server would run them.
* grep: GNU basic regular expressions as translated by :class:`_Bre`, with glibc's error texts; a repeat
  right after ``\\< \\> \\b \\B`` is not GNU's (its dfa quirk); no context output (``-5`` passes FLARE,
  then grep reads stdin, taken as empty); a file with a NUL anywhere is binary from its start (GNU looks
  per 32 KiB buffer); only the options FLARE lets through are known, others are ``invalid option``.
* ls: no ACL/SELinux marker and no device numbers; owner and group are the given names.
* files: FIFOs, sockets and devices read as empty (the real tools would block or stream).
* confinement: paths resolve inside ``root``; a symlink whose target is outside does not exist here
  (``No such file or directory``, left out of listings and globs); ``..`` of the root is the root, as in
  a chroot: no file or folder outside the root is ever opened or listed.
"""

from __future__ import annotations

import argparse
import errno
import functools
import io
import os
import posixpath
import re
import stat
import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Optional, Union

from . import messages as msg
from .dispatch import FlareCrash

__all__ = [
    "ABSOLUTE_PATH",
    "ARGUMENT_ERROR",
    "DOTDOT_IN_PATH",
    "MISSING_TARGET",
    "NO_EXTRA_ARGS",
    "ONLY_ONE_FILE",
    "SHELL_COMMANDS",
    "TEXT_FILE_ONLY",
    "UNSUPPORTED_FILE",
    "ShellResult",
    "execute",
    "run",
    "usage",
    "validate",
]

SHELL_COMMANDS = ("pwd", "ls", "cat", "head", "tail", "grep")

# --- FLARE's validation texts (fakeserver.messages, shell section) --------------------------------------
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


@dataclass(frozen=True)
class ShellResult:
    """One shell command's reply: a validation ``error`` item, or the ``output`` string item."""

    error: Optional[str] = None
    output: str = ""


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


def validate(command: str, args: list[str]) -> tuple[Optional[str], list[str]]:
    """FLARE's checks in FLARE's order on the wire args (``[cmd, target, ...]``): (error or None, args after target).

    Raises :class:`FlareCrash` where FLARE itself crashes (an empty or blank argument).
    """
    _check_command(command)
    if len(args) < 2:
        return MISSING_TARGET, []
    rest = list(args[2:])
    _flare_join([command, *rest])
    if command == "pwd":
        return (NO_EXTRA_ARGS if rest else None), rest
    parser = _parser(command)
    try:
        parsed = parser.parse_args(rest)
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


# --- /bin/sh (dash): quote removal, comments and pathname expansion -----------------------------------------
_SH_UNTERMINATED = b"/bin/sh: 1: Syntax error: Unterminated quoted string\n"
_SH_BLANKS = b" \t\n"
_DQ_ESCAPABLE = b'$`"\\\n'
_GLOB_CHARS = b"*?["


@dataclass
class _ShWord:
    """One shell word after quote removal, with a flag per byte telling whether it was quoted."""

    text: bytearray
    quoted: list[bool]

    def add(self, data: bytes, quoted: bool) -> None:
        self.text += data
        self.quoted += [quoted] * len(data)

    def has_glob(self) -> bool:
        return any(byte in _GLOB_CHARS and not quoted for byte, quoted in zip(self.text, self.quoted))


def _sh_words(line: bytes) -> Union[list[_ShWord], bytes]:
    """Split a command line into words as dash does (no parameter or command expansion); bytes = dash's error."""
    words: list[_ShWord] = []
    word: Optional[_ShWord] = None
    i, n = 0, len(line)
    while i < n:
        c = line[i : i + 1]
        if c in _SH_BLANKS:
            word = None
            i += 1
            continue
        if c == b"#" and word is None:
            break
        if word is None:
            word = _ShWord(bytearray(), [])
            words.append(word)
        if c == b"\\":
            if i + 1 >= n:
                word.add(c, False)
            elif line[i + 1 : i + 2] != b"\n":
                word.add(line[i + 1 : i + 2], True)
            i += 2
        elif c == b"'":
            end = line.find(b"'", i + 1)
            if end < 0:
                return _SH_UNTERMINATED
            word.add(line[i + 1 : end], True)
            i = end + 1
        elif c == b'"':
            i = _sh_double_quoted(line, i + 1, word)
            if i > n:
                return _SH_UNTERMINATED
        else:
            word.add(c, False)
            i += 1
    return words


def _sh_double_quoted(line: bytes, i: int, word: _ShWord) -> int:
    """Add a ``"..."`` body starting at ``i`` to ``word``; the index after the closing quote (> len: unclosed)."""
    n = len(line)
    while i < n and line[i : i + 1] != b'"':
        if line[i : i + 1] == b"\\" and i + 1 < n and line[i + 1 : i + 2] in _DQ_ESCAPABLE:
            if line[i + 1 : i + 2] != b"\n":
                word.add(line[i + 1 : i + 2], True)
            i += 2
        else:
            word.add(line[i : i + 1], True)
            i += 1
    return i + 1 if i < n else n + 1


def _expand(workspace: _Workspace, words: list[_ShWord]) -> list[bytes]:
    """The argv after dash's pathname expansion, matched against the workspace only."""
    argv: list[bytes] = []
    for word in words:
        matches = _glob(workspace, word) if word.has_glob() else []
        argv += matches or [bytes(word.text)]
    return argv


def _glob(workspace: _Workspace, word: _ShWord) -> list[bytes]:
    """Sorted workspace paths matching the word; an absolute pattern matches nothing (we never look outside)."""
    if word.text.startswith(b"/"):
        return []
    paths = [b""]
    start = 0
    for end in [*(i for i, byte in enumerate(word.text) if byte == 0x2F), len(word.text)]:
        part = _ShWord(word.text[start:end], word.quoted[start:end])
        start = end + 1
        if not part.has_glob():
            paths = [path + b"/" + part.text if path else bytes(part.text) for path in paths]
            continue
        pattern = _glob_regex(part)
        hidden_ok = part.text.startswith(b".")
        found = []
        for path in paths:
            for name in _glob_names(workspace, path, hidden_ok):
                if pattern.fullmatch(name) and (hidden_ok or not name.startswith(b".")):
                    found.append(path + b"/" + name if path else name)
        paths = found
    return sorted(path for path in paths if _exists(workspace, path))


def _glob_names(workspace: _Workspace, path: bytes, with_dots: bool) -> list[bytes]:
    """Names in a workspace directory for globbing (dash's readdir shows ``.`` and ``..`` too)."""
    try:
        directory = workspace.locate(path or b".", follow=True)
        names = os.listdir(directory)
    except OSError:
        return []
    names = [name for name in names if not workspace.escapes(os.path.join(directory, name))]
    return [b".", b"..", *names] if with_dots else names


def _exists(workspace: _Workspace, path: bytes) -> bool:
    try:
        os.lstat(workspace.locate(path, follow=path.endswith(b"/")))
    except OSError:
        return False
    return True


def _glob_regex(part: _ShWord) -> re.Pattern[bytes]:
    """A shell pattern (one path component) as a Python regex: ``* ? [...]`` with ``!`` negation."""
    out = bytearray()
    text, i = bytes(part.text), 0
    while i < len(text):
        char = text[i : i + 1]
        if not part.quoted[i] and char == b"*":
            out += b".*"
        elif not part.quoted[i] and char == b"?":
            out += b"."
        elif not part.quoted[i] and char == b"[":
            members, after = _glob_bracket(text, i + 1)
            if after:
                out += _class_pattern(members)
                i = after
                continue
            out += re.escape(char)
        else:
            out += re.escape(char)
        i += 1
    return re.compile(bytes(out), re.DOTALL)


def _glob_bracket(text: bytes, i: int) -> tuple[set[int], int]:
    """The bytes a shell ``[...]`` (from after its ``[``) matches, and the index after it (0: not a class)."""
    negate = text[i : i + 1] == b"!"
    i += 1 if negate else 0
    members: set[int] = set()
    first = i
    while i < len(text):
        if text[i : i + 1] == b"]" and i > first:
            return (set(range(256)) - members if negate else members), i + 1
        if text[i : i + 2] == b"[:" and text.find(b":]", i + 2) > 0:
            end = text.find(b":]", i + 2)
            members |= _CHAR_CLASSES.get(text[i + 2 : end], frozenset())
            i = end + 2
        elif text[i + 1 : i + 2] == b"-" and text[i + 2 : i + 3] not in (b"", b"]"):
            members |= set(range(text[i], text[i + 2] + 1))
            i += 3
        else:
            members.add(text[i])
            i += 1
    return set(), 0


# --- the workspace: confinement, errors, quoting -----------------------------------------------------------
_REASONS = {
    errno.ENOENT: "No such file or directory",
    errno.ENOTDIR: "Not a directory",
    errno.EACCES: "Permission denied",
    errno.EPERM: "Operation not permitted",
    errno.EISDIR: "Is a directory",
    errno.ELOOP: "Too many levels of symbolic links",
    errno.ENAMETOOLONG: "File name too long",
}


def _reason(exc: OSError) -> bytes:
    """GNU's (glibc's) text for an errno."""
    text = _REASONS.get(exc.errno or 0) or os.strerror(exc.errno or 0)
    return text.encode()


def _missing() -> OSError:
    return FileNotFoundError(errno.ENOENT, _REASONS[errno.ENOENT])


@dataclass(frozen=True)
class _Workspace:
    """The folder the commands run in, and how ``ls -l`` presents it."""

    root: bytes
    owner: bytes
    group: bytes
    now_ns: Optional[int]
    tz: Optional[tzinfo]

    def contains(self, path: bytes) -> bool:
        """Whether an absolute, symlink-free path is the root or below it."""
        return path == self.root or path.startswith(self.root.rstrip(b"/") + b"/")

    def escapes(self, path: bytes) -> bool:
        """Whether ``path`` (inside root) is a symlink whose final target lies outside the root."""
        return os.path.islink(path) and not self.contains(os.path.realpath(path))

    def locate(self, name: bytes, follow: bool) -> bytes:
        """The real path of ``name`` below root; raises ENOENT when it would leave the root.

        With ``follow`` (or a trailing ``/``, ``.`` or empty last part) every symlink is resolved; without,
        the last component stays as it is but must not be a symlink to outside.
        """
        if name.startswith(b"/"):
            raise _missing()
        head, tail = posixpath.split(name)
        if follow or tail in (b"", b".", b".."):
            real = os.path.realpath(os.path.join(self.root, name))
            if not self.contains(real):
                if set(name.split(b"/")) <= {b"", b".", b".."}:
                    return self.root  # like a chroot: ".." of the root (only a glob can produce it) is the root
                raise _missing()
            if name.endswith(b"/") and os.path.exists(real) and not os.path.isdir(real):
                raise NotADirectoryError(errno.ENOTDIR, _REASONS[errno.ENOTDIR])
            return real
        parent = os.path.realpath(os.path.join(self.root, head))
        if not self.contains(parent):
            raise _missing()
        path = os.path.join(parent, tail)
        if self.escapes(path):
            raise _missing()
        return path

    def parent_of(self, directory: bytes) -> bytes:
        """``..`` of a directory below root; the root's own ``..`` is shown as the root."""
        return directory if directory == self.root else os.path.dirname(directory)

    def now(self) -> int:
        return time.time_ns() if self.now_ns is None else self.now_ns


def _read(path: bytes) -> bytes:
    """Bytes of a resolved regular file; a directory raises EISDIR, other special files read as empty."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    with open(os.open(path, flags), "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, _REASONS[errno.EISDIR])
        return handle.read() if stat.S_ISREG(mode) else b""


_SHELL_SAFE = re.compile(rb"[A-Za-z0-9%+,\-./:=@_^]+")


def _quote_always(name: bytes) -> bytes:
    """GNU's ``quoteaf``: the name in single quotes (an inner ``'`` written as ``'\\''``)."""
    return b"'" + name.replace(b"'", b"'\\''") + b"'"


def _quote_if_needed(name: bytes) -> bytes:
    """GNU's ``quotef``: plain when shell-safe, else quoted."""
    return name if _SHELL_SAFE.fullmatch(name) else _quote_always(name)


_C_ESCAPES = {7: b"\\a", 8: b"\\b", 9: b"\\t", 10: b"\\n", 11: b"\\v", 12: b"\\f", 13: b"\\r"}


def _quote_c(text: bytes) -> bytes:
    """GNU's ``quote`` in the C locale: single quotes, C escapes, octal for other unprintable bytes."""
    out = bytearray(b"'")
    for byte in text:
        if byte in (0x27, 0x5C):
            out += b"\\" + bytes([byte])
        elif 0x20 <= byte < 0x7F:
            out.append(byte)
        else:
            out += _C_ESCAPES.get(byte) or b"\\%03o" % byte
    return bytes(out + b"'")


# --- GNU getopt (with argument permutation) -----------------------------------------------------------------
_Options = list[tuple[str, Optional[bytes]]]
_TRY_HELP = b"Try '%s --help' for more information.\n"
_GREP_USAGE = b"Usage: grep [OPTION]... PATTERNS [FILE]...\n"


def _usage_error(tool: str, message: bytes) -> bytes:
    prefix = tool.encode()
    usage_line = _GREP_USAGE if tool == "grep" else b""
    return prefix + b": " + message + b"\n" + usage_line + _TRY_HELP % prefix


def _getopt(tool: str, argv: list[bytes], flags: str, valued: str = "") -> Union[tuple[_Options, list[bytes]], bytes]:
    """Options (in order) and operands as GNU getopt sees them; bytes = the tool's usage error output."""
    options: _Options = []
    operands: list[bytes] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == b"--":
            operands.extend(argv[i:])
            break
        if arg.startswith(b"--"):
            return _usage_error(tool, b"unrecognized option " + _quote_always(arg))
        if not arg.startswith(b"-") or arg == b"-":
            operands.append(arg)
            continue
        j = 1
        while j < len(arg):
            char = chr(arg[j])
            j += 1
            if char in valued:
                if j < len(arg):
                    options.append((char, arg[j:]))
                elif i < len(argv):
                    options.append((char, argv[i]))
                    i += 1
                else:
                    return _usage_error(tool, b"option requires an argument -- '%s'" % char.encode("latin-1"))
                break
            if char not in flags:
                return _usage_error(tool, b"invalid option -- '%s'" % bytes([arg[j - 1]]))
            options.append((char, None))
    return options, operands


# --- ls -------------------------------------------------------------------------------------------------
_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")
_SIX_MONTHS_NS = 31556952 // 2 * 1_000_000_000  # half a mean Gregorian year, GNU ls's "recent"


@dataclass(frozen=True)
class _Entry:
    """One line of a listing: the name shown, the real path, its (l)stat and a symlink's target text."""

    name: bytes
    path: bytes
    st: os.stat_result
    target: Optional[bytes] = None


def _ls(workspace: _Workspace, argv: list[bytes]) -> bytes:
    """GNU ls with -a -l -t -S -R -u -1, one name per line (stdout is not a terminal)."""
    parsed = _getopt("ls", argv, flags="altSRu1")
    if isinstance(parsed, bytes):
        return parsed
    options, operands = parsed
    return _Ls(workspace, [char for char, _ in options]).run(operands or [b"."])


class _Ls:
    """One ls run: the options (later -t/-S win; -u alone sorts by access time), and the output so far."""

    def __init__(self, workspace: _Workspace, chars: list[str]) -> None:
        self.ws = workspace
        self.all, self.long, self.recursive, self.atime = ("a" in chars, "l" in chars, "R" in chars, "u" in chars)
        sort_flags = [char for char in chars if char in "tS"]
        self.sort = {"t": "time", "S": "size"}[sort_flags[-1]] if sort_flags else "name"
        if self.sort == "name" and self.atime and not self.long:
            self.sort = "time"
        self.out = bytearray()
        self.first = True

    def run(self, names: list[bytes]) -> bytes:
        files, dirs = self._operands(names)
        if files:
            self._print_entries(self._sorted(files))
            if dirs:
                self.out += b"\n"
        show_names = len(names) > 1 or self.recursive
        for entry in self._sorted(dirs):
            self._print_dir(entry.name, entry.path, show_names)
        return bytes(self.out)

    def _operands(self, names: list[bytes]) -> tuple[list[_Entry], list[_Entry]]:
        """Stat each operand (errors printed at once); split into files and directories to list."""
        files: list[_Entry] = []
        dirs: list[_Entry] = []
        for name in names:
            try:
                entry = self._operand(name)
            except OSError as exc:
                self.out += b"ls: cannot access " + _quote_always(name) + b": " + _reason(exc) + b"\n"
                continue
            is_dir = stat.S_ISDIR(entry.st.st_mode)
            (dirs if is_dir else files).append(entry)
        return files, dirs

    def _operand(self, name: bytes) -> _Entry:
        if not self.long:  # a command-line symlink to a directory is followed unless -l
            try:
                real = self.ws.locate(name, follow=True)
                st = os.stat(real)
                if stat.S_ISDIR(st.st_mode):
                    return _Entry(name, real, st)
            except OSError:
                pass
        path = self.ws.locate(name, follow=False)
        st = os.lstat(path)
        target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
        return _Entry(name, path, st, target)

    def _children(self, directory: bytes) -> list[_Entry]:
        entries: list[_Entry] = []
        if self.all:
            parent = self.ws.parent_of(directory)
            entries += [_Entry(b".", directory, os.stat(directory)), _Entry(b"..", parent, os.stat(parent))]
        for name in os.listdir(directory):
            if name.startswith(b".") and not self.all:
                continue
            path = os.path.join(directory, name)
            try:
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    if self.ws.escapes(path):
                        continue
                    entries.append(_Entry(name, path, st, os.readlink(path)))
                else:
                    entries.append(_Entry(name, path, st))
            except OSError:  # vanished while we looked
                continue
        return self._sorted(entries)

    def _print_dir(self, shown: bytes, directory: bytes, show_name: bool) -> None:
        try:
            entries = self._children(directory)
        except OSError as exc:
            self.out += b"ls: cannot open directory " + _quote_always(shown) + b": " + _reason(exc) + b"\n"
            return
        if show_name:
            if not self.first:
                self.out += b"\n"
            self.out += shown + b":\n"
        self.first = False
        if self.long:
            blocks = sum(_blocks(entry.st) for entry in entries)
            self.out += b"total %d\n" % ((blocks + 1) // 2)
        self._print_entries(entries)
        if self.recursive:
            for entry in entries:
                if stat.S_ISDIR(entry.st.st_mode) and entry.name not in (b".", b".."):
                    joined = shown + entry.name if shown.endswith(b"/") else shown + b"/" + entry.name
                    self._print_dir(joined, entry.path, True)

    def _time_ns(self, entry: _Entry) -> int:
        return entry.st.st_atime_ns if self.atime else entry.st.st_mtime_ns

    def _sorted(self, entries: list[_Entry]) -> list[_Entry]:
        ordered = sorted(entries, key=lambda entry: entry.name)
        if self.sort == "time":
            ordered.sort(key=lambda entry: -self._time_ns(entry))
        elif self.sort == "size":
            ordered.sort(key=lambda entry: -entry.st.st_size)
        return ordered

    def _print_entries(self, entries: list[_Entry]) -> None:
        if not self.long:
            for entry in entries:
                self.out += entry.name + b"\n"
            return
        links = max((len(str(entry.st.st_nlink)) for entry in entries), default=1)
        sizes = max((len(str(entry.st.st_size)) for entry in entries), default=1)
        for entry in entries:
            line = b"%s %*d %s %s %*d %s %s" % (
                stat.filemode(entry.st.st_mode).encode(),
                links,
                entry.st.st_nlink,
                self.ws.owner,
                self.ws.group,
                sizes,
                entry.st.st_size,
                self._date(self._time_ns(entry)),
                entry.name,
            )
            self.out += line + (b" -> " + entry.target if entry.target is not None else b"") + b"\n"

    def _date(self, when_ns: int) -> bytes:
        """``Mon dd HH:MM`` within the last six months, else ``Mon dd  YYYY`` (C locale)."""
        now = self.ws.now()
        if when_ns > now and self.ws.now_ns is None:
            now = time.time_ns()  # GNU re-reads the clock for a file from the future
        seconds = when_ns // 1_000_000_000
        try:
            tz = self.ws.tz
            stamp = time.localtime(seconds) if tz is None else datetime.fromtimestamp(seconds, tz).timetuple()
            year, month, day, hour, minute = stamp[:5]
        except (OverflowError, ValueError, OSError):
            return b"%d" % seconds
        if now - _SIX_MONTHS_NS < when_ns < now:
            return b"%s %2d %02d:%02d" % (_MONTHS[month - 1], day, hour, minute)
        return b"%s %2d  %d" % (_MONTHS[month - 1], day, year)


def _blocks(st: os.stat_result) -> int:
    """512-byte blocks in use (estimated from the size where the platform has no st_blocks)."""
    blocks = getattr(st, "st_blocks", None)
    return blocks if blocks is not None else -(-st.st_size // 4096) * 8


# --- cat, head, tail --------------------------------------------------------------------------------------
def _lines(data: bytes) -> list[bytes]:
    """Lines with their newlines; a last line without one counts too."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _cat(workspace: _Workspace, argv: list[bytes]) -> bytes:
    """GNU cat with -n -b -s -T; line numbers and squeezing run on across files, as in GNU."""
    parsed = _getopt("cat", argv, flags="nbsT")
    if isinstance(parsed, bytes):
        return parsed
    options, operands = parsed
    chars = {char for char, _ in options}
    out = bytearray()
    number = 0
    previous_blank = False
    for name in operands:
        try:
            data = _read(workspace.locate(name, follow=True))
        except OSError as exc:
            out += b"cat: " + _quote_if_needed(name) + b": " + _reason(exc) + b"\n"
            continue
        for line in _lines(data):
            blank = line == b"\n"
            if "s" in chars and blank and previous_blank:
                continue
            previous_blank = blank
            if ("b" in chars and not blank) or ("n" in chars and "b" not in chars):
                number += 1
                out += b"%6d\t" % number
            out += line.replace(b"\t", b"^I") if "T" in chars else line
    return bytes(out)


_C_SPACES = b" \t\n\v\f\r"
_COUNT = re.compile(rb"\+?([0-9]+)")
_UINTMAX = 2**64 - 1


def _count(tool: str, option: str, text: bytes) -> Union[int, bytes]:
    """GNU's unsigned count (xdectoumax) of ``text``; bytes = the tool's error output."""
    digits = _COUNT.fullmatch(text.lstrip(_C_SPACES))
    unit = b"lines" if option == "n" else b"bytes"
    message = tool.encode() + b": invalid number of " + unit + b": " + _quote_c(text)
    if digits is None:
        return message + b"\n"
    value = int(digits.group(1))
    if value > _UINTMAX:
        return message + b": Value too large for defined data type\n"
    return value


def _head_tail(tool: str, workspace: _Workspace, argv: list[bytes]) -> bytes:
    """GNU head/tail with -c/-n (the last one wins): ``-N`` elides (head), ``+N`` counts from the start (tail)."""
    parsed = _getopt(tool, argv, flags="", valued="cn")
    if isinstance(parsed, bytes):
        return parsed
    options, operands = parsed
    mode, count, signed = "n", 10, ""
    for option, value in options:
        assert value is not None
        sign = value[:1] if value[:1] in (b"-", b"+") else b""
        stripped = value[1:] if sign == b"-" else value
        parsed_count = _count(tool, option, stripped)
        if isinstance(parsed_count, bytes):
            return parsed_count
        mode, count, signed = option, parsed_count, sign.decode()
    out = bytearray()
    for index, name in enumerate(operands):
        if len(operands) > 1:
            out += (b"\n" if index else b"") + b"==> " + name + b" <==\n"
        try:
            path = workspace.locate(name, follow=True)
        except OSError as exc:
            out += b"%s: cannot open %s for reading: %s\n" % (tool.encode(), _quote_always(name), _reason(exc))
            continue
        try:
            data = _read(path)
        except IsADirectoryError as exc:
            out += b"%s: error reading %s: %s\n" % (tool.encode(), _quote_always(name), _reason(exc))
            continue
        except OSError as exc:
            out += b"%s: cannot open %s for reading: %s\n" % (tool.encode(), _quote_always(name), _reason(exc))
            continue
        out += _head_part(data, mode, count, signed == "-") if tool == "head" else _tail_part(data, mode, count, signed)
    return bytes(out)


def _head_part(data: bytes, mode: str, count: int, elide: bool) -> bytes:
    if mode == "c":
        return data[: max(len(data) - count, 0)] if elide else data[:count]
    lines = _lines(data)
    return b"".join(lines[: max(len(lines) - count, 0)] if elide else lines[:count])


def _tail_part(data: bytes, mode: str, count: int, sign: str) -> bytes:
    if sign == "+":
        start = max(count - 1, 0)
        return data[start:] if mode == "c" else b"".join(_lines(data)[start:])
    if count == 0:
        return b""
    return data[-count:] if mode == "c" else b"".join(_lines(data)[-count:])


# --- grep -------------------------------------------------------------------------------------------------
def _grep(workspace: _Workspace, argv: list[bytes]) -> bytes:
    """GNU grep with -n -i -b and a basic regular expression; newlines in PATTERN separate patterns."""
    parsed = _getopt("grep", argv, flags="nib0123456789")
    if isinstance(parsed, bytes):
        return parsed
    options, operands = parsed
    if not operands:
        return _GREP_USAGE + _TRY_HELP % b"grep"
    chars = {char for char, _ in options}
    try:
        patterns = [_Bre(part, "i" in chars).compile() for part in operands[0].split(b"\n")]
    except _RegexError as exc:
        return b"grep: " + str(exc).encode() + b"\n"
    out = bytearray()
    files = operands[1:]  # none: grep reads stdin, which a server has empty
    for name in files:
        try:
            data = _read(workspace.locate(name, follow=True))
        except OSError as exc:
            out += b"grep: " + _quote_if_needed(name) + b": " + _reason(exc) + b"\n"
            continue
        prefix = name + b":" if len(files) > 1 else b""
        out += _grep_data(data, patterns, chars, prefix, name)
    return bytes(out)


def _grep_data(data: bytes, patterns: list[re.Pattern[bytes]], chars: set[str], prefix: bytes, name: bytes) -> bytes:
    out = bytearray()
    binary = b"\0" in data
    offset = 0
    for number, line in enumerate(_lines(data), start=1):
        text = line[:-1] if line.endswith(b"\n") else line
        if any(pattern.search(text) for pattern in patterns):
            if binary:
                return bytes(out) + b"grep: " + _quote_if_needed(name) + b": binary file matches\n"
            out += prefix
            if "n" in chars:
                out += b"%d:" % number
            if "b" in chars:
                out += b"%d:" % offset
            out += text + b"\n"
        offset += len(line)
    return bytes(out)


class _RegexError(Exception):
    """A pattern GNU grep refuses; the message is glibc's (or grep's dfa) text."""


_RE_DUP_MAX = 0x7FFF
_UNMATCHED_BRACE = "Unmatched \\{"
_BAD_INTERVAL = "Invalid content of \\{\\}"
_BRACKET_UNMATCHED = "Unmatched [, [^, [:, [., or [="
_COLON_SYNTAX = "character class syntax is [[:space:]], not [:space:]"


def _byte_set(*ranges: tuple[int, int]) -> frozenset[int]:
    return frozenset(byte for low, high in ranges for byte in range(low, high + 1))


_UPPER = _byte_set((0x41, 0x5A))
_LOWER = _byte_set((0x61, 0x7A))
_DIGIT = _byte_set((0x30, 0x39))
_PUNCT = _byte_set((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E))
_CHAR_CLASSES: dict[bytes, frozenset[int]] = {
    b"alpha": _UPPER | _LOWER,
    b"upper": _UPPER,
    b"lower": _LOWER,
    b"digit": _DIGIT,
    b"xdigit": _DIGIT | _byte_set((0x41, 0x46), (0x61, 0x66)),
    b"alnum": _UPPER | _LOWER | _DIGIT,
    b"punct": _PUNCT,
    b"space": _byte_set((0x09, 0x0D), (0x20, 0x20)),
    b"blank": _byte_set((0x09, 0x09), (0x20, 0x20)),
    b"cntrl": _byte_set((0x00, 0x1F), (0x7F, 0x7F)),
    b"graph": _byte_set((0x21, 0x7E)),
    b"print": _byte_set((0x20, 0x7E)),
}
_ESCAPE_ASSERTIONS = {
    b"<": rb"\b(?=\w)",
    b">": rb"\b(?<=\w)",
    b"b": rb"\b",
    b"B": rb"\B",
    b"`": rb"\A",
    b"'": rb"\Z",
}
_ESCAPE_CLASSES = {b"w": rb"\w", b"W": rb"\W", b"s": rb"\s", b"S": rb"\S"}


def _swapcase(members: set[int]) -> set[int]:
    return {ord(chr(byte).swapcase()) for byte in members if chr(byte).isalpha() and byte < 0x80}


def _class_pattern(members: set[int]) -> bytes:
    """A Python class for exactly these bytes (a class that can match nothing never matches)."""
    if not members:
        return rb"(?!)"
    parts = []
    ordered = sorted(members)
    start = previous = ordered[0]
    for byte in [*ordered[1:], None]:
        if byte is not None and byte == previous + 1:
            previous = byte
            continue
        parts.append(b"\\x%02x" % start if start == previous else b"\\x%02x-\\x%02x" % (start, previous))
        if byte is not None:
            start = previous = byte
    return b"[" + b"".join(parts) + b"]"


class _Bre:
    """Translate one GNU basic regular expression (C locale) into a Python ``re`` pattern.

    Atoms are kept as (python text, kind) so repeats of repeats and of assertions get a group around them;
    back references follow glibc: only to groups closed earlier in the same alternative.
    """

    def __init__(self, pattern: bytes, icase: bool) -> None:
        self.p = pattern
        self.i = 0
        self.icase = icase
        self.groups = 0
        self.closed: set[int] = set()
        self.colon_error = False

    def compile(self) -> re.Pattern[bytes]:
        text = self._alternation(depth=0)
        if self.colon_error:
            raise _RegexError(_COLON_SYNTAX)
        flags = re.DOTALL | (re.IGNORECASE if self.icase else 0)
        try:
            return re.compile(text, flags)
        except re.error as exc:  # a translation gap: say so in grep's words
            raise _RegexError("Invalid regular expression") from exc

    def _peek(self, length: int = 1) -> bytes:
        return self.p[self.i : self.i + length]

    def _alternation(self, depth: int) -> bytes:
        start_closed = set(self.closed)
        branches = [self._branch()]
        finished = set(self.closed)
        while self._peek(2) == b"\\|":
            self.i += 2
            self.closed = set(start_closed)
            branches.append(self._branch())
            finished |= self.closed
        self.closed = finished
        if self._peek(2) == b"\\)" and depth == 0:
            raise _RegexError("Unmatched ) or \\)")
        return b"|".join(branches)

    def _branch(self) -> bytes:
        items: list[tuple[bytes, str]] = []
        while self.i < len(self.p):
            two = self._peek(2)
            if two in (b"\\|", b"\\)"):
                break
            at_start = not items or items == [(b"^", "anchor")]
            char = self._peek()
            if char == b"\\":
                self._escape(items, at_start)
            elif char == b"[":
                self.i += 1
                items.append((self._bracket(), "atom"))
            elif char == b"*" and not at_start:
                self.i += 1
                self._repeat(items, b"*")
            elif char == b"^" and not items:
                self.i += 1
                items.append((b"^", "anchor"))
            elif char == b"$" and self.p[self.i + 1 : self.i + 3] in (b"", b"\\)", b"\\|"):
                self.i += 1
                items.append((rb"\Z", "anchor"))
            else:
                self.i += 1
                items.append((b"." if char == b"." else re.escape(char), "atom"))
        return b"".join(text for text, _ in items)

    def _repeat(self, items: list[tuple[bytes, str]], quantifier: bytes) -> None:
        text, kind = items.pop()
        if kind != "atom":
            text = b"(?:" + text + b")"
        items.append((text + quantifier, "repeated"))

    def _escape(self, items: list[tuple[bytes, str]], at_start: bool) -> None:
        if self.i + 1 >= len(self.p):
            raise _RegexError("Trailing backslash")
        char = self.p[self.i + 1 : self.i + 2]
        self.i += 2
        if char == b"(":
            self.groups += 1
            number = self.groups
            inner = self._alternation(depth=1)
            if self._peek(2) != b"\\)":
                raise _RegexError("Unmatched ( or \\(")
            self.i += 2
            self.closed.add(number)
            items.append((b"(" + inner + b")", "atom"))
        elif char == b"{" and not at_start:
            self._repeat(items, self._interval())
        elif char in (b"+", b"?") and not at_start:
            self._repeat(items, char)
        elif char.isdigit() and char != b"0":
            if int(char) not in self.closed:
                raise _RegexError("Invalid back reference")
            items.append((b"(?:\\" + char + b")", "atom"))
        elif char in _ESCAPE_ASSERTIONS:
            items.append((_ESCAPE_ASSERTIONS[char], "anchor"))
        elif char in _ESCAPE_CLASSES:
            items.append((_ESCAPE_CLASSES[char], "atom"))
        else:  # any other escaped byte stands for itself
            items.append((re.escape(char), "atom"))

    def _interval(self) -> bytes:
        """``\\{m,n\\}`` (after the ``\\{``) as a Python repeat, with glibc's errors for bad ones."""
        low, low_bad, stop = self._interval_number()
        if stop == b"":
            raise _RegexError(_UNMATCHED_BRACE)
        if low_bad or (low is None and stop == b"\\}"):
            raise _RegexError(_BAD_INTERVAL)
        high: Optional[int] = low
        if stop == b",":
            high, high_bad, stop = self._interval_number()
            if stop == b"":
                raise _RegexError(_UNMATCHED_BRACE)
            if high_bad or stop == b",":
                raise _RegexError(_BAD_INTERVAL)
        low = low or 0
        if high is not None and low > high:
            raise _RegexError(_BAD_INTERVAL)
        if max(low, high or 0) > _RE_DUP_MAX:
            raise _RegexError("Regular expression too big")
        if high is None:
            return b"{%d,}" % low
        return b"{%d}" % low if low == high else b"{%d,%d}" % (low, high)

    def _interval_number(self) -> tuple[Optional[int], bool, bytes]:
        """Read tokens up to ``,`` or ``\\}``: (number or None, whether a non-digit came, the stop or b"")."""
        value: Optional[int] = None
        bad = False
        while self.i < len(self.p):
            token = self._peek(2) if self._peek() == b"\\" else self._peek()
            self.i += len(token)
            if token in (b",", b"\\}"):
                return value, bad, token
            if len(token) == 1 and token.isdigit():
                value = min((value or 0) * 10 + int(token), _RE_DUP_MAX + 1)
            else:
                bad = True
        return value, bad, b""

    def _bracket(self) -> bytes:
        """Parse ``[...]`` (after the ``[``) into an explicit byte class, with glibc's and dfa's errors."""
        negate = self._peek() == b"^"
        if negate:
            self.i += 1
        members: set[int] = set()
        plain: list[int] = []  # plain one-byte members, for dfa's "[:space:]" check
        special = False
        while True:
            if self.i >= len(self.p):
                raise _RegexError(_BRACKET_UNMATCHED if plain or special else "Invalid regular expression")
            if self._peek() == b"]" and (plain or special):
                self.i += 1
                break
            kind, value = self._bracket_element()
            if kind == "class" or (self._range_dash() and self.i + 1 < len(self.p)):
                special = True
                if kind != "class":
                    self.i += 1
                    end_kind, end_value = self._bracket_element()
                    if end_kind == "class" or min(end_value) < min(value):
                        raise _RegexError("Invalid range end")
                    value = set(range(min(value), min(end_value) + 1))
                members |= value
                if self._range_dash():
                    raise _RegexError("Invalid range end")
                continue
            special = special or kind == "coll"
            plain += value if kind == "char" else []
            members |= value
        colon = ord(":")
        if not special and len(plain) > 2 and plain[0] == plain[-1] == colon and set(plain) != {colon}:
            self.colon_error = True
        if self.icase:
            members |= _swapcase(members)
        if negate:
            members = set(range(256)) - members
        return _class_pattern(members)

    def _range_dash(self) -> bool:
        """Whether a range ``-`` comes next (``-]`` is a plain ``-``)."""
        return self._peek() == b"-" and self.p[self.i + 1 : self.i + 2] != b"]"

    def _bracket_element(self) -> tuple[str, set[int]]:
        """One member: ("char", {b}), ("coll", {b}) for ``[.b.]``, ("class", bytes) for ``[:name:]``/``[=b=]``."""
        opener = self._peek(2)
        if opener in (b"[:", b"[.", b"[="):
            closer = opener[1:] + b"]"
            end = self.p.find(closer, self.i + 2)
            if end < 0:
                raise _RegexError(_BRACKET_UNMATCHED)
            name = self.p[self.i + 2 : end]
            self.i = end + 2
            if opener == b"[:":
                if name not in _CHAR_CLASSES:
                    raise _RegexError("Invalid character class name")
                return "class", set(_CHAR_CLASSES[name])
            if len(name) != 1:
                raise _RegexError("Invalid collation character")
            return ("coll" if opener == b"[." else "class"), {name[0]}
        self.i += 1
        return "char", {self.p[self.i - 1]}
