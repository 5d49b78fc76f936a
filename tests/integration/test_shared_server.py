"""A test that shuts the shared fake server down does not break the tests after it (inner pytest session)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

IN_ORDER = """
from tests.conftest import shared_server  # noqa: F401
from tests.helpers import login, raw


def test_1_shuts_the_shared_server_down(flare):
    raw(flare, "shutdown all", login(flare))
    assert flare.shut_down


def test_2_the_repaired_fixture_answers(shared_server):
    assert not shared_server.shut_down
    assert raw(shared_server, "_cert_login admin@nvidia.com").items[0].data == "OK"
    raw(shared_server, "shutdown all", login(shared_server))
    assert shared_server.shut_down


def test_3_and_it_repairs_after_the_test_too(flare_server):
    assert not flare_server.shut_down
    assert raw(flare_server, "_cert_login admin@nvidia.com").items[0].data == "OK"
"""


def test_shared_server_is_repaired_after_a_shutdown(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_in_order=IN_ORDER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist", "-q")
    result.assert_outcomes(passed=3)
