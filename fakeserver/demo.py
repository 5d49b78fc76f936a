"""``flare-harness demo``: a fake server with generated certs, and a session that talks to it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Optional, TextIO

from flare_api import Session, VirtualClock, new_secure_session

from .example_jobs import example_job
from .model.job_script import JobScript, Phase
from .server import FakeFlareServer

#: The demo job: queued 1 s, deploying 3 s, then ten (virtual) minutes of training.
DEMO_SCRIPT = JobScript(queued=Phase.after(1.0), deploying=Phase.after(3.0), running=Phase.after(600.0))

DEMO_USER = "admin@nvidia.com"


def run_demo(workspace: Optional[Path], out: TextIO) -> int:
    """Start a server in-process, log in as the project admin, submit and monitor a job, download it."""
    temp = None
    if workspace is None:
        temp = tempfile.mkdtemp(prefix="flare-harness-demo-")
        workspace = Path(temp)
    clock = VirtualClock()
    try:
        # intercept=False: the demo's session goes over real mutual TLS, as a pipeline's would in production.
        with FakeFlareServer(workspace=workspace, clock=clock, default_script=DEMO_SCRIPT, intercept=False) as server:
            host, port = server.address
            kit = server.startup_kit(DEMO_USER)
            print(f"fake FLARE admin server listening on {host}:{port} (TLS, client certificates required)", file=out)
            print(f"startup kit of {DEMO_USER}: {kit}", file=out)
            with new_secure_session(DEMO_USER, kit, timeout=10.0, clock=clock) as session:
                print(f"logged in as {session.username}", file=out)
                _print_system_info(session, out)
                _run_job(session, clock, out)
            server.raise_errors()
        if temp is not None:
            print("(the demo ran in a temporary folder, removed now; pass --workspace DIR to keep it)", file=out)
        print("demo finished: server stopped cleanly", file=out)
        return 0
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _print_system_info(session: Session, out: TextIO) -> None:
    """``check_status server``, worded for people: FLARE's engine status "stopped" means "no job running"."""
    info = session.get_system_info()
    engine = info.server_info.status
    running = "no job running" if engine == "stopped" else f"{len(info.job_info)} job(s) running"
    print(f"server is up: {running} (FLARE reports the engine status as {engine!r})", file=out)
    sites = ", ".join(client.name for client in info.client_info) or "none"
    print(f"client sites connected: {sites}", file=out)


def _run_job(session: Session, clock: VirtualClock, out: TextIO) -> None:
    """Submit the bundled example job, print a line per status change, download the result."""
    folder = example_job("hello-numpy")
    job_id = session.submit_job(str(folder))
    print(f"submitted {folder.name} as job {job_id}", file=out)
    started = clock.time()
    last: list[str] = []

    def progress(_session: Session, _job_id: str, meta: dict, *_: object) -> bool:
        status = meta["status"]
        if not last or last[-1] != status:
            last.append(status)
            print(f"  [{clock.time() - started:6.1f} s virtual] {status}", file=out)
        return True

    code = session.monitor_job(job_id, timeout=0.0, poll_interval=2.0, cb=progress)
    print(f"monitor_job returned {code.name}", file=out)
    path = Path(session.download_job_result(job_id))
    print(f"result downloaded to {path}", file=out)
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        print(f"  {file.relative_to(path)} ({file.stat().st_size} bytes)", file=out)
