"""``flare-harness serve --log-requests --record FILE``: a line per request on stderr, JSON lines in FILE."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from flare_api import new_secure_session
from tests.helpers import read_line, reaped


def test_serve_logs_and_records_every_request(tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "fakeserver.cli", "serve", "--workspace", str(tmp_path / "kits")]
    command += ["--log-requests", "--record", str(record)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    with reaped(proc):
        ready = json.loads(read_line(proc, 30))
        kit = ready["startup_kits"]["lead@nvidia.com"]
        with new_secure_session("lead@nvidia.com", kit, timeout=10.0) as session:
            session.list_jobs()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    logged = [line for line in err.splitlines() if line.startswith("[t=")]
    assert len(logged) == 3
    assert "lead@nvidia.com tls 'list_jobs' -> ok: No jobs found." in logged[-1]
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["call"]["command"] for line in lines] == ["_cert_login", "_commands", "list_jobs"]
    assert all(line["call"]["user"] == "lead@nvidia.com" for line in lines)
    assert '"list_jobs"' in lines[-1]["request"] and "No jobs found." in lines[-1]["reply"]
