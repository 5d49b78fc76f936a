"""``stress`` and ``speed`` are bounded by FLARE's waits, not by the count a user types; any user may run them."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer
from fakeserver.commands.cellnet import CELL_MAX_TIMEOUT, STRESS_ROUND_SECONDS
from tests.helpers import login, raw, wire

pytestmark = pytest.mark.fake_flare_only

MEMBER = "member@nvidia.com"


def _stress(flare: FakeFlareServer, line: str, user: str = MEMBER) -> dict:
    reply = raw(flare, line, login(flare, user), user=user)
    items = wire(reply)
    assert items[-1]["type"] == "string" and items[-1]["data"].startswith("total errors:")
    return items[-2]["data"]


def test_a_member_may_stress_as_in_flare(flare: FakeFlareServer) -> None:
    """NetManager's commands have no ``authz_func``: any logged-in user runs them."""
    assert _stress(flare, "stress 4") == {
        "site-1": {"counts": {"server": 2, "site-2": 2}, "time": 0.008},
        "site-2": {"counts": {"server": 2, "site-1": 2}, "time": 0.008},
    }


def test_stress_without_a_session_is_refused(flare: FakeFlareServer) -> None:
    reply = raw(flare, "stress 1000000000", None, user=MEMBER)
    assert wire(reply) == [{"type": "error", "data": "not authenticated - no token"}]


def test_a_huge_stress_times_out_like_flare_and_costs_nothing(flare: FakeFlareServer) -> None:
    """A billion rounds need 2,000,000 s of simulated time: the 5 s broadcast gives up, as in FLARE."""
    assert _stress(flare, "stress 1000000000") == {"site-1": "RC=timeout", "site-2": "RC=timeout"}
    assert _stress(flare, "stress 10 -1") == {"site-1": "RC=timeout", "site-2": "RC=timeout"}
    assert flare.errors == []


def test_stress_within_its_timeout_is_counted_not_looped(flare: FakeFlareServer) -> None:
    rounds = int(CELL_MAX_TIMEOUT / STRESS_ROUND_SECONDS)  # timeout 0 waits an hour: exactly fits
    result = _stress(flare, f"stress {rounds} 0")
    for cell in ("site-1", "site-2"):
        assert sum(result[cell]["counts"].values()) == rounds
        assert max(result[cell]["counts"].values()) - min(result[cell]["counts"].values()) <= 1
    assert _stress(flare, f"stress {rounds + 1} 0") == {"site-1": "RC=timeout", "site-2": "RC=timeout"}
    flare.sites.silence("site-2")
    result = _stress(flare, "stress 2500")  # 5 s exactly: site-1 finishes, its echoes to site-2 fail
    error = "no reply from site-2: timeout"
    assert result["site-1"]["errors"] == {error: 1250}
    assert result[error] == "RC=invalid_target"


def test_a_huge_speed_test_times_out_like_flare(flare: FakeFlareServer) -> None:
    token = login(flare, MEMBER)
    reply = raw(flare, "speed server site-1 1000000000 1000000000", token, user=MEMBER)
    assert wire(reply) == [{"type": "dict", "data": {"test_time": 100.0, "error": "return code timeout"}}]
    small = wire(raw(flare, "speed server site-1 10 10", token, user=MEMBER))[0]["data"]
    assert small["total"] == 0.0101
