"""Small pipeline pieces no fast test pinned down: a request-independent refusal's status and info, the
``shutdown`` reply item, and the client's shortening of long command lines in error messages."""

from __future__ import annotations

from typing import Any, cast

from fakeserver.pipeline.arguments import refuse
from fakeserver.pipeline.reply import Reply
from flare_api.session import _shown
from flare_api.wire import MetaStatus


def test_refuse_keeps_text_status_and_info() -> None:
    request = cast(Any, None)
    plain = refuse("no")(request)
    assert (plain.text, plain.status, plain.info) == ("no", MetaStatus.ERROR, "no")
    custom = refuse("bad", MetaStatus.SYNTAX_ERROR, "why")(request)
    assert (custom.text, custom.status, custom.info) == ("bad", MetaStatus.SYNTAX_ERROR, "why")


def test_shutdown_appends_a_shutdown_item_and_returns_the_reply() -> None:
    reply = Reply()
    assert reply.shutdown("Bye bye") is reply
    [item] = reply.items
    assert (item.type.value, item.text) == ("shutdown", "Bye bye")


def test_shown_cuts_lines_longer_than_200_characters() -> None:
    assert _shown("x" * 200) == repr("x" * 200)
    assert _shown("ab" * 100 + "c") == repr("ab" * 100) + "... (201 chars)"
