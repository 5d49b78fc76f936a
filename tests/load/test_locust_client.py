"""FlareLoadClient reports every failure to locust and re-raises it (tox -e load; imports gevent)."""

from __future__ import annotations

import os
from typing import Any

import pytest

if os.environ.get("FLARE_HARNESS_LOAD") != "1":  # importing locust monkey-patches the whole process
    pytest.skip("load tests run in their own process: tox -e load", allow_module_level=True)
pytest.importorskip("locust", reason="the load extra is not installed (tox -e load)")

from locust.env import Environment

from flare_api.errors import JobNotFound
from flare_api.load.locust import REQUEST_TYPE, FlareLoadClient

pytestmark = pytest.mark.load


class _Session:
    username = "admin@nvidia.com"

    def get_job_meta(self, job_id: str) -> dict[str, Any]:
        raise JobNotFound(f"job {job_id} does not exist")

    def list_jobs(self) -> list[str]:
        raise KeyError("a bug, not a FlareError")

    def get_job_status(self, job_id: str) -> str:
        return "RUNNING"


def _client() -> tuple[FlareLoadClient, list[dict[str, Any]]]:
    environment = Environment()
    fired: list[dict[str, Any]] = []
    environment.events.request.add_listener(lambda **kwargs: fired.append(kwargs))
    return FlareLoadClient(_Session(), environment), fired  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "error"), [("get_job_meta", JobNotFound), ("list_jobs", KeyError)])
def test_a_failure_is_reported_then_raised(method: str, error: type) -> None:
    client, fired = _client()
    call = getattr(client, method)
    with pytest.raises(error):
        call("j1") if method == "get_job_meta" else call()
    assert len(fired) == 1 and fired[0]["request_type"] == REQUEST_TYPE and fired[0]["name"] == method
    assert isinstance(fired[0]["exception"], error)


def test_a_success_is_reported_and_returned() -> None:
    client, fired = _client()
    assert client.get_job_status("j1") == "RUNNING"
    assert len(fired) == 1 and fired[0]["exception"] is None and fired[0]["response"] == "RUNNING"
