"""C-locale byte sets for ``[:name:]`` classes and their Python ``re`` class patterns.

Shared by dash's pathname expansion (``[...]`` in globs) and grep's BRE translation, which both match bytes.
"""

from __future__ import annotations


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
