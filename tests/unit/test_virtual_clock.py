"""VirtualClock refuses times FLARE could not stamp: a server on a clock pushed past year 9999 would fail every
request (log and meta times overflow), so the clock says so at the call that would push it there."""

from __future__ import annotations

import math

import pytest

from fakeserver import FakeFlareServer
from flare_api.clock import MAX_VIRTUAL_TIME, VirtualClock


def test_advance_moves_forward_and_returns_the_new_time() -> None:
    clock = VirtualClock(1000.0)
    assert clock.advance(5) == 1005.0
    assert clock.time() == 1005.0


@pytest.mark.parametrize("seconds", [-1.0, math.nan, math.inf])
def test_advance_refuses_backwards_and_non_finite_steps(seconds: float) -> None:
    clock = VirtualClock(1000.0)
    with pytest.raises(ValueError, match="finite number of seconds"):
        clock.advance(seconds)
    assert clock.time() == 1000.0


def test_advance_past_year_9999_is_refused_and_leaves_the_clock_where_it_was() -> None:
    clock = VirtualClock(1000.0)
    with pytest.raises(ValueError, match=r"between 0 and 253402214400 \(9999-12-31\), not 1e\+300"):
        clock.advance(1e300)
    assert clock.time() == 1000.0
    assert clock.advance(MAX_VIRTUAL_TIME - 1000.0) == MAX_VIRTUAL_TIME  # the last moment itself is fine


@pytest.mark.parametrize("when", [-1.0, MAX_VIRTUAL_TIME + 1, math.nan])
def test_start_set_and_reset_refuse_unstampable_times(when: float) -> None:
    with pytest.raises(ValueError, match="a virtual clock time must be"):
        VirtualClock(when)
    clock = VirtualClock(0.0)
    with pytest.raises(ValueError, match="a virtual clock time must be"):
        clock.set(when)
    with pytest.raises(ValueError, match="a virtual clock time must be"):
        clock.reset(when)
    assert clock.time() == 0.0


def test_set_refuses_going_backwards() -> None:
    clock = VirtualClock(1000.0)
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.set(999.0)


def test_a_server_at_the_latest_time_still_answers() -> None:
    clock = VirtualClock()
    with FakeFlareServer(clock=clock) as server:
        clock.set(MAX_VIRTUAL_TIME)
        with server.session("admin@nvidia.com", in_process=True) as session:
            assert session.list_jobs() == []
            session.get_system_info()
        server.raise_errors()
