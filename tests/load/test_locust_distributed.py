"""Locust's distributed mode against ``flare-harness serve``: a master and two workers, headless, loopback only.

Every process is separate (``flare-harness serve``, ``locust --master``, two ``locust --worker``), as a
team would run it; the run is bounded in time (``--run-time``) and in requests (each user stops after
``FLARE_MAX_TASKS`` tasks). Runs in the ``load`` tox env.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.helpers import read_line, reaped

if os.environ.get("FLARE_HARNESS_LOAD") != "1":
    pytest.skip("load tests run in their own process: tox -e load", allow_module_level=True)
pytest.importorskip("locust", reason="the load extra is not installed (tox -e load)")

pytestmark = pytest.mark.load

HERE = Path(__file__).resolve().parent
USERS, MAX_TASKS = 4, 15


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ready_line(proc: subprocess.Popen, timeout: float) -> dict:
    return json.loads(read_line(proc, timeout))


def _locust() -> list[str]:
    found = shutil.which("locust", path=str(Path(sys.executable).parent)) or shutil.which("locust")
    assert found, "the locust command is not installed"
    return [found]


def test_master_and_two_workers_against_flare_harness_serve(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    serve = subprocess.Popen(
        [sys.executable, "-m", "fakeserver.cli", "serve", "--workspace", str(tmp_path / "kits")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    procs: list[subprocess.Popen] = []
    try:
        ready = _ready_line(serve, 60)
        env.update(FLARE_KIT=ready["startup_kits"]["lead@nvidia.com"], FLARE_MAX_TASKS=str(MAX_TASKS))
        port = _free_port()
        locustfile = str(HERE / "locustfile_bounded.py")
        stats_file = tmp_path / "stats.json"
        master = subprocess.Popen(
            [
                *_locust(), "-f", locustfile, "--headless", "--master",
                "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                "--expect-workers", "2", "--expect-workers-max-wait", "60",
                "-u", str(USERS), "-r", str(USERS), "--run-time", "8s", "--stop-timeout", "5",
                "--json-file", str(tmp_path / "stats"), "--exit-code-on-error", "3",
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        )  # fmt: skip
        procs.append(master)
        for _ in range(2):
            worker = [*_locust(), "-f", locustfile, "--worker", "--master-host", "127.0.0.1"]
            worker += ["--master-port", str(port)]
            procs.append(subprocess.Popen(worker, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
        _, master_log = master.communicate(timeout=120)
        worker_codes = [proc.wait(timeout=60) for proc in procs[1:]]
        serve.send_signal(signal.SIGTERM)
        serve_out, serve_err = serve.communicate(timeout=30)
    finally:
        with ExitStack() as stack:
            for proc in [*procs, serve]:
                stack.enter_context(reaped(proc))
    assert master.returncode == 0, master_log[-3000:]
    assert worker_codes == [0, 0]
    assert "2 workers connected" in master_log or "(2 total workers)" in master_log, master_log[-3000:]
    entries = json.loads(stats_file.read_text())
    requests = sum(entry["num_requests"] for entry in entries)
    failures = sum(entry["num_failures"] for entry in entries)
    assert failures == 0, entries
    assert {"get_system_info", "list_jobs", "submit_job", "get_job_meta"} <= {entry["name"] for entry in entries}
    assert 20 <= requests <= USERS * (MAX_TASKS + 1) * 2
    assert serve.returncode == 0, serve_err
    assert json.loads(serve_out.strip().splitlines()[-1]) == {"event": "stopped", "unexpected_errors": 0}
