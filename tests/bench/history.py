"""A fake server with a long history (many finished jobs, many sessions), built fast and honestly.

The jobs are real submissions: one job folder is zipped once and its ``submit_job`` line sent again and
again through the in-process transport, on a virtual clock that moves one second per submit, so every
job goes through the store, the scheduler and the runner (all phases last 0 s) and ends COMPLETED.
Used by ``tests/bench/test_bench_history.py`` and ``scripts/measure_history.py``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from fakeserver import FakeFlareServer, JobScript, Phase
from flare_api import Session
from flare_api.clock import VirtualClock
from flare_api.job_folder import submit_command_args
from flare_api.wire.commands import join_command_line

ADMIN = "admin@nvidia.com"
#: Every phase ends at once: a submitted job is COMPLETED by the next request's replay.
INSTANT = JobScript(queued=Phase.after(0.0), deploying=Phase.after(0.0), running=Phase.after(0.0), rounds=1)
#: Queued for a year: the job stays SUBMITTED with a scheduler attempt due in the future.
PENDING = JobScript(queued=Phase.after(365 * 86400.0))


def write_job_folder(root: Path, name: str = "hello") -> Path:
    """A minimal FLARE job folder (meta.json + one app)."""
    folder = root / name
    (folder / "app" / "config").mkdir(parents=True, exist_ok=True)
    meta = {"name": name, "resource_spec": {}, "deploy_map": {"app": ["@ALL"]}, "min_clients": 1}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "app" / "config" / "config_fed_server.json").write_text('{"format_version": 2, "workflows": []}')
    (folder / "app" / "config" / "config_fed_client.json").write_text('{"format_version": 2, "executors": []}')
    return folder


def new_server(workspace: Path) -> FakeFlareServer:
    return FakeFlareServer(workspace=workspace, clock=VirtualClock(), default_script=INSTANT)


def submit_line(folder: Path) -> str:
    name, payload = submit_command_args(folder)
    return join_command_line(["submit_job", name, payload])


def fill(
    server: FakeFlareServer, session: Session, line: str, jobs: int, sessions: int, *, pending: bool = False
) -> None:
    """``jobs`` submissions (one virtual second apart), then ``sessions`` logins left open. ``pending``:
    the jobs stay queued (SUBMITTED, each with a future event) instead of completing."""
    clock = server.clock
    assert isinstance(clock, VirtualClock)
    if pending and jobs:
        server.jobs.script_next(PENDING, jobs)
    for _ in range(jobs):
        session.do_command(line)
        clock.advance(1.0)
    for _ in range(sessions):
        server.session(ADMIN, in_process=True)


def p50(action: Callable[[], object], rounds: int) -> float:
    """Median seconds of ``rounds`` calls (for the measurement script; tests use pytest-benchmark)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
