"""The job's own config, end to end over TLS: rounds and result files follow it, and an app that does not load
ends the run as a real FLARE 2.3.12 deployment ends it (measured: docs/real-flare.md, "The job's config")."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer, JobScript
from flare_api import Session, VirtualClock
from tests.configjobs import BROKEN, broken_server_job, broken_site_job, client_config, numpy_job, server_config

pytestmark = [pytest.mark.fake_flare_only, pytest.mark.flare_tls]

CONFIG_ERROR = (
    "in JSON element {'id': 'broken', 'path': 'nvflare.app_common.no_such_module.NoSuchComponent', 'args': {}}: "
    "path: components.#N, exception: ModuleNotFoundError: No module named 'nvflare.app_common.no_such_module'"
)


def running(flare: FakeFlareServer, session: Session, folder: Path) -> str:
    job_id = session.submit_job(str(folder))
    flare.jobs.advance_to(job_id, "RUNNING")
    return job_id


def npy_values(data: bytes) -> list[float]:
    header_length = struct.unpack("<H", data[8:10])[0]
    body = data[10 + header_length :]
    return list(struct.unpack(f"<{len(body) // 4}f", body))


def workspace_files(session: Session, job_id: str) -> dict[str, bytes]:
    folder = Path(session.download_job_result(job_id)) / "workspace"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------------------------------ rounds
def test_show_stats_reports_the_workflows_num_rounds(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock, tmp_path: Path
) -> None:
    job_id = running(flare, flare_session, numpy_job(tmp_path, "five", num_rounds=5))
    stats = flare_session.show_stats(job_id, "server")["server"]
    assert stats["ScatterAndGather"]["num_rounds"] == 5
    assert stats["ScatterAndGather"]["current_round"] == 0
    flare_clock.advance(40.0)  # unscripted: 10 s a round
    assert flare_session.show_stats(job_id, "server")["server"]["ScatterAndGather"]["current_round"] == 4
    flare_clock.advance(10.0)
    assert flare_session.get_job_meta(job_id)["status"] == "FINISHED:COMPLETED"


def test_a_scripted_rounds_count_wins_over_the_config(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path
) -> None:
    flare.jobs.script(JobScript.hangs(rounds=9), name="five")
    job_id = running(flare, flare_session, numpy_job(tmp_path, "five", num_rounds=5))
    assert flare_session.show_stats(job_id, "server")["server"]["ScatterAndGather"]["num_rounds"] == 9
    flare_session.abort_job(job_id)


# ------------------------------------------------------------------------------------------------ results
def test_the_result_holds_the_file_the_persistor_writes(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flare_session, "download_dir", str(tmp_path / "downloads"))
    server = server_config(2, persistor_args={"model_dir": "out", "model_name": "weights.npy"})
    job_id = flare_session.submit_job(str(numpy_job(tmp_path, "named-model", server=server)))
    flare.jobs.run_to_completion(job_id)
    files = workspace_files(flare_session, job_id)
    assert sorted(files) == [
        "app_server/config/config_fed_client.json",
        "app_server/config/config_fed_server.json",
        "fl_app.txt",
        "log.txt",
        "meta.json",
        "out/weights.npy",
    ]
    # NPModelPersistor's initial 1..9, plus one per round from NPTrainer (a real 3-round run saved 4..12)
    assert npy_values(files["out/weights.npy"]) == [float(v + 2) for v in range(1, 10)]


def test_an_aborted_run_saves_no_model(flare: FakeFlareServer, flare_session: Session, tmp_path: Path) -> None:
    flare_session.download_dir = str(tmp_path / "downloads")
    job_id = running(flare, flare_session, numpy_job(tmp_path, "aborted"))
    flare_session.abort_job(job_id)
    assert not any(name.startswith("models/") for name in workspace_files(flare_session, job_id))


# -------------------------------------------------------------------------------------- apps that fail to load
def test_a_server_app_that_does_not_load_ends_in_execution_exception(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock, tmp_path: Path
) -> None:
    job_id = running(flare, flare_session, broken_server_job(tmp_path))
    run_log = flare_session.cat_target("server", file=f"{job_id}/log.txt")
    assert "runner_process - INFO - Runner_process started." in run_log
    location = flare.sites.workspace("server") / "startup" / ".." / job_id / "app_server/config/config_fed_server.json"
    expected = f"FL server execution exception: ConfigError: Error processing ['{location}'] " + CONFIG_ERROR.replace(
        "#N", "#4"
    )
    assert expected in run_log
    assert "Server runner starting" not in run_log
    flare_clock.advance(5.9)
    assert flare_session.get_job_meta(job_id)["status"] == "RUNNING"
    flare_clock.advance(0.1)
    meta = flare_session.get_job_meta(job_id)
    assert meta["status"] == "FINISHED:EXECUTION_EXCEPTION"
    assert meta["job_deploy_detail"] == ["server: OK", "site-1: OK", "site-2: OK"]
    assert meta["schedule_count"] == 1
    server_log = flare_session.grep_target("server", pattern=job_id, file="log.txt")
    assert f"ServerEngine - INFO - Job: {job_id} child process exit with return code 103" in server_log
    assert f"JobRunner - INFO - [identity={flare.project.name}, run=?]: Try to abort run ({job_id}) on clients." in (
        server_log
    )


def test_site_apps_that_do_not_load_end_the_run_when_the_sites_are_deemed_dead(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock, tmp_path: Path
) -> None:
    job_id = running(flare, flare_session, broken_site_job(tmp_path))
    for site in ("site-1", "site-2"):
        run_log = flare_session.cat_target(site, file=f"{job_id}/log.txt")
        location = flare.sites.workspace(site) / "startup" / ".." / job_id / f"app_{site}/config/config_fed_client.json"
        assert "worker_process - INFO - Worker_process started." in run_log
        expected = f"FL client execution exception: ConfigError: Error processing ['{location}'] "
        assert expected + CONFIG_ERROR.replace("#N", "#1") in run_log
        assert f"FederatedClient - INFO - Shutting down client run: {site}" in run_log
        assert "client runner started" not in run_log and "got task assignment" not in run_log
    flare_clock.advance(73.9)
    assert flare_session.get_job_meta(job_id)["status"] == "RUNNING"
    flare_clock.advance(0.1)
    assert flare_session.get_job_meta(job_id)["status"] == "FINISHED:EXECUTION_EXCEPTION"
    warnings = flare_session.grep_target("server", pattern="notified SJ of dead-job", file="log.txt").splitlines()
    assert len(warnings) == 14  # both sites, every 10 s from 9 s in, until the run ends
    assert warnings[0].endswith(f"notified SJ of dead-job: job_id='{job_id}'; client_name='site-2'; reason='missing "
                                "job on client'")  # fmt: skip


def test_the_result_of_a_failed_run_holds_flares_error_and_no_model(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path
) -> None:
    flare_session.download_dir = str(tmp_path / "downloads")
    job_id = flare_session.submit_job(str(broken_server_job(tmp_path)))
    assert flare.jobs.run_to_completion(job_id)[0].value == "FINISHED:EXECUTION_EXCEPTION"
    files = workspace_files(flare_session, job_id)
    assert not any(name.startswith("models/") for name in files)
    log = files["log.txt"].decode()
    assert "runner_process - ERROR - FL server execution exception: ConfigError" in log
    assert "Round 0 started." not in log


def test_a_script_can_turn_the_check_off_or_declare_classes_installed(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path
) -> None:
    flare.jobs.script(JobScript(check_loadable=False), name="bad-server-app")
    unchecked = flare_session.submit_job(str(broken_server_job(tmp_path)))
    client = client_config()
    client["components"].append({"id": "mine", "path": "my_site_pkg.models.Net", "args": {}})
    flare.jobs.script(JobScript(loadable=("my_site_pkg.",)), name="installed")
    installed = flare_session.submit_job(str(numpy_job(tmp_path, "installed", client=client)))
    custom_server = server_config(1)
    custom_server["components"].append({"id": "mine", "path": "my_components.Thing", "args": {}})
    shipped = numpy_job(tmp_path, "shipped", server=custom_server, custom={"my_components.py": "class Thing: ..."})
    ships = flare_session.submit_job(str(shipped))
    for job_id in (unchecked, installed, ships):
        assert [s.value for s in flare.jobs.run_to_completion(job_id)] == ["FINISHED:COMPLETED"]


def test_a_broken_app_on_one_site_only_delays_round_0_until_that_site_is_deemed_dead(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock, tmp_path: Path
) -> None:
    """Measured on 2.3.12: the other site trains, round 0 waits for the dead site's 60 s grace period after its
    first report (9 s in), then the run goes on without it and completes (one update aggregated a round)."""
    folder = numpy_job(tmp_path, "split", deploy_map={"app": ["server", "site-1"], "other": ["site-2"]})
    other = folder / "other" / "config"
    other.mkdir(parents=True)
    client = client_config()
    client["executors"][0]["executor"] = dict(BROKEN)
    (other / "config_fed_client.json").write_text(json.dumps(client))
    (other / "config_fed_server.json").write_text(json.dumps(server_config(1)))
    job_id = running(flare, flare_session, folder)
    assert "path: executors.#1.executor" in flare_session.cat_target("site-2", file=f"{job_id}/log.txt")
    assert "Worker_process started" not in flare_session.cat_target("site-1", file=f"{job_id}/log.txt")
    runner = flare_session.grep_target("server", pattern="to be deployed to the clients", file="log.txt")
    assert [line.split(" - ", 3)[3] for line in runner.splitlines()] == [
        f"[identity={flare.project.name}, run=?]: App app to be deployed to the clients: site-1 for run: {job_id}",
        f"[identity={flare.project.name}, run=?]: App other to be deployed to the clients: site-2 for run: {job_id}",
    ]
    flare_clock.advance(68.9)
    assert flare_session.show_stats(job_id, "server")["server"]["ScatterAndGather"]["current_round"] == 0
    flare_clock.advance(0.1)
    assert flare_session.show_stats(job_id, "server")["server"]["ScatterAndGather"]["current_round"] == 1
    flare_clock.advance(24.9)  # rounds 1 and 2 at 10 s each, then the run winds down for 5 s
    assert flare_session.get_job_meta(job_id)["status"] == "RUNNING"
    flare_clock.advance(0.1)
    assert flare_session.get_job_meta(job_id)["status"] == "FINISHED:COMPLETED"
    warnings = flare_session.grep_target("server", pattern="notified SJ of dead-job", file="log.txt").splitlines()
    assert len(warnings) == 9 and all("client_name='site-2'" in line for line in warnings)  # 9 s, 19 s ... 89 s
    assert "Try to abort run" not in flare_session.tail_target_log("server")
    site_1_model = flare.sites.workspace("site-1") / job_id / "model" / "best_numpy.npy"
    assert npy_values(site_1_model.read_bytes()) == [float(v + 3) for v in range(1, 10)]
    assert not (flare.sites.workspace("site-2") / job_id / "model").exists()


def test_each_site_keeps_the_model_its_nptrainer_saved(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock, tmp_path: Path
) -> None:
    """NPTrainer saves ``model/best_numpy.npy`` in the site's run folder after each round it trained."""
    client = client_config()
    client["executors"][0]["executor"]["args"] = {"model_name": "mine.npy"}
    job_id = running(flare, flare_session, numpy_job(tmp_path, "trained", num_rounds=3, client=client))
    assert "model" not in flare_session.ls_target("site-1", path=job_id).split()  # round 0 still training
    flare_clock.advance(10.0)
    assert flare_session.ls_target("site-1", path=f"{job_id}/model") == "mine.npy"
    flare_clock.advance(20.0)
    assert flare_session.get_job_meta(job_id)["status"] == "FINISHED:COMPLETED"
    for site in ("site-1", "site-2"):
        saved = (flare.sites.workspace(site) / job_id / "model" / "mine.npy").read_bytes()
        assert npy_values(saved) == [float(v + 3) for v in range(1, 10)]  # the global model of round 2, plus 1


def test_waiting_and_finished_jobs_hold_no_parsed_config(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path
) -> None:
    """Bounded memory: only a job in the runner keeps its parsed configs."""
    job_id = flare_session.submit_job(str(numpy_job(tmp_path, "held", num_rounds=2)))
    record = flare.jobs.record(job_id)
    assert record.script.rounds == 2 and record.config._parsed == {}
    flare.jobs.advance_to(job_id, "RUNNING")
    assert set(record.config._parsed) == {"app"}
    flare.jobs.run_to_completion(job_id)
    assert record.config._parsed == {}
