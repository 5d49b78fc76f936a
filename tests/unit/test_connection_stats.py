"""Connection statistics: connection threads race on them, so they change only under their lock."""

from __future__ import annotations

import threading

import pytest

from fakeserver.serving.stats import COUNTERS, ConnectionStats


def test_counters_are_read_only_so_every_change_goes_through_add() -> None:
    stats = ConnectionStats()
    for name in COUNTERS:
        with pytest.raises(AttributeError):
            setattr(stats, name, 1)
    stats.add("requests")
    stats.add("faults_fired", 2)
    assert (stats.requests, stats.faults_fired, stats.accepted) == (1, 2, 0)
    with pytest.raises(KeyError, match="no counter 'bogus'"):
        stats.add("bogus")  # type: ignore[arg-type]


def test_add_waits_for_the_lock() -> None:
    stats = ConnectionStats()
    added = threading.Event()

    def add() -> None:
        stats.add("accepted")
        added.set()

    thread = threading.Thread(target=add)
    with stats._lock:  # white-box: hold the lock a racing connection thread would need
        thread.start()
        assert not added.wait(0.05), "a counter changed while another thread held the lock"
    thread.join(5)
    assert added.is_set() and stats.accepted == 1


def test_concurrent_adds_lose_nothing_and_reset_zeroes() -> None:
    stats = ConnectionStats()
    threads = [threading.Thread(target=lambda: [stats.add("requests") for _ in range(1000)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.snapshot() == {**dict.fromkeys(COUNTERS, 0), "requests": 8000}
    assert repr(stats).startswith("ConnectionStats(accepted=0, requests=8000")
    stats.reset()
    assert stats.snapshot() == dict.fromkeys(COUNTERS, 0)
