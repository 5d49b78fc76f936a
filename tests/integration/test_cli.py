"""The ``flare-harness`` command line: serve (ready line, signals), provision, demo."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fakeserver.cli import (
    EXIT_BAD_HOST,
    EXIT_BAD_WORKSPACE,
    EXIT_CODES,
    EXIT_PORT_UNAVAILABLE,
    EXIT_USAGE,
    EXIT_WORKSPACE_BUSY,
    CliError,
    main,
)
from fakeserver.demo import run_demo
from fakeserver.workspace_lock import LOCK_NAME
from flare_api import new_secure_session
from tests.helpers import USERS, read_line, reaped


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_ready_serves_and_stops_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "fakeserver.cli", "serve", "--workspace", str(tmp_path / "kits")]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    with reaped(proc):
        ready = json.loads(read_line(proc, 30))
        assert ready["event"] == "ready"
        assert ready["host"] == "127.0.0.1" and ready["admin_port"] > 0
        assert sorted(ready["startup_kits"]) == sorted(USERS)
        kit = ready["startup_kits"]["lead@other.org"]
        assert Path(kit).parent == (tmp_path / "kits").resolve()
        with new_secure_session("lead@other.org", kit, timeout=10.0) as session:
            assert session.get_system_info().server_info.status == "stopped"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"event": "stopped", "unexpected_errors": 0}


def test_serve_rejects_a_bad_port(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--port must be between 0 and 65535"):
        main(["serve", "--workspace", str(tmp_path), "--port", "70000"])


def _cli_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``main(argv)`` expecting a CliError: its exit code and what went to stderr."""
    with pytest.raises(CliError) as raised:
        main(argv)
    return raised.value.code, capsys.readouterr().err  # type: ignore[return-value]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.strip() == f"flare-harness {version('flare-harness')}"


def test_help_lists_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for code, meaning in EXIT_CODES.items():
        assert f"  {code}  {meaning}" in out
    assert len(set(EXIT_CODES)) == len(EXIT_CODES) == 7


def test_bad_port_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli_error(["serve", "--workspace", str(tmp_path / "kits"), "--port", "-1"], capsys)
    assert code == EXIT_USAGE
    assert err == "flare-harness: error: --port must be between 0 and 65535, got -1\n"
    assert not (tmp_path / "kits").exists()


def test_an_unwritable_record_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for record in (tmp_path, tmp_path / "missing" / "calls.jsonl"):
        argv = ["serve", "--workspace", str(tmp_path / "kits"), "--record", str(record)]
        code, err = _cli_error(argv, capsys)
        assert code == EXIT_USAGE
        assert err == f"flare-harness: error: --record {record} cannot be written (not a file in a writable folder)\n"
    assert not (tmp_path / "kits").exists()


def test_port_in_use_fails_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, err = _cli_error(["serve", "--workspace", str(tmp_path / "kits"), "--port", str(port)], capsys)
    assert code == EXIT_PORT_UNAVAILABLE
    assert err.startswith(f"flare-harness: error: cannot listen on 127.0.0.1:{port}: ") and err.count("\n") == 1
    assert not (tmp_path / "kits").exists()


@pytest.mark.parametrize("host", ["192.0.2.1", "bad:host", "two words", ""])
def test_bad_host_fails_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str) -> None:
    code, err = _cli_error(["serve", "--workspace", str(tmp_path / "kits"), "--host", host], capsys)
    assert code == EXIT_BAD_HOST
    assert err.startswith("flare-harness: error: ") and err.count("\n") == 1
    assert not (tmp_path / "kits").exists()


@pytest.mark.parametrize("command", ["serve", "provision", "demo"])
def test_a_file_is_not_a_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    file = tmp_path / "file"
    file.write_text("not a folder")
    for workspace, message in [(file, "exists and is not a folder"), (file / "kits", "is not a folder")]:
        code, err = _cli_error([command, "--workspace", str(workspace)], capsys)
        assert code == EXIT_BAD_WORKSPACE
        assert message in err and err.count("\n") == 1
    assert file.read_text() == "not a folder"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_workspace_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        for workspace in (locked, locked / "kits"):
            code, err = _cli_error(["provision", "--workspace", str(workspace)], capsys)
            assert code == EXIT_BAD_WORKSPACE and "writable" in err
    finally:
        locked.chmod(0o700)


def test_errors_are_one_line_without_traceback_in_a_real_process(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("")
    command = [sys.executable, "-m", "fakeserver.cli", "provision", "--workspace", str(file)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_BAD_WORKSPACE
    assert done.stderr == f"flare-harness: error: --workspace {file} exists and is not a folder\n"
    assert done.stdout == ""


def _start_serve(workspace: Path) -> tuple[subprocess.Popen, dict]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "fakeserver.cli", "serve", "--workspace", str(workspace)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        return proc, json.loads(read_line(proc, 30))
    except BaseException:
        proc.kill()
        proc.communicate()
        raise


def test_a_running_serve_owns_its_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = tmp_path / "kits"
    proc, ready = _start_serve(workspace)
    with reaped(proc):
        assert (workspace / LOCK_NAME).read_text().strip() == str(proc.pid)
        kit_before = (Path(ready["startup_kits"]["lead@nvidia.com"]) / "startup" / "client.crt").read_bytes()
        for command in ("provision", "serve", "demo"):
            code, err = _cli_error([command, "--workspace", str(workspace)], capsys)
            assert code == EXIT_WORKSPACE_BUSY
            assert err == (
                f"flare-harness: error: workspace {workspace} is in use by a running 'flare-harness serve' "
                f"(process {proc.pid})\n"
            )
        kit_after = (Path(ready["startup_kits"]["lead@nvidia.com"]) / "startup" / "client.crt").read_bytes()
        assert kit_after == kit_before
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert not (workspace / LOCK_NAME).exists()
    assert main(["provision", "--workspace", str(workspace)]) == 0


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    workspace = tmp_path / "kits"
    workspace.mkdir()
    (workspace / LOCK_NAME).write_text(dead.stdout)
    assert main(["provision", "--workspace", str(workspace)]) == 0
    proc, ready = _start_serve(workspace)
    with reaped(proc):
        assert ready["event"] == "ready"
        assert (workspace / LOCK_NAME).read_text().strip() == str(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0 and not (workspace / LOCK_NAME).exists()


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_demo_survives_a_closed_pipe(unbuffered: str) -> None:
    """``flare-harness demo | head -1``: the first line arrives, then the demo ends quietly with code 0."""
    env = dict(os.environ, PYTHONUNBUFFERED=unbuffered)
    command = f"set -o pipefail; {sys.executable} -m fakeserver.cli demo | head -1"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("fake FLARE admin server listening on 127.0.0.1:")
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""


def test_demo_stops_cleanly_when_the_reader_goes_away_mid_run() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "fakeserver.cli", "demo"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    with reaped(proc):
        assert read_line(proc, 60).startswith("fake FLARE admin server")
        assert proc.stdout is not None
        proc.stdout.close()
        err = proc.stderr.read() if proc.stderr else ""
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert err == ""


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
    assert "server is up: no job running (FLARE reports the engine status as 'stopped')" in text
    assert "client sites connected: site-1, site-2" in text
    assert text.rstrip().endswith("demo finished: server stopped cleanly")
