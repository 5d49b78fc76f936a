"""A small ``/bin/sh`` (dash): quote removal, ``#`` comments and pathname expansion against the workspace.

It gives the argv dash would hand the tool, without starting a shell; other expansions pass on literally.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Optional, Union

from .charclass import _CHAR_CLASSES, _class_pattern
from .workspace import _Workspace

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
