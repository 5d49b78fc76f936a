"""GNU getopt (with argument permutation) for the emulated tools, and their usage-error output.

Option mistakes must print what coreutils and grep print, since FLARE lets some of them through.
"""

from __future__ import annotations

from typing import Optional, Union

from .workspace import _quote_always

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
