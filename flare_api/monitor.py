"""``monitor_job``'s loop, exactly as FLARE 2.3 runs it (reference 8.7), on an injectable clock.

Each round: timeout check, poll, callback, status check, sleep. The callback sees every polled meta
(the final one too) and a falsy return ends the loop; the timeout is only checked before a poll.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

from .clock import Clock
from .errors import InternalError, InvalidArgumentError
from .types import MonitorReturnCode

__all__ = ["MAX_STALLED_POLLS", "MonitorCallback", "basic_cb_with_print", "check_monitor_args", "monitor"]

#: Polls in a row after which a monitor whose clock has not moved gives up: with ``poll_interval=0``
#: on a :class:`~flare_api.clock.VirtualClock` time never passes, so neither the job's clock-driven
#: phases nor the timeout could ever end the loop.
MAX_STALLED_POLLS = 10_000

MonitorCallback = Callable[..., Any]


def check_monitor_args(timeout: object, poll_interval: object, cb: object) -> None:
    """Refuse arguments FLARE would only trip over later (a negative sleep, a non-callable callback)."""
    for name, value in (("timeout", timeout), ("poll_interval", poll_interval)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise InvalidArgumentError(f"{name} must be a number of seconds, got {value!r}")
    if not 0 <= poll_interval < math.inf:  # type: ignore[operator]
        raise InvalidArgumentError(f"poll_interval must be a finite number >= 0, got {poll_interval!r}")
    if cb is not None and not callable(cb):
        raise InvalidArgumentError(f"cb must be callable or None, got {type(cb).__name__}")


def monitor(
    session: Any,
    job_id: str,
    get_meta: Callable[[str], dict[str, Any]],
    clock: Clock,
    timeout: float,
    poll_interval: float,
    cb: Optional[MonitorCallback],
    cb_args: tuple[Any, ...],
    cb_kwargs: dict[str, Any],
) -> tuple[MonitorReturnCode, Optional[dict[str, Any]]]:
    """Poll ``get_meta(job_id)`` until the job finishes, the callback says stop, or time runs out."""
    check_monitor_args(timeout, poll_interval, cb)
    started = clock.monotonic()
    last: Optional[dict[str, Any]] = None
    stalled = 0
    while True:
        if 0 < timeout < clock.monotonic() - started:
            return MonitorReturnCode.TIMEOUT, last
        meta = get_meta(job_id)
        last = meta
        if cb is not None and not cb(session, job_id, meta, *cb_args, **cb_kwargs):
            return MonitorReturnCode.ENDED_BY_CB, meta
        status = meta.get("status")
        if not status:
            raise InternalError(f"missing status in job {job_id}")
        if str(status).startswith("FINISHED"):
            return MonitorReturnCode.JOB_FINISHED, meta
        before = clock.monotonic()
        clock.sleep(poll_interval)
        stalled = stalled + 1 if clock.monotonic() == before else 0
        if stalled >= MAX_STALLED_POLLS:
            raise InvalidArgumentError(
                f"monitoring job {job_id}: {stalled} polls and the clock has not moved (poll_interval="
                f"{poll_interval!r} on {clock!r}); use a positive poll_interval or advance the clock"
            )


def basic_cb_with_print(session: Any, job_id: str, job_meta: dict[str, Any], *cb_args: Any, **cb_kwargs: Any) -> bool:
    """FLARE's sample callback: prints the meta (dots while RUNNING after three polls).

    Needs ``cb_run_counter={"count": 0}`` among the keyword arguments, as FLARE's does.
    """
    counter = cb_kwargs.get("cb_run_counter")
    if not isinstance(counter, dict) or "count" not in counter:
        raise InvalidArgumentError('basic_cb_with_print needs cb_run_counter={"count": 0} as a keyword argument')
    if job_meta.get("status") == "RUNNING":
        if counter["count"] < 3:
            print(job_meta)
        else:
            print(".", end="")
    else:
        print("\n" + str(job_meta))
    counter["count"] += 1
    return True
