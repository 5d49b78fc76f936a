"""``flare-harness serve --scenario FILE`` end to end over TLS, and its one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakeserver.cli import EXIT_USAGE, CliError, main
from fakeserver.example_jobs import example_job
from flare_api import MonitorReturnCode, new_secure_session
from tests.helpers import read_line, reaped

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

MANUAL = """
[project]
sites = [{ name = "site-1", org = "nvidia", resources = { list = { gpu = [0] } } }, { name = "site-2", org = "other" }]
users = [{ name = "lead@nvidia.com", org = "nvidia", role = "lead" }]

[jobs.by_name.hello-numpy]
outcome = "FAILED_TO_RUN"
failure = "cannot load app"

[clock]
mode = "virtual"
start = "2026-06-01T00:00:00Z"
advance = "manual"
"""


def _serve(tmp_path: Path, scenario: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "fakeserver.cli", "serve", "--workspace", str(tmp_path / "kits")]
    command += ["--scenario", str(scenario)]
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_manual_clock_users_and_scripts_from_a_toml_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(MANUAL)
    proc = _serve(tmp_path, scenario)
    with reaped(proc):
        ready = json.loads(read_line(proc, 30))
        assert list(ready["startup_kits"]) == ["lead@nvidia.com"]
        kit = ready["startup_kits"]["lead@nvidia.com"]
        with new_secure_session("lead@nvidia.com", kit, timeout=10.0) as session:
            job_id = session.submit_job(str(example_job()))
            assert proc.stdin is not None
            proc.stdin.write("advance nonsense\n")
            proc.stdin.flush()
            assert json.loads(read_line(proc, 30))["event"] == "clock_error"
            proc.stdin.write("advance 5\n")
            proc.stdin.flush()
            assert json.loads(read_line(proc, 30)) == {"event": "clock", "time": 1780272000.0 + 5}
            meta = session.get_job_meta(job_id)
            assert meta["status"] == "FINISHED:FAILED_TO_RUN"
            assert meta["job_deploy_detail"] == ["server: cannot load app"]
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_the_example_scenario_serves_with_an_automatic_clock(tmp_path: Path) -> None:
    proc = _serve(tmp_path, EXAMPLES / "scenario.yaml")
    with reaped(proc):
        ready = json.loads(read_line(proc, 30))
        kit = ready["startup_kits"]["admin@nvidia.com"]
        with new_secure_session("admin@nvidia.com", kit, timeout=10.0) as session:
            first = session.get_system_info().server_info.start_time
            # the clock moves on its own (10 virtual s per wall s): wait for it through the server, not a sleep
            job_id = session.submit_job(str(example_job()))
            code = session.monitor_job(job_id, timeout=30.0, poll_interval=0.05)
            assert code is MonitorReturnCode.JOB_FINISHED
            assert session.get_job_status(job_id) == "FINISHED:COMPLETED"
            assert first >= 1767225600.0
        proc.terminate()
        proc.communicate(timeout=30)


def test_a_bad_scenario_is_a_one_line_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clock: {mode: sundial}\n")
    with pytest.raises(CliError) as raised:
        main(["serve", "--workspace", str(tmp_path / "kits"), "--scenario", str(bad)])
    assert raised.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == f"flare-harness: error: --scenario {bad}: clock.mode: 'sundial' is not one of ['real', 'virtual']\n"
    assert not (tmp_path / "kits").exists()  # refused before anything is written
