"""The real FLARE 2.3.12 admin console (``fl_admin.sh`` of our startup kits) works against the fake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fakeserver import FakeFlareServer


def test_fl_admin_sh_console_session(nvflare_api, real_clock_server: FakeFlareServer) -> None:
    kit = real_clock_server.startup_kit("admin@nvidia.com")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    commands = "admin@nvidia.com\ncheck_status server\nlist_jobs\nbye\n"
    result = subprocess.run(
        ["bash", str(kit / "startup" / "fl_admin.sh")],
        input=commands,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Logged into server at 127.0.0.1:{real_clock_server.port}" in out
    assert "Engine status: stopped" in out
    assert "Registered clients: 2 " in out
    assert "No jobs found." in out or "JOB ID" in out
