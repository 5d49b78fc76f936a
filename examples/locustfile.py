"""A locust file for FLARE admin load: ``locust -f examples/locustfile.py`` (install the ``load`` extra).

Point it at any admin startup kit with the environment: ``FLARE_KIT`` (the kit folder, default
``certs/lead@nvidia.com`` as written by ``flare-harness serve``) and ``FLARE_USER`` (default: the kit
folder's name). Every Session call shows up in locust's statistics under its method name.
"""

from __future__ import annotations

import os
from pathlib import Path

from locust import between, task

from fakeserver.example_jobs import example_job
from flare_api.load.locust import FlareUser

KIT = os.environ.get("FLARE_KIT", "certs/lead@nvidia.com")


class FlareAdmin(FlareUser):
    """Reads the system and the job list, and now and then submits the example job and reads it back."""

    startup_kit = KIT
    username = os.environ.get("FLARE_USER", Path(KIT).name)
    wait_time = between(0.1, 0.5)

    @task(3)
    def system_info(self) -> None:
        self.client.get_system_info()

    @task(2)
    def list_jobs(self) -> None:
        self.client.list_jobs(limit=10)

    @task(1)
    def submit_and_read(self) -> None:
        job_id = self.client.submit_job(str(example_job()))
        if job_id:
            self.client.get_job_meta(job_id)
