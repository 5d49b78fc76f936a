"""Fixtures of the sample downstream project: a pipeline config pointed at the fake server's kit.

The fake runs on a virtual clock. With the default in-process transport the pipeline's own session
is intercepted onto that clock, so a "minute" between polls costs nothing; over TLS
(``--flare-transport tls``) the pipeline sleeps on the real clock, so a "minute" is 5 ms there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mlops_pipeline import PipelineConfig

from fakeserver import FakeFlareServer
from fakeserver.example_jobs import example_job

PIPELINE_USER = "lead@nvidia.com"


@pytest.fixture
def minute(flare: FakeFlareServer) -> float:
    """One minute of the pipeline's patience, in seconds of the clock its session waits on."""
    return 60.0 if flare.intercept else 0.005


@pytest.fixture
def config(flare: FakeFlareServer, tmp_path: Path, minute: float) -> PipelineConfig:
    return PipelineConfig(
        kit=str(flare.startup_kit(PIPELINE_USER)),
        user=PIPELINE_USER,
        job_folder=str(example_job("hello-numpy")),
        registry=tmp_path / "registry",
        poll_interval=minute,
    )


@pytest.fixture
def alerts() -> list[str]:
    """The messages the pipeline sent (a chat channel in production)."""
    return []
