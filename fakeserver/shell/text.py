"""GNU cat, head and tail (coreutils 9.1) over workspace files: their options, counts and error texts.

Output is byte for byte what the real tools print; ``_lines`` is also grep's line splitter.
"""

from __future__ import annotations

import re
from typing import Union

from .getopt import _getopt
from .workspace import _quote_always, _quote_c, _quote_if_needed, _read, _reason, _Workspace


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
