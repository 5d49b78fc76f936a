"""The real nvflare 2.3.12 client sees the job's own config used as a real 2.3.12 deployment uses it: rounds and
result files from the config, apps that do not load ending in FINISHED:EXECUTION_EXCEPTION (docs/real-flare.md).

The server runs on a virtual clock moved between the real client's calls, so the measured 6 s and 74 s of a
failing run take no time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakeserver import FakeFlareServer
from flare_api import VirtualClock
from tests.configjobs import broken_server_job, broken_site_job, numpy_job


@pytest.fixture(scope="module")
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory, clock: VirtualClock) -> Iterator[FakeFlareServer]:
    with FakeFlareServer(workspace=tmp_path_factory.mktemp("kits"), clock=clock, intercept=False) as server:
        yield server
        server.raise_errors()


def _running(real: Any, server: FakeFlareServer, folder: Path) -> str:
    job_id = real.submit_job(str(folder))
    server.jobs.advance_to(job_id, "RUNNING")
    return job_id


def test_real_client_sees_the_configs_rounds_and_model_file(
    real: Any, contract_server: FakeFlareServer, clock: VirtualClock, tmp_path: Path
) -> None:
    job_id = _running(real, contract_server, numpy_job(tmp_path, "five-rounds", num_rounds=5))
    stats = real.api.do_command(f"show_stats {job_id} server")["data"][0]["data"]
    assert stats["ScatterAndGather"]["num_rounds"] == 5
    clock.advance(50.0)
    assert real.get_job_meta(job_id)["status"] == "FINISHED:COMPLETED"
    workspace = Path(real.download_job_result(job_id)) / "workspace"
    # (the real client signs each folder it submits: its .__nvfl_sig.json and .__nvfl_submitter.crt travel with the app)
    names = sorted(p.relative_to(workspace).as_posix() for p in workspace.rglob("*") if p.is_file())
    names = [name for name in names if "/.__nvfl_" not in name]
    assert names == [
        "app_server/config/config_fed_client.json",
        "app_server/config/config_fed_server.json",
        "fl_app.txt",
        "log.txt",
        "meta.json",
        "models/server.npy",
    ]


@pytest.mark.parametrize(("make", "seconds"), [(broken_server_job, 6.0), (broken_site_job, 74.0)])
def test_real_client_sees_an_app_that_does_not_load_end_in_execution_exception(
    real: Any, contract_server: FakeFlareServer, clock: VirtualClock, tmp_path: Path, make: Any, seconds: float
) -> None:
    job_id = _running(real, contract_server, make(tmp_path))
    clock.advance(seconds - 0.5)
    assert real.get_job_meta(job_id)["status"] == "RUNNING"
    clock.advance(0.5)
    meta = real.get_job_meta(job_id)
    assert meta["status"] == "FINISHED:EXECUTION_EXCEPTION"
    assert meta["job_deploy_detail"] == ["server: OK", "site-1: OK", "site-2: OK"]
    reply = real.api.do_command(f"show_stats {job_id} server")
    assert reply["data"] == [{"type": "error", "data": f"Job_id: {job_id} is not running."}]
    rows = real.api.do_command(f"list_jobs {job_id[:8]}")["data"][0]["rows"]
    assert rows[1][2] == "FINISHED:EXECUTION_EXCEPTION"
    grep = real.api.do_command('grep server "Try to abort run" log.txt')["data"][0]["data"]
    assert f"Try to abort run ({job_id}) on clients." in grep
