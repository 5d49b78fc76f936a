"""Frees what ``reset()`` discarded (old job records, audit, a moved-aside workspace) off the request path.

One daemon thread per process takes batches from a bounded queue and frees them a chunk at a time, letting
other threads run between chunks, so a reset after 10,000 jobs neither pays for them under the state lock nor
holds the GIL for long afterwards. When :data:`MAX_PENDING` batches are already waiting, the caller frees
its batch itself: memory stays bounded however fast resets come.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Optional

#: Batches waiting for the reaper; a reset beyond this frees its garbage inline.
MAX_PENDING = 4
#: Items freed between two yields of the GIL.
CHUNK = 256


def free(item: object) -> None:
    """Empty a container a chunk at a time (yielding between chunks), delete a folder tree, or run a task."""
    if callable(item):
        item()
    elif isinstance(item, Path):
        shutil.rmtree(item, ignore_errors=True)
    elif isinstance(item, dict):
        while item:
            for _ in range(min(CHUNK, len(item))):
                item.popitem()
            time.sleep(0)  # let request threads run
    elif isinstance(item, (list, deque)):
        while item:
            for _ in range(min(CHUNK, len(item))):
                item.pop()
            time.sleep(0)


class Reaper:
    """A bounded queue of discarded batches and the daemon thread that frees them."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._queue: queue.Queue[list[object]] = queue.Queue(maxsize=max_pending)
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        #: Batches freed inline because the queue was full (for tests and docs).
        self.inline = 0

    def discard(self, batch: list[object]) -> bool:
        """Hand ``batch`` over (the caller must keep no other reference); False if it was freed inline."""
        self._ensure_thread()
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self.inline += 1
            for item in batch:
                free(item)
            batch.clear()
            return False
        return True

    def run_soon(self, task: Callable[[], None]) -> bool:
        """Run ``task`` on the reaper thread after the garbage handed over before it; False (not run) if the
        backlog is full. For background work that must not delay a request (a spare workspace layout)."""
        self._ensure_thread()
        try:
            self._queue.put_nowait([task])
        except queue.Full:
            return False
        return True

    def drain(self) -> None:
        """Wait until every handed-over batch is freed (tests, and a clean shutdown)."""
        self._queue.join()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="fakeflare-reaper", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            try:
                while batch:
                    with contextlib.suppress(Exception):
                        free(batch.pop())
            finally:
                self._queue.task_done()


#: The process's reaper: every server's ``reset()`` hands its garbage here.
REAPER = Reaper()
