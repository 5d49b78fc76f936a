"""The real nvflare 2.4.2, 2.5.2 and 2.6.3 clients against the fake of their version (tox contract24/25/26).

One scenario set, driven by tests/contract/versions.py: the installed wheel picks the release, the fake is
started with that ``flare_version``, and what the real client reads must be what the real server of that
version answers (recorded in scripts/real_flare_socket/captures). With nvflare 2.3 installed these skip
(the 2.3 suite is the other tests/contract modules).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from tests.contract.versions import FlareRelease, release_of
from tests.helpers import USERS
from tests.jobfolders import write_job

ADMIN = "admin@nvidia.com"
FAST = JobScript(queued=Phase.after(0.05), deploying=Phase.after(0.05), running=Phase.after(0.4))
HANGS = JobScript(queued=Phase.after(0.05), deploying=Phase.after(0.05), running=Phase.never())
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def release(nvflare_release: tuple[Any, FlareRelease]) -> FlareRelease:
    return nvflare_release[1]


@pytest.fixture(scope="module")
def nvflare_release() -> tuple[Any, FlareRelease]:
    """The installed real client's flare_api module and its release data; skips for 2.3 or no nvflare."""
    try:
        import nvflare
        from nvflare.fuel.flare_api import flare_api
    except ImportError as exc:
        if os.environ.get("FLARE_HARNESS_CONTRACT") == "1":
            pytest.fail(f"the contract env must provide an nvflare client: {exc}")
        pytest.skip(f"no nvflare client installed ({exc}); run `tox -e contract26`")
    release = release_of(nvflare.__version__)
    if release is None:
        pytest.skip(f"nvflare {nvflare.__version__}: the 2.4-2.6 scenarios do not apply")
    assert nvflare.__version__ == release.wheel, "the contract env installs the newest patch of the series"
    return flare_api, release


@pytest.fixture(scope="module")
def api(nvflare_release: tuple[Any, FlareRelease]) -> Any:
    return nvflare_release[0]


@pytest.fixture(scope="module")
def server(release: FlareRelease, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    """A fake of the installed client's version on the real clock (the real client runs its own timers)."""
    workspace = tmp_path_factory.mktemp(f"kits-{release.flare_version}")
    with FakeFlareServer(
        workspace=workspace, default_script=FAST, intercept=False, flare_version=release.flare_version
    ) as fake:
        yield fake
        fake.raise_errors()


@pytest.fixture(scope="module")
def real(api: Any, server: FakeFlareServer) -> Iterator[Any]:
    session = api.new_secure_session(ADMIN, str(server.startup_kit(ADMIN)), timeout=15.0)
    yield session
    session.close()


@pytest.fixture
def quiet_server(server: FakeFlareServer) -> FakeFlareServer:
    """The shared server with no job left unfinished by an earlier test (xdist and random order share it)."""
    server.jobs.run_to_completion()
    return server


def _job_copy(tmp_path: Path, name: str = "hello-numpy") -> str:
    """A copy of the example job: the real client writes signature files into the folder it submits."""
    target = tmp_path / name
    shutil.copytree(example_job(), target)
    return str(target)


def _running_job(real: Any, server: FakeFlareServer, tmp_path: Path) -> str:
    server.jobs.script_next(HANGS)
    job_id = real.submit_job(_job_copy(tmp_path))
    server.jobs.advance_to(job_id, "RUNNING")
    return job_id


def _raised(fn: Any) -> str:
    with pytest.raises(Exception) as caught:
        fn()
    return f"{type(caught.value).__name__}: {caught.value}"


@pytest.mark.parametrize("user", USERS)
def test_every_role_logs_in_and_reads_system_info(api: Any, server: FakeFlareServer, user: str) -> None:
    session = api.new_secure_session(user, str(server.startup_kit(user)), timeout=15.0)
    try:
        info = session.get_system_info()
    finally:
        session.close()
    assert info.server_info.status == "stopped"
    assert [c.name for c in info.client_info] == ["site-1", "site-2"]


def test_wrong_user_is_rejected(api: Any, server: FakeFlareServer) -> None:
    with pytest.raises(api.NoConnection, match="cannot connect to FLARE in 3 seconds"):
        api.new_secure_session("lead@nvidia.com", str(server.startup_kit(ADMIN)), timeout=3)


def test_command_table_is_the_versions(real: Any, release: FlareRelease) -> None:
    rows = real.api.server_execute("_commands")["data"][0]["rows"]
    assert rows[0] == ["SCOPE", "COMMAND", "DESCRIPTION", "USAGE", "CONFIRM", "CLIENTCMD", "VISIBLE"]
    assert {row[1] for row in rows[1:]} == release.commands
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["submit_job"][5] == release.submit_clientcmd
    assert by_name["download_job"][5] == "file_transfer.pull_folder"
    assert by_name["download_job_file"][5:] == ["file_transfer.pull_binary", "False"]


def test_submit_and_monitor_to_completion(real: Any, tmp_path: Path) -> None:
    job_id = real.submit_job(_job_copy(tmp_path))
    seen: list[str] = []

    def record(session: Any, jid: str, meta: dict, *args: Any, **kwargs: Any) -> bool:
        assert session is real and jid == job_id and args == ("x",) and kwargs == {"k": 1}
        seen.append(meta["status"])
        return True

    assert real.monitor_job(job_id, 30.0, 0.05, record, "x", k=1) == 0  # MonitorReturnCode.JOB_FINISHED
    assert seen[-1] == "FINISHED:COMPLETED" and "RUNNING" in seen
    assert (Path(tmp_path) / "hello-numpy" / ".__nvfl_sig.json").is_file()  # signed in place, accepted


def test_list_meta_clone_delete(real: Any, tmp_path: Path) -> None:
    job_id = real.submit_job(_job_copy(tmp_path))
    real.monitor_job(job_id, 30.0, 0.05)
    meta = real.get_job_meta(job_id)
    assert meta["status"] == "FINISHED:COMPLETED" and meta["submitter_name"] == ADMIN
    assert meta["job_folder_name"] == "hello-numpy"
    listed = real.list_jobs(id_prefix=job_id[:8])
    assert [(j["job_id"], j["job_name"], j["status"]) for j in listed] == [(job_id, "hello-numpy", meta["status"])]
    assert [j["job_id"] for j in real.list_jobs(name_prefix="nothing-matches")] == []
    clone_id = real.clone_job(job_id)
    assert real.get_job_meta(clone_id)["cloned_from"] == job_id
    real.monitor_job(clone_id, 30.0, 0.05)
    real.delete_job(clone_id)
    assert _raised(lambda: real.get_job_meta(clone_id)) == f"JobNotFound: no such job: {clone_id}"


def test_download_lands_where_flare_puts_it(real: Any, tmp_path: Path) -> None:
    job_id = real.submit_job(_job_copy(tmp_path))
    real.monitor_job(job_id, 30.0, 0.05)
    path = real.download_job_result(job_id)
    assert path == os.path.join(real.download_dir, job_id)
    root = Path(path)
    assert json.loads((root / "meta.json").read_text())["job_id"] == job_id  # 2.4+: the job meta beside job/
    assert (root / "job" / "hello-numpy" / "meta.json").is_file()
    assert (root / "job" / "hello-numpy" / ".__nvfl_sig.json").is_file()
    assert (root / "workspace" / "log.txt").is_file()
    assert not list(root.rglob("*.zip"))  # the client unpacked every zip
    again = real.download_job_result(job_id)
    assert again == os.path.join(real.download_dir, f"{job_id}__1")  # the first one exists
    assert sorted(p.relative_to(again) for p in Path(again).rglob("*")) == sorted(
        p.relative_to(root) for p in root.rglob("*")
    )


def test_console_submit_and_download(real: Any, server: FakeFlareServer, tmp_path: Path) -> None:
    """The console's ``submit_job`` (2.4 base64, 2.5+ binary push) and ``download_job`` (the version's pulls)."""
    kit = server.startup_kit(ADMIN)
    upload_dir = Path(real.upload_dir)
    shutil.copytree(example_job(), upload_dir / "console-job", dirs_exist_ok=True)
    finished = real.submit_job(_job_copy(tmp_path))
    real.monitor_job(finished, 30.0, 0.05)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run(
        ["bash", str(kit / "startup" / "fl_admin.sh")],
        input=f"{ADMIN}\nsubmit_job console-job\ndownload_job {finished}\nbye\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Submitted job: " in result.stdout, result.stdout
    submitted = result.stdout.split("Submitted job: ")[1].split()[0]
    assert real.get_job_meta(submitted)["job_folder_name"] == "console-job"
    real.monitor_job(submitted, 30.0, 0.05)  # leave no job running for the tests that share this server
    landed = Path(real.download_dir) / finished
    assert f"content downloaded to {os.path.join(real.download_dir, finished)}" in result.stdout.replace(
        os.path.join(str(kit), "startup", ".."), str(kit)
    ), result.stdout
    assert sorted(p.name for p in landed.iterdir()) == ["job", "meta.json", "workspace"]


def test_abort_and_delete_a_running_job(real: Any, server: FakeFlareServer, tmp_path: Path) -> None:
    job_id = _running_job(real, server, tmp_path)
    assert _raised(lambda: real.delete_job(job_id)) == f"JobNotDone: job {job_id} is still running"
    real.abort_job(job_id)
    assert real.get_job_meta(job_id)["status"] == "FINISHED:ABORTED"
    real.delete_job(job_id)


def test_error_classes(
    real: Any, api: Any, release: FlareRelease, quiet_server: FakeFlareServer, tmp_path: Path
) -> None:
    for name in release.exceptions:
        assert issubclass(getattr(api, name), Exception)
    assert _raised(lambda: real.get_job_meta("not-a-job-id")) == "JobNotFound: no such job: not-a-job-id"
    assert _raised(lambda: real.get_job_meta(MISSING)) == f"JobNotFound: no such job: {MISSING}"
    assert _raised(lambda: real.download_job_result(MISSING)) == f"JobNotFound: no such job: {MISSING}"
    assert _raised(lambda: real.clone_job(MISSING)) == f"JobNotFound: no such job: {MISSING}"
    bad = write_job(tmp_path, "empty_deploy", deploy_map={})
    assert _raised(lambda: real.submit_job(str(bad))) == f"InvalidJobDefinition: {release.bad_deploy_map}"
    site9 = "InvalidTarget: invalid client(s): site-9"
    assert _raised(lambda: real.get_client_job_status(["site-9"])) == site9
    assert _raised(lambda: real.get_client_env(["site-9"])) == site9
    assert _raised(lambda: real.shutdown("client", ["site-9"])) == site9
    assert _raised(lambda: real.shutdown("server")) == "ClientsStillRunning: one or more clients are still running"
    finished = real.submit_job(_job_copy(tmp_path / "fin"))
    real.monitor_job(finished, 30.0, 0.05)
    not_running = f"JobNotRunning: job {finished} is not running"
    assert _raised(lambda: real.show_stats(finished, "server")) == not_running
    assert _raised(lambda: real.show_errors(finished, "client")) == not_running
    assert _raised(lambda: real.reset_errors(finished)) == not_running
    if hasattr(real, "do_app_command"):  # 2.5+
        assert _raised(lambda: real.do_app_command(finished, "topic", {"a": 1})) == not_running
    if hasattr(real, "list_job_components"):  # 2.6: the real server has no components for a plain job
        assert _raised(lambda: real.list_job_components(finished)) == (
            "InternalError: no_job_compoents: No additional job components found."
        )
        assert _raised(lambda: real.list_job_components(MISSING)) == f"JobNotFound: no such job: {MISSING}"


def test_stats_and_client_env_of_a_running_job(real: Any, quiet_server: FakeFlareServer, tmp_path: Path) -> None:
    job_id = _running_job(real, quiet_server, tmp_path)
    try:
        assert list(real.show_stats(job_id, "server")) == ["server"]
        assert sorted(real.show_stats(job_id, "client")) == ["site-1", "site-2"]
        assert sorted(real.show_stats(job_id, "client", ["site-1"])) == ["site-1"]
        assert isinstance(real.show_errors(job_id, "client"), (dict, type(None)))
        real.reset_errors(job_id)
        statuses = real.get_client_job_status()
        assert [(s["client_name"], s["job_id"], s["status"]) for s in statuses] == [
            ("site-1", job_id, "started"),
            ("site-2", job_id, "started"),
        ]
        assert [c.name for c in real.get_connected_client_list()] == ["site-1", "site-2"]
        envs = real.get_client_env()
        assert [e["site_name"] for e in envs] == ["site-1", "site-2"]
        assert all({"site_name", "workspace", "secure_mode", "root_url"} <= set(e) for e in envs)
        assert _raised(lambda: real.shutdown("all")).startswith("JobNotDone: ")
    finally:
        real.abort_job(job_id)


def test_shell_commands(real: Any) -> None:
    listing = real.ls_target("server")
    assert "startup" in listing.split("\n")
    assert real.get_working_directory("site-1").endswith("site-1")
    assert real.cat_target("server", file="startup/fed_server.json").lstrip().startswith("{")
    assert _raised(lambda: real.ls_target("server", options="-x")) == "InternalError: error: unrecognized arguments: -x"
    assert _raised(lambda: real.ls_target("site-9")) == "InvalidTarget: invalid target: site-9"


def test_console_session(api: Any, server: FakeFlareServer) -> None:
    kit = server.startup_kit(ADMIN)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run(
        ["bash", str(kit / "startup" / "fl_admin.sh")],
        input="admin@nvidia.com\ncheck_status server\nlist_jobs\nbye\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Logged into server at 127.0.0.1:{server.port}" in result.stdout
    assert "Engine status: stopped" in result.stdout
    assert "Registered clients: 2 " in result.stdout
    assert "no cmd handler found" not in result.stdout  # every CLIENTCMD of the table is one this client knows


@pytest.mark.parametrize("version", ["2.4", "2.5", "2.6"])
def test_release_data_is_the_real_servers_table(version: str) -> None:
    """versions.py against the `_commands` table a real deployment of that version answered (captures/)."""
    from tests.contract.versions import RELEASES

    release = RELEASES[version]
    capture = Path(__file__).parents[2] / "scripts" / "real_flare_socket" / "captures" / f"real-{release.wheel}.json"
    rows = [json.loads(row) for row in json.loads(capture.read_text())["_commands rows"]]
    assert {row[1] for row in rows if row[0] != "SCOPE"} == release.commands
    assert [row[5] for row in rows if row[1] == "submit_job"] == [release.submit_clientcmd]
