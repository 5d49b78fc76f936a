"""Message documents of the FLARE 2.3 admin protocol: typed items, meta keys, build and validate.

Validation accepts exactly what FLARE's ``validate_proto`` accepts (reference section 3.3), so a
document we reject is one the real peer would reject too.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator, Optional, Union

from . import spliced

__all__ = [
    "Document",
    "Item",
    "ItemType",
    "MetaKey",
    "MetaStatus",
    "ProtocolViolation",
    "now_string",
    "parse_document",
    "validate_document",
]


class ItemType(str, Enum):
    """The eight item types of a document's ``data`` list."""

    STRING = "string"
    SUCCESS = "success"
    ERROR = "error"
    TABLE = "table"
    DICT = "dict"
    COMMAND = "command"
    TOKEN = "token"
    SHUTDOWN = "shutdown"

    def __str__(self) -> str:
        return self.value


class MetaKey:
    """Keys of the reply ``meta`` object (FLARE's ``MetaKey``)."""

    STATUS = "status"
    INFO = "info"
    JOB_ID = "job_id"
    JOB_META = "job_meta"
    JOB_DOWNLOAD_URL = "job_download_url"
    APP_NAME = "app_name"
    SERVER_STATUS = "server_status"
    SERVER_START_TIME = "server_start_time"
    CLIENT_NAME = "client_name"
    CLIENT_LAST_CONNECT_TIME = "client_last_conn_time"
    CLIENTS = "clients"
    JOBS = "jobs"
    JOB_NAME = "job_name"
    SUBMIT_TIME = "submit_time"
    DURATION = "duration"


class MetaStatus:
    """Values of ``meta["status"]`` (FLARE's ``MetaStatusValue``)."""

    OK = "ok"
    SYNTAX_ERROR = "syntax_error"
    NOT_AUTHORIZED = "not_authorized"
    ERROR = "error"
    INTERNAL_ERROR = "internal_error"
    INVALID_JOB_DEFINITION = "invalid_job_def"
    INVALID_JOB_ID = "invalid_job_id"
    JOB_RUNNING = "job_running"


class ProtocolViolation(ValueError):
    """A document that FLARE's ``validate_proto`` would refuse; the message says which rule failed."""


_DATA_TYPES = frozenset(t.value for t in ItemType if t is not ItemType.TABLE)
ItemData = Union[str, dict]


@dataclass(frozen=True)
class Item:
    """One entry of a document's ``data`` list. ``rows`` is set for tables, ``data`` for the rest."""

    type: ItemType
    data: Optional[ItemData] = None
    rows: Optional[list] = None

    @classmethod
    def string(cls, text: str) -> Item:
        return cls(ItemType.STRING, text)

    @classmethod
    def success(cls, text: str = "") -> Item:
        return cls(ItemType.SUCCESS, text)

    @classmethod
    def error(cls, text: str) -> Item:
        return cls(ItemType.ERROR, text)

    @classmethod
    def table(cls, rows: list) -> Item:
        return cls(ItemType.TABLE, rows=rows)

    @classmethod
    def dictionary(cls, data: dict[str, Any]) -> Item:
        return cls(ItemType.DICT, data)

    @classmethod
    def command(cls, line: str) -> Item:
        return cls(ItemType.COMMAND, line)

    @classmethod
    def token(cls, token: str) -> Item:
        return cls(ItemType.TOKEN, token)

    @classmethod
    def shutdown(cls, text: str) -> Item:
        return cls(ItemType.SHUTDOWN, text)

    @property
    def text(self) -> str:
        """The item's data as text (tables and dicts as JSON), for messages and substring checks."""
        if self.type is ItemType.TABLE:
            return spliced.dumps(self.rows)
        if isinstance(self.data, str):
            return self.data
        return json.dumps(self.data)

    def to_json(self) -> dict[str, Any]:
        if self.type is ItemType.TABLE:
            return {"type": self.type.value, "rows": self.rows}
        return {"type": self.type.value, "data": self.data}


def now_string() -> str:
    """The ``time`` field as FLARE writes it: ``str(datetime.now())`` in local time."""
    return str(datetime.datetime.now())


@dataclass
class Document:
    """A whole message: items plus meta. ``time`` is informational; receivers ignore it."""

    items: list[Item] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=now_string)

    def to_json(self) -> str:
        """Serialize like FLARE does: default separators and ASCII-only output."""
        body = {"time": self.time, "data": [item.to_json() for item in self.items], "meta": self.meta}
        return spliced.dumps(body, ensure_ascii=True)  # a Spliced table or meta list is written from its text

    def first(self, item_type: ItemType) -> Optional[Item]:
        """The first item of a type, or None."""
        return next((item for item in self.items if item.type is item_type), None)

    def of_type(self, item_type: ItemType) -> list[Item]:
        """Every item of a type, in order."""
        return [item for item in self.items if item.type is item_type]

    @classmethod
    def request(cls, line: str, token: Optional[str] = None, meta: Optional[dict[str, Any]] = None) -> Document:
        """A client request: the command item, then the token item if there is one; meta ``{}`` unless given
        (FLARE 2.5+ clients send ``cmd_props`` there)."""
        items = [Item.command(line)]
        if token is not None:
            items.append(Item.token(token))
        return cls(items, meta=dict(meta) if meta else {})


def validate_document(obj: object) -> Document:
    """Check a decoded JSON value against FLARE's rules and return it as a :class:`Document`."""
    if not isinstance(obj, dict):
        raise ProtocolViolation(f"document must be a JSON object, got {type(obj).__name__}")
    if "data" not in obj:
        raise ProtocolViolation("document has no 'data' key")
    data = obj["data"]
    if not isinstance(data, list):
        raise ProtocolViolation(f"'data' must be a list, got {type(data).__name__}")
    items = [_validate_item(index, raw) for index, raw in enumerate(data)]
    meta = obj.get("meta")
    time_value = obj.get("time")
    return Document(
        items=items,
        meta=meta if isinstance(meta, dict) else {},
        time=time_value if isinstance(time_value, str) else "",
    )


def _validate_item(index: int, raw: object) -> Item:
    if not isinstance(raw, dict):
        raise ProtocolViolation(f"item {index} must be an object, got {type(raw).__name__}")
    item_type = raw.get("type")
    if item_type == ItemType.TABLE.value:
        rows = raw.get("rows")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ProtocolViolation(f"item {index}: a table's 'rows' must be a list of lists")
        return Item(ItemType.TABLE, rows=rows)
    if not isinstance(item_type, str) or item_type not in _DATA_TYPES:
        raise ProtocolViolation(f"item {index} has unknown type {item_type!r}")
    value = raw.get("data")
    if not isinstance(value, (str, dict)):
        raise ProtocolViolation(
            f"item {index} ({item_type}): 'data' must be a string or an object, got {type(value).__name__}"
        )
    return Item(ItemType(item_type), value)


def parse_document(text: str) -> Document:
    """Parse and validate one serialized document."""
    try:
        obj = _loads_without_collecting(text)
    except ValueError as exc:
        raise ProtocolViolation(f"document is not valid JSON: {exc}") from None
    except RecursionError:
        raise ProtocolViolation("document is nested too deeply to parse") from None
    return validate_document(obj)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that allocates many acyclic containers (parsing or
    building a large document): each allocation burst can otherwise start a full collection that walks the
    whole heap, which in a test process includes every job the fake server holds. No-op if already paused."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _loads_without_collecting(text: str) -> Any:
    """``json.loads`` with the collector paused: JSON values have no cycles, so there is nothing to find."""
    with collector_paused():
        return json.loads(text)
