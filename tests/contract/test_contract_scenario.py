"""The real nvflare 2.3.12 client against ``flare-harness serve --scenario``, and against resource scheduling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from fakeserver import FakeFlareServer
from fakeserver.example_jobs import example_job
from fakeserver.model.project import DEFAULT_PROJECT, Site
from fakeserver.model.resources import GPUResources, ListResources
from flare_api import VirtualClock
from tests.helpers import read_line, reaped

ADMIN = "admin@nvidia.com"

SCENARIO = """
project:
  sites:
    - {name: site-1, org: nvidia, resources: {gpu: {num_of_gpus: 1, mem_per_gpu_in_GiB: 8}}}
    - {name: site-2, org: other}
  users:
    - {name: admin@nvidia.com, org: nvidia, role: project_admin}
jobs:
  default: {running: 300}
  by_name:
    doomed: {outcome: EXECUTION_EXCEPTION, running: 5, failure: "scripted crash"}
clock: {mode: virtual, start: "2026-03-01T12:00:00Z", advance: manual}
"""


def _job(tmp_path: Path, name: str, **meta: Any) -> str:
    target = tmp_path / name
    shutil.copytree(example_job(), target)
    doc = json.loads((target / "meta.json").read_text())
    doc.update(name=name, **meta)
    (target / "meta.json").write_text(json.dumps(doc))
    return str(target)


def _advance(proc: subprocess.Popen, seconds: float) -> float:
    assert proc.stdin is not None
    proc.stdin.write(f"advance {seconds}\n")
    proc.stdin.flush()
    reply = json.loads(read_line(proc, 30))
    assert reply["event"] == "clock", reply
    return float(reply["time"])


def test_serve_scenario_a_job_scripted_to_fail_fails_for_the_real_client(nvflare_api, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "fakeserver.cli", "serve", "--workspace", str(tmp_path / "kits")]
    command += ["--scenario", str(scenario)]
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    with reaped(proc):
        ready = json.loads(read_line(proc, 30))
        assert list(ready["startup_kits"]) == [ADMIN]
        session = nvflare_api.new_secure_session(ADMIN, ready["startup_kits"][ADMIN], timeout=15.0)
        try:
            doomed = session.submit_job(_job(tmp_path, "doomed"))
            fine = session.submit_job(_job(tmp_path, "fine"))
            greedy = session.submit_job(
                _job(tmp_path, "greedy", resource_spec={"site-1": {"num_of_gpus": 2}, "site-2": {}})
            )
            assert session.get_job_meta(doomed)["status"] == "SUBMITTED"  # the clock has not moved
            now = _advance(proc, 60)
            assert now == 1772366400.0 + 60
            assert session.get_job_meta(doomed)["status"] == "FINISHED:EXECUTION_EXCEPTION"
            assert session.get_job_meta(fine)["status"] == "RUNNING"
            meta = session.get_job_meta(greedy)
            assert meta["status"] == "SUBMITTED"
            assert meta["schedule_history"][-1].endswith(
                "not enough sites have enough resources (ok sites 1 < min sites 2"
            )
        finally:
            session.close()
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_real_client_sees_flare_resource_reasons_and_schedule_count(nvflare_api, tmp_path: Path) -> None:
    project = DEFAULT_PROJECT.__class__(
        sites=(Site("site-1", "nvidia", GPUResources(1, 16)), Site("site-2", "other", ListResources({"gpu": [0]})))
    )
    clock = VirtualClock()
    with FakeFlareServer(project, tmp_path / "ws", clock=clock) as server:
        session = nvflare_api.new_secure_session(ADMIN, str(server.startup_kit(ADMIN)), timeout=15.0)
        try:
            spec = {"site-1": {"num_of_gpus": 1}, "site-2": {"gpu": 2}}
            job_id = session.submit_job(_job(tmp_path, "needs-units", resource_spec=spec))
            clock.advance(1 + 10 + 20)
            meta = session.get_job_meta(job_id)
            assert meta["status"] == "SUBMITTED" and meta["schedule_count"] == 3
            assert all(h.endswith("(ok sites 1 < min sites 2") for h in meta["schedule_history"])
            server.sites.set_resources("site-2", ListResources({"gpu": [0, 1]}))
            clock.advance(40)
            assert session.get_job_meta(job_id)["status"] in ("DISPATCHED", "RUNNING")
            assert server.sites.resources("site-2")["resources"] == {"gpu": []}
        finally:
            session.close()
        server.raise_errors()
