"""The ``flare-harness`` command line: serve (ready line, signals), provision, demo."""

from __future__ import annotations

import io
import json
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fakeserver.cli import main
from fakeserver.demo import run_demo
from flare_api import new_secure_session
from tests.helpers import USERS


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    """One stdout line of ``proc``, waiting at most ``timeout`` seconds (an event wait, not a sleep)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no output within {timeout} s")
    return proc.stdout.readline()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_ready_serves_and_stops_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "fakeserver.cli", "serve", "--workspace", str(tmp_path / "kits")]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ready = json.loads(_read_line(proc, 30))
        assert ready["event"] == "ready"
        assert ready["host"] == "127.0.0.1" and ready["admin_port"] > 0
        assert sorted(ready["startup_kits"]) == sorted(USERS)
        kit = ready["startup_kits"]["lead@other.org"]
        assert Path(kit).parent == (tmp_path / "kits").resolve()
        with new_secure_session("lead@other.org", kit, timeout=10.0) as session:
            assert session.get_system_info().server_info.status == "stopped"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"event": "stopped", "unexpected_errors": 0}


def test_serve_rejects_a_bad_port(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--port must be between 0 and 65535"):
        main(["serve", "--workspace", str(tmp_path), "--port", "70000"])


def test_provision_writes_kits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", "--workspace", str(tmp_path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["event"] == "provisioned"
    for user in USERS:
        assert (Path(printed["startup_kits"][user]) / "startup" / "fed_admin.json").is_file()


def test_demo_output(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(tmp_path, out) == 0
    text = out.getvalue()
    assert "fake FLARE admin server listening on 127.0.0.1:" in text
    assert "logged in as admin@nvidia.com" in text
    assert "SystemInfo\nserver_info:\nstatus: stopped" in text
    assert "site-1(last_connect_time:" in text
    assert text.rstrip().endswith("demo finished: server stopped cleanly")
