"""JSON text with arrays spliced in from already-encoded elements: a long reply (``list_jobs`` at 10,000
jobs) is written from text fragments cached per row instead of building and encoding every row again.

:class:`Spliced` is a read-only sequence given as its elements' JSON texts; :func:`dumps` is ``json.dumps``
that writes each ``Spliced`` it finds (in containers up to :data:`MAX_DEPTH` deep) from those texts. The
fragments must be encoded with the same settings as the call to :func:`dumps` (default separators and
``ensure_ascii``, as FLARE's documents are); then the result is byte-for-byte ``json.dumps`` of the same data.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any, Union, overload

#: Containers this deep are not searched (a Document holds table rows at depth 3: body, data, item, rows).
MAX_DEPTH = 3


class Spliced(Sequence[Any]):
    """A JSON array given as its elements' encoded texts; reading an element decodes a fresh copy."""

    __slots__ = ("fragments",)

    def __init__(self, fragments: list[str]) -> None:
        self.fragments = fragments

    def __len__(self) -> int:
        return len(self.fragments)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: Union[int, slice]) -> Any:
        if isinstance(index, slice):
            return [json.loads(text) for text in self.fragments[index]]
        return json.loads(self.fragments[index])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Spliced):
            return self.fragments == other.fragments
        return isinstance(other, (list, tuple)) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def text(self) -> str:
        """The array's JSON text (default separators)."""
        return "[" + ", ".join(self.fragments) + "]"

    def __repr__(self) -> str:
        return f"Spliced({len(self.fragments)} elements)"


def _swap(value: Any, depth: int, found: list[Spliced], nonce: str) -> Any:
    """``value`` with each Spliced replaced by a placeholder string (containers copied only where one is)."""
    if isinstance(value, Spliced):
        found.append(value)
        return f"\x00{nonce}:{len(found) - 1}\x00"
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, dict):
        swapped = {key: _swap(item, depth + 1, found, nonce) for key, item in value.items()}
        return swapped if any(a is not b for a, b in zip(swapped.values(), value.values())) else value
    if isinstance(value, list):
        items = [_swap(item, depth + 1, found, nonce) for item in value]
        return items if any(a is not b for a, b in zip(items, value)) else value
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, **kwargs)``, with every :class:`Spliced` array written from its fragments."""
    found: list[Spliced] = []
    nonce = secrets.token_hex(8)  # unguessable: no string in the data can equal a placeholder
    swapped = _swap(value, 0, found, nonce)
    text = json.dumps(swapped, **kwargs)
    for number, spliced in enumerate(found):
        placeholder = json.dumps(f"\x00{nonce}:{number}\x00", **kwargs)
        text = text.replace(placeholder, spliced.text(), 1)
    return text
