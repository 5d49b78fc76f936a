"""How a handler says "no" or reproduces a crash of the real server, as exceptions the dispatcher renders."""

from __future__ import annotations


class FlareCrash(Exception):
    """Raised by a handler to reproduce a crash of the real server: sent as ``Exception Occurred``, not recorded."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original
