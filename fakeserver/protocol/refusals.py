"""How a command says "no" or reproduces a crash of the real server, as exceptions the dispatcher renders."""

from __future__ import annotations

from typing import Optional

from flare_api.wire import MetaStatus


class Refusal(Exception):
    """FLARE's answer when a command stops early: raised anywhere in the pipeline, rendered by the dispatcher.

    Rendered as an ``error`` item with meta ``{"status": status, "info": info}`` (``info`` defaults to the
    text), followed by ``extra`` string items; with ``as_string`` FLARE sends the text as a plain string
    item and no meta (e.g. cellnet's usage line), or with ``string_meta`` that meta too (2.4+ ``Cannot find
    job``). Items already in the reply stay before it.
    """

    def __init__(
        self,
        text: str,
        status: str = MetaStatus.ERROR,
        info: Optional[str] = None,
        *,
        extra: tuple[str, ...] = (),
        as_string: bool = False,
        string_meta: bool = False,
    ) -> None:
        super().__init__(text)
        self.text = text
        self.status = status
        self.info = text if info is None else info
        self.extra = extra
        self.as_string = as_string
        self.string_meta = string_meta


class FlareCrash(Exception):
    """Raised by a handler to reproduce a crash of the real server: sent as ``Exception Occurred``, not recorded."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original
