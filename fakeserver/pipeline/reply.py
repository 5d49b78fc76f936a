"""Builds one reply document with FLARE's meta-merging rules (reference section 3.4).

An ``error`` item without explicit meta merges ``{"status": "error", "info": <text>}``, a ``success``
item ``{"status": "ok", "info": <text>}``; named tables collect per-row meta in ``meta[<name>]``.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Union

from flare_api.wire import Document, Item, MetaKey, MetaStatus

from ..protocol import messages as msg
from ..protocol.refusals import Refusal


def snapshot(value: Any) -> Any:
    """A deep copy of JSON data (several times faster than ``copy.deepcopy``): replies are serialized
    after the state lock is released, so they must not share mutable state with the store."""
    return json.loads(json.dumps(value))


class Table:
    """A table item under construction; rows added here appear in the reply in place."""

    def __init__(self, reply: Reply, rows: list[list[Any]], name: Optional[str]) -> None:
        self._reply = reply
        self._rows = rows
        self._name = name

    def add_row(self, row: list[Any], row_meta: Optional[dict[str, Any]] = None) -> None:
        """Append a row; with ``row_meta`` and a named table, also append it to ``meta[name]``."""
        self._rows.append(list(row))
        if row_meta is not None and self._name:
            self._reply.meta.setdefault(self._name, []).append(row_meta)


class Reply:
    """Items and merged meta of one reply; handlers append to it, the dispatcher sends it."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.meta: dict[str, Any] = {}
        #: Set by a file pull (FLARE 2.4+ ``download_job_file``): the frames to send instead of a document;
        #: empty when the server sends nothing (FLARE's binary mode with no such file).
        self.binary: Optional[list[Union[bytes, memoryview]]] = None

    def _merge(self, meta: Optional[dict[str, Any]]) -> None:
        if meta:
            self.meta.update(meta)

    def string(self, text: str, meta: Optional[dict[str, Any]] = None) -> Reply:
        self.items.append(Item.string(text))
        self._merge(meta)
        return self

    def error(self, text: str, meta: Optional[dict[str, Any]] = None) -> Reply:
        self.items.append(Item.error(text))
        self._merge(meta if meta is not None else {MetaKey.STATUS: MetaStatus.ERROR, MetaKey.INFO: text})
        return self

    def error_with_status(self, text: str, status: str, info: Optional[str] = None) -> Reply:
        """An error item whose meta status is ``status`` and info ``info`` (default: the text)."""
        return self.error(text, {MetaKey.STATUS: status, MetaKey.INFO: text if info is None else info})

    def success(self, text: str = "", meta: Optional[dict[str, Any]] = None) -> Reply:
        self.items.append(Item.success(text))
        self._merge(meta if meta is not None else {MetaKey.STATUS: MetaStatus.OK, MetaKey.INFO: text})
        return self

    def dictionary(self, data: dict[str, Any], meta: Optional[dict[str, Any]] = None) -> Reply:
        self.items.append(Item.dictionary(data))
        self._merge(meta)
        return self

    def token(self, token: str) -> Reply:
        self.items.append(Item.token(token))
        return self

    def shutdown(self, text: str) -> Reply:
        self.items.append(Item.shutdown(text))
        return self

    def table(self, header: list[str], name: Optional[str] = None) -> Table:
        """Start a table; headers are upper-cased as FLARE does. A ``name`` creates ``meta[name] = []``."""
        rows: list[list[Any]] = [[str(h).upper() for h in header]]
        self.items.append(Item.table(rows))
        if name:
            self.meta[name] = []
        return Table(self, rows, name)

    def exception_occurred(self, exc: BaseException) -> Reply:
        """The error FLARE's dispatcher sends for an uncaught exception: ``Exception Occurred: T: msg``."""
        return self.error(msg.EXCEPTION_OCCURRED.format(type=type(exc).__name__, message=exc))

    def refuse(self, refusal: Refusal) -> Reply:
        """Render a :class:`Refusal`: its error (or plain string) item, then its extra strings."""
        if refusal.as_string:
            meta = {MetaKey.STATUS: refusal.status, MetaKey.INFO: refusal.info} if refusal.string_meta else None
            self.string(refusal.text, meta)
        else:
            self.error_with_status(refusal.text, refusal.status, refusal.info)
        for text in refusal.extra:
            self.string(text)
        return self

    def update_meta(self, meta: dict[str, Any]) -> Reply:
        """Add keys to the reply's meta (FLARE 2.4+ replies carry e.g. ``client_status`` beside ``status``)."""
        self.meta.update(meta)
        return self

    @property
    def has_error(self) -> bool:
        return any(item.type.value == "error" for item in self.items)

    def document(self) -> Document:
        return Document(items=list(self.items), meta=dict(self.meta))
