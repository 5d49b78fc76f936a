"""Shared test configuration: hypothesis profiles and the raw-request helper's fixtures."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
# tox -e mutation: every surviving mutant reruns its tests, so fewer (still derandomized) examples
settings.register_profile(
    "mutation", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
