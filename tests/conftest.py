"""Shared test configuration: hypothesis profiles and the fixtures that share one fake server between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from fakeserver import FakeFlareServer

#: Where the ``explore`` profile keeps the failures it found, so the next run tries them first.
EXAMPLE_DATABASE = Path(__file__).resolve().parents[1] / ".hypothesis" / "examples"

# dev: the default for a local run. ci: what tox runs, the same examples every time (derandomized).
# explore: many more examples from fresh random seeds, failures kept in .hypothesis/ (tox -e explore).
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile(
    "explore",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=False,
    database=DirectoryBasedExampleDatabase(str(EXAMPLE_DATABASE)),
    print_blob=True,
)
# tox -e mutation: every surviving mutant reruns its tests, so fewer (still derandomized) examples
settings.register_profile(
    "mutation", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def shared_server(flare_server: FakeFlareServer) -> Iterator[FakeFlareServer]:
    """The test session's shared fake server, repaired before and after the test.

    For tests that take ``flare_server`` itself (the plugin's ``flare`` resets it only before its own tests):
    a test before this one may have shut the server down (``shutdown all`` leaves it gone until a reset).
    """
    flare_server.reset()
    yield flare_server
    flare_server.reset()
