"""GNU ls (coreutils 9.1) with -a -l -t -S -R -u -1 over the workspace, C locale, one name per line.

It prints what the real ``ls`` prints to a pipe, leaving out symlinks that lead outside the workspace.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from .getopt import _getopt
from .workspace import _quote_always, _reason, _Workspace

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
