"""The folder the commands run in: paths that never resolve outside it, GNU's errno texts and name quoting.

Every file the emulated tools open or list goes through :class:`_Workspace`, which is what keeps them confined.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import stat
import time
from dataclasses import dataclass
from datetime import tzinfo
from typing import Optional

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
