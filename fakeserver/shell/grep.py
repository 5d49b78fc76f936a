"""GNU grep 3.8 with -n -i -b: basic regular expressions parsed with glibc's error texts, matched by
:mod:`.nfa` in bounded time (never by Python's backtracking ``re``: a hostile pattern must not freeze
the server, which holds its state lock while a shell command runs).

Output, prefixes and the binary-file rule follow grep, so FLARE's ``grep`` replies read as on a real server.
"""

from __future__ import annotations

from typing import Optional

from .charclass import _CHAR_CLASSES, _swapcase
from .getopt import _GREP_USAGE, _TRY_HELP, _getopt
from .nfa import MAX_STEPS, Budget, BudgetExceeded, Node, Program, ProgramTooBig, compile_pattern
from .text import _lines
from .workspace import _quote_if_needed, _read, _reason, _Workspace


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
    budget = Budget()
    for name in files:
        try:
            data = _read(workspace.locate(name, follow=True))
        except OSError as exc:
            out += b"grep: " + _quote_if_needed(name) + b": " + _reason(exc) + b"\n"
            continue
        prefix = name + b":" if len(files) > 1 else b""
        try:
            _grep_data(out, data, patterns, chars, prefix, name, budget)
        except BudgetExceeded:
            out += b"grep: " + _quote_if_needed(name) + BUDGET_MESSAGE
            break
    return bytes(out)


#: What grep prints (ours, not GNU's) when a command runs out of matching steps; output so far is kept.
BUDGET_MESSAGE = b": search stopped after %d matching steps (the fake server's limit)\n" % MAX_STEPS


def _grep_data(
    out: bytearray, data: bytes, patterns: list[Program], chars: set[str], prefix: bytes, name: bytes, budget: Budget
) -> None:
    """Append grep's output for one file's ``data`` to ``out`` (as it goes, so a budget stop keeps it)."""
    binary = b"\0" in data
    offset = 0
    for number, line in enumerate(_lines(data), start=1):
        text = line[:-1] if line.endswith(b"\n") else line
        if any(pattern.search(text, budget) for pattern in patterns):
            if binary:
                out += b"grep: " + _quote_if_needed(name) + b": binary file matches\n"
                return
            out += prefix
            if "n" in chars:
                out += b"%d:" % number
            if "b" in chars:
                out += b"%d:" % offset
            out += text + b"\n"
        offset += len(line)


class _RegexError(Exception):
    """A pattern GNU grep refuses; the message is glibc's (or grep's dfa) text."""


_RE_DUP_MAX = 0x7FFF
_UNMATCHED_BRACE = "Unmatched \\{"
_BAD_INTERVAL = "Invalid content of \\{\\}"
_BRACKET_UNMATCHED = "Unmatched [, [^, [:, [., or [="
_COLON_SYNTAX = "character class syntax is [[:space:]], not [:space:]"


_ESCAPE_ASSERTIONS = {
    b"<": "word_start",
    b">": "word_end",
    b"b": "boundary",
    b"B": "not_boundary",
    b"`": "bol",
    b"'": "eol",
}
_ALL = frozenset(range(256))
_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_SPACE_BYTES = frozenset(b" \t\n\r\f\v")
_ESCAPE_CLASSES = {
    b"w": _WORD_BYTES,
    b"W": _ALL - _WORD_BYTES,
    b"s": _SPACE_BYTES,
    b"S": _ALL - _SPACE_BYTES,
}
_Item = tuple[Node, str]


class _Bre:
    """Parse one GNU basic regular expression (C locale) into an :mod:`.nfa` tree and compile it.

    Atoms are kept as (node, kind) so the rules on where ``*`` and ``^`` are special can look back;
    back references follow glibc: only to groups closed earlier in the same alternative.
    """

    def __init__(self, pattern: bytes, icase: bool) -> None:
        self.p = pattern
        self.i = 0
        self.icase = icase
        self.groups = 0
        self.closed: set[int] = set()
        self.colon_error = False

    def compile(self) -> Program:
        tree = self._alternation(depth=0)
        if self.colon_error:
            raise _RegexError(_COLON_SYNTAX)
        try:
            return compile_pattern(tree, self.icase)
        except ProgramTooBig as exc:
            raise _RegexError("Regular expression too big") from exc

    def _literal(self, byte: int) -> Node:
        members = {byte}
        if self.icase:
            members |= _swapcase(members)
        return ("set", frozenset(members))

    def _peek(self, length: int = 1) -> bytes:
        return self.p[self.i : self.i + length]

    def _alternation(self, depth: int) -> Node:
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
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def _branch(self) -> Node:
        items: list[_Item] = []
        while self.i < len(self.p):
            two = self._peek(2)
            if two in (b"\\|", b"\\)"):
                break
            at_start = not items or items == [(("assert", "bol"), "caret")]
            char = self._peek()
            if char == b"\\":
                self._escape(items, at_start)
            elif char == b"[":
                self.i += 1
                items.append((self._bracket(), "atom"))
            elif char == b"*" and not at_start:
                self.i += 1
                self._repeat(items, (0, None))
            elif char == b"^" and not items:
                self.i += 1
                items.append((("assert", "bol"), "caret"))
            elif char == b"$" and self.p[self.i + 1 : self.i + 3] in (b"", b"\\)", b"\\|"):
                self.i += 1
                items.append((("assert", "eol"), "anchor"))
            else:
                self.i += 1
                items.append((("set", _ALL) if char == b"." else self._literal(char[0]), "atom"))
        return ("cat", [node for node, _ in items])

    def _repeat(self, items: list[_Item], bounds: tuple[int, Optional[int]]) -> None:
        node, _ = items.pop()
        items.append((("repeat", node, bounds[0], bounds[1]), "repeated"))

    def _escape(self, items: list[_Item], at_start: bool) -> None:
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
            items.append((("group", number, inner), "atom"))
        elif char == b"{" and not at_start:
            self._repeat(items, self._interval())
        elif char in (b"+", b"?") and not at_start:
            self._repeat(items, (1, None) if char == b"+" else (0, 1))
        elif char.isdigit() and char != b"0":
            if int(char) not in self.closed:
                raise _RegexError("Invalid back reference")
            items.append((("backref", int(char)), "atom"))
        elif char in _ESCAPE_ASSERTIONS:
            items.append((("assert", _ESCAPE_ASSERTIONS[char]), "anchor"))
        elif char in _ESCAPE_CLASSES:
            items.append((("set", _ESCAPE_CLASSES[char]), "atom"))
        else:  # any other escaped byte stands for itself
            items.append((self._literal(char[0]), "atom"))

    def _interval(self) -> tuple[int, Optional[int]]:
        """``\\{m,n\\}`` (after the ``\\{``) as (low, high or None), with glibc's errors for bad ones."""
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
        return low, high

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

    def _bracket(self) -> Node:
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
        return ("set", frozenset(members))

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
