"""``monitor``'s guard against a clock that never moves (poll_interval 0 on a virtual clock): it gives up
after exactly ``MAX_STALLED_POLLS`` polls in a row without the clock moving, and any poll that moves the
clock starts the count again."""

from __future__ import annotations

from typing import Any

import pytest

from flare_api.errors import InvalidArgumentError
from flare_api.monitor import MAX_STALLED_POLLS, monitor
from flare_api.types import MonitorReturnCode


class _Clock:
    """A clock whose ``sleep`` moves it only on the sleeps numbered in ``moving`` (1-based)."""

    def __init__(self, moving: set[int]) -> None:
        self.now = 0.0
        self.sleeps = 0
        self.moving = moving

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        if self.sleeps in self.moving:
            self.now += 1.0

    def __repr__(self) -> str:
        return "<scripted clock>"


def _job(finish_after: int) -> tuple[list[int], Any]:
    polls: list[int] = []

    def get_meta(job_id: str) -> dict[str, Any]:
        polls.append(1)
        return {"status": "FINISHED:COMPLETED" if len(polls) > finish_after else "RUNNING"}

    return polls, get_meta


def test_a_clock_that_never_moves_gives_up_after_the_limit() -> None:
    polls, get_meta = _job(finish_after=MAX_STALLED_POLLS + 5)
    with pytest.raises(InvalidArgumentError) as info:
        monitor(None, "j1", get_meta, _Clock(set()), 60.0, 0.0, None, (), {})
    assert len(polls) == MAX_STALLED_POLLS
    assert str(info.value) == (
        f"monitoring job j1: {MAX_STALLED_POLLS} polls and the clock has not moved (poll_interval=0.0 on "
        "<scripted clock>); use a positive poll_interval or advance the clock"
    )


def test_a_poll_that_moves_the_clock_starts_the_count_again() -> None:
    # stalled for limit - 1 polls, one poll moves the clock, stalled for limit - 1 more, then the job ends
    moving = {MAX_STALLED_POLLS}
    polls, get_meta = _job(finish_after=2 * MAX_STALLED_POLLS - 1)
    code, meta = monitor(None, "j1", get_meta, _Clock(moving), 0.0, 0.0, None, (), {})
    assert code is MonitorReturnCode.JOB_FINISHED and meta == {"status": "FINISHED:COMPLETED"}
    assert len(polls) == 2 * MAX_STALLED_POLLS
