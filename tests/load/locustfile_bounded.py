"""The locust file of the distributed load test: each simulated user makes a bounded number of calls.

``FLARE_KIT`` names the admin startup kit; ``FLARE_MAX_TASKS`` caps the tasks of each user (each task is
one or two Session calls), so a run is bounded in requests as well as in time.
"""

from __future__ import annotations

import os
from pathlib import Path

from locust import constant, task
from locust.exception import StopUser

from fakeserver.example_jobs import example_job
from flare_api.load.locust import FlareUser

KIT = os.environ["FLARE_KIT"]
MAX_TASKS = int(os.environ.get("FLARE_MAX_TASKS", "20"))


class BoundedLead(FlareUser):
    """Reads the system and the job list, submits the example job now and then; stops after MAX_TASKS tasks."""

    startup_kit = KIT
    username = Path(KIT).name
    wait_time = constant(0.01)

    def on_start(self) -> None:
        self.tasks_done = 0

    def _count(self) -> None:
        self.tasks_done += 1
        if self.tasks_done > MAX_TASKS:
            raise StopUser()

    @task(3)
    def system_info(self) -> None:
        self._count()
        self.client.get_system_info()

    @task(2)
    def list_jobs(self) -> None:
        self._count()
        self.client.list_jobs(limit=5)

    @task(1)
    def submit_and_read(self) -> None:
        self._count()
        job_id = self.client.submit_job(str(example_job()))
        self.client.get_job_meta(job_id)
