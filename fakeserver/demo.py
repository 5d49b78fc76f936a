"""``flare-harness demo``: a fake server with generated certs, and a session that talks to it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Optional, TextIO

from flare_api import VirtualClock, new_secure_session

from .server import FakeFlareServer

DEMO_USER = "admin@nvidia.com"


def run_demo(workspace: Optional[Path], out: TextIO) -> int:
    """Start a server in-process, log in as the project admin, show the system, stop."""
    temp = None
    if workspace is None:
        temp = tempfile.mkdtemp(prefix="flare-harness-demo-")
        workspace = Path(temp)
    clock = VirtualClock()
    try:
        with FakeFlareServer(workspace=workspace, clock=clock) as server:
            host, port = server.address
            kit = server.startup_kit(DEMO_USER)
            print(f"fake FLARE admin server listening on {host}:{port} (TLS, client certificates required)", file=out)
            print(f"startup kit of {DEMO_USER}: {kit}", file=out)
            with new_secure_session(DEMO_USER, kit, timeout=10.0, clock=clock) as session:
                print(f"logged in as {session.username}", file=out)
                print(session.get_system_info(), file=out)
            server.raise_errors()
        print("demo finished: server stopped cleanly", file=out)
        return 0
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
