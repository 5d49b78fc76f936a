"""Scheduling by site resources over TLS, as FLARE 2.3.12 does it: reasons, back-off, allocation and release."""

from __future__ import annotations

import datetime
import json

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.model.project import DEFAULT_PROJECT, Site
from fakeserver.model.resources import GPUResources, ListResources
from flare_api import VirtualClock, new_secure_session
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

PROJECT = DEFAULT_PROJECT.__class__(
    sites=(Site("site-1", "nvidia", GPUResources(1, 16)), Site("site-2", "other", ListResources({"gpu": [0, 1]})))
)


def _hms(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def _spec(gpus: int, units: int) -> dict:
    return {"site-1": {"num_of_gpus": gpus, "mem_per_gpu_in_GiB": 8}, "site-2": {"gpu": units}}


def test_unsatisfiable_job_stays_submitted_with_flare_reasons_then_runs_when_resources_appear(tmp_path) -> None:
    clock = VirtualClock()
    with FakeFlareServer(PROJECT, tmp_path / "ws", clock=clock) as server:
        with new_secure_session("admin@nvidia.com", server.startup_kit(), clock=clock) as session:
            folder = write_job(tmp_path, "big", min_clients=2, resource_spec=_spec(2, 1))
            job_id = session.submit_job(str(folder))
            clock.advance(1 + 10 + 20)
            meta = session.get_job_meta(job_id)
            assert meta["status"] == "SUBMITTED"
            assert meta["schedule_count"] == 3
            reason = "not enough sites have enough resources (ok sites 1 < min sites 2"
            start = server.start_time
            assert meta["schedule_history"] == [f"{_hms(start + t)}: {reason}" for t in (1, 11, 31)]
            log = (server.sites.workspace("server") / "log.txt").read_text()
            line = f"DefaultJobScheduler - INFO - [identity=flare_harness, run=?]: Try to schedule job {job_id}, "
            assert log.count(f"{line}get result: ({reason}).") == 3
            # nothing is held by a job that did not get scheduled
            assert server.sites.resources("site-2")["resources"] == {"gpu": [0, 1]}
            server.sites.set_resources("site-1", GPUResources(2, 16))
            clock.advance(40)  # the next attempt, after the 40 s back-off
            assert session.get_job_status(job_id) in ("DISPATCHED", "RUNNING")
            assert session.get_job_meta(job_id)["schedule_history"][-1].endswith(": scheduled")
            assert server.sites.resources("site-1")["gpus"] == [
                {"gpu_id": 0, "memory": 8.0},
                {"gpu_id": 1, "memory": 8.0},
            ]
            assert server.sites.resources("site-2")["resources"] == {"gpu": [1]}
            server.jobs.run_to_completion(job_id)
            assert session.get_job_status(job_id) == "FINISHED:COMPLETED"
            assert server.sites.resources("site-2")["resources"] == {"gpu": [0, 1]}
            assert server.sites.resources("site-1")["gpus"][0]["memory"] == 16.0
        server.reset()
        assert server.sites.resources("site-1") == {"manager": "GPUResources", "gpus": [{"gpu_id": 0, "memory": 16.0}]}
        server.raise_errors()


def test_second_job_waits_for_the_first_to_free_its_units(tmp_path) -> None:
    clock = VirtualClock()
    with FakeFlareServer(PROJECT, tmp_path / "ws", clock=clock, default_script=JobScript.hangs()) as server:
        with new_secure_session("admin@nvidia.com", server.startup_kit(), clock=clock) as session:
            spec = _spec(1, 2)
            first = session.submit_job(str(write_job(tmp_path, "a", min_clients=2, resource_spec=spec)))
            clock.advance(1)
            second = session.submit_job(str(write_job(tmp_path, "b", min_clients=2, resource_spec=spec)))
            clock.advance(1)
            assert session.get_job_status(first) == "RUNNING"
            meta = session.get_job_meta(second)
            assert meta["status"] == "SUBMITTED"
            assert meta["schedule_history"][-1].endswith("(ok sites 1 < min sites 2")
            session.abort_job(first)
            clock.advance(10)
            assert session.get_job_status(second) in ("DISPATCHED", "RUNNING")
        server.raise_errors()


def test_required_site_without_resources_and_max_schedule_count(tmp_path) -> None:
    clock = VirtualClock()
    with FakeFlareServer(PROJECT, tmp_path / "ws", clock=clock) as server:
        with new_secure_session("admin@nvidia.com", server.startup_kit(), clock=clock) as session:
            folder = write_job(tmp_path, "req", min_clients=1, mandatory_clients=["site-1"], resource_spec=_spec(5, 1))
            job_id = session.submit_job(str(folder))
            clock.advance(1)
            meta = session.get_job_meta(job_id)
            assert meta["schedule_history"][-1].endswith(": required sites: ['site-1'] don't have enough resources")
            for _ in range(17):  # keep the session active (it expires after an hour idle)
                clock.advance(600)
                session.get_job_status(job_id)
            meta = session.get_job_meta(job_id)
            assert meta["status"] == "FINISHED:CAN_NOT_SCHEDULE"
            assert meta["schedule_count"] == 11
            assert meta["schedule_history"][-1].endswith("exceeded max schedule count 10")
        server.raise_errors()


def test_spec_omitting_a_site_crashes_flare_scheduler_and_blocks_later_jobs(tmp_path) -> None:
    clock = VirtualClock()
    with FakeFlareServer(PROJECT, tmp_path / "ws", clock=clock) as server:
        with new_secure_session("admin@nvidia.com", server.startup_kit(), clock=clock) as session:
            before = session.submit_job(str(write_job(tmp_path, "before", min_clients=2, resource_spec=_spec(9, 1))))
            # site-2 is deployed but not in resource_spec: it passes ({}), the job fails, FLARE's cancel raises
            folder = write_job(tmp_path, "omit", min_clients=2, resource_spec={"site-1": {"num_of_gpus": 4}})
            job_id = session.submit_job(str(folder))
            after = session.submit_job(str(write_job(tmp_path, "after", min_clients=2)))
            clock.advance(100)
            meta = session.get_job_meta(job_id)
            assert meta["status"] == "SUBMITTED"
            assert "schedule_history" not in meta and "schedule_count" not in meta
            # the raise ends FLARE's pass over the candidates: a job submitted later is never tried,
            # one submitted earlier goes on with its back-off
            assert "schedule_history" not in session.get_job_meta(after)
            assert session.get_job_meta(before)["schedule_count"] == 4
            log = (server.sites.workspace("server") / "log.txt").read_text()
            line = "DefaultJobScheduler - ERROR - [identity=flare_harness, run=?]: error scheduling job"
            assert log.count(line) == 100  # once per 1 s tick
            assert "KeyError: 'site-2'" in log
            server.sites.set_resources("site-1", GPUResources(4, 1))
            clock.advance(1)
            assert session.get_job_status(job_id) in ("DISPATCHED", "RUNNING")
            clock.advance(1)
            assert session.get_job_meta(after)["schedule_history"][-1].endswith(": scheduled")
        server.raise_errors()


def test_aborting_the_crashing_job_unblocks_the_queue(tmp_path) -> None:
    clock = VirtualClock()
    with FakeFlareServer(PROJECT, tmp_path / "ws", clock=clock) as server:
        with new_secure_session("admin@nvidia.com", server.startup_kit(), clock=clock) as session:
            folder = write_job(tmp_path, "omit", min_clients=2, resource_spec={"site-1": {"num_of_gpus": 4}})
            stuck = session.submit_job(str(folder))
            after = session.submit_job(str(write_job(tmp_path, "after", min_clients=2)))
            clock.advance(30)
            assert session.get_job_status(after) == "SUBMITTED"
            session.abort_job(stuck)
            clock.advance(1)
            assert session.get_job_status(after) in ("DISPATCHED", "RUNNING")
        server.raise_errors()


def test_site_resources_json_is_written(tmp_path) -> None:
    with FakeFlareServer(PROJECT, tmp_path / "ws", clock=VirtualClock()) as server:
        doc = json.loads((server.sites.workspace("site-2") / "local" / "resources.json").read_text())
        assert doc["components"][0]["args"] == {"resources": {"gpu": [0, 1]}}
        assert doc["components"][1]["path"].endswith("ListResourceConsumer")
        assert not (server.sites.workspace("server") / "local" / "resources.json").exists()
