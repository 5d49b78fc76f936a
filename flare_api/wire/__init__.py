"""The FLARE 2.3 admin wire protocol, implemented once and used by both the client and the fake server."""

from __future__ import annotations

from .commands import join_command_line, split_command_line
from .framing import (
    ALL_END,
    DEFAULT_MAX_BYTES,
    LINE_END,
    FrameTimeout,
    FrameTooLarge,
    FramingError,
    StreamAccumulator,
    StreamClosed,
    encode_stream,
    join_request_text,
    read_stream,
    send_stream,
    split_segments,
)
from .message import (
    Document,
    Item,
    ItemType,
    MetaKey,
    MetaStatus,
    ProtocolViolation,
    collector_paused,
    now_string,
    parse_document,
    validate_document,
)

__all__ = [
    "ALL_END",
    "DEFAULT_MAX_BYTES",
    "LINE_END",
    "Document",
    "FrameTimeout",
    "FrameTooLarge",
    "FramingError",
    "Item",
    "ItemType",
    "MetaKey",
    "MetaStatus",
    "ProtocolViolation",
    "StreamAccumulator",
    "StreamClosed",
    "collector_paused",
    "encode_stream",
    "join_command_line",
    "join_request_text",
    "now_string",
    "parse_document",
    "read_stream",
    "send_stream",
    "split_command_line",
    "split_segments",
    "validate_document",
]
