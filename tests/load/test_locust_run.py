"""A short headless locust run of FlareUsers against the fake server (tox -e load; imports gevent)."""

from __future__ import annotations

import os

import pytest

if os.environ.get("FLARE_HARNESS_LOAD") != "1":  # importing locust monkey-patches the whole process
    pytest.skip("load tests run in their own process: tox -e load", allow_module_level=True)
locust = pytest.importorskip("locust", reason="the load extra is not installed (tox -e load)")

from locust import between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from fakeserver import FakeFlareServer, JobScript, Phase  # noqa: E402
from fakeserver.example_jobs import example_job  # noqa: E402
from flare_api.load.locust import FlareUser  # noqa: E402

pytestmark = pytest.mark.load


def test_headless_run_reports_every_call_and_no_failures(tmp_path) -> None:
    script = JobScript(queued=Phase.after(0.05), deploying=Phase.after(0.05), running=Phase.after(0.2))
    with FakeFlareServer(workspace=tmp_path, default_script=script) as server:

        class Lead(FlareUser):
            startup_kit = str(server.startup_kit("lead@nvidia.com"))
            username = "lead@nvidia.com"
            wait_time = between(0.0, 0.01)

            @task(3)
            def status(self) -> None:
                self.client.get_system_info()

            @task(2)
            def jobs(self) -> None:
                self.client.list_jobs(limit=5)

            @task(1)
            def submit_and_read(self) -> None:
                job_id = self.client.submit_job(str(example_job()))
                self.client.get_job_meta(job_id)

        environment = Environment(user_classes=[Lead])
        runner = environment.create_local_runner()
        runner.start(user_count=int(os.environ.get("FLARE_LOAD_USERS", "8")), spawn_rate=100)
        runner.greenlet.join(timeout=float(os.environ.get("FLARE_LOAD_SECONDS", "3")))
        runner.quit()
        stats = environment.stats
        assert stats.total.num_requests > 50
        assert stats.total.num_failures == 0, dict(environment.stats.errors)
        names = {entry.name for entry in stats.entries.values()}
        assert {"get_system_info", "list_jobs", "submit_job", "get_job_meta"} <= names
        assert server.errors == []


def test_the_example_locustfile_runs(tmp_path, monkeypatch) -> None:
    """examples/locustfile.py, pointed at a fake server's kit with FLARE_KIT, runs without failures."""
    import importlib.util
    from pathlib import Path

    script = JobScript(queued=Phase.after(0.05), deploying=Phase.after(0.05), running=Phase.after(0.2))
    with FakeFlareServer(workspace=tmp_path, default_script=script) as server:
        monkeypatch.setenv("FLARE_KIT", str(server.startup_kit("lead@nvidia.com")))
        path = Path(__file__).resolve().parents[2] / "examples" / "locustfile.py"
        spec = importlib.util.spec_from_file_location("example_locustfile", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        environment = Environment(user_classes=[module.FlareAdmin])
        runner = environment.create_local_runner()
        runner.start(user_count=4, spawn_rate=100)
        runner.greenlet.join(timeout=2)
        runner.quit()
        assert environment.stats.total.num_requests > 5
        assert environment.stats.total.num_failures == 0, dict(environment.stats.errors)
        assert server.errors == []
