"""The fake's server and site workspaces look like a running FLARE 2.3.12 deployment's (docs/real-flare.md).

Top-level files and folders, ``local/`` and ``startup/``; per-job run folders (on the server while the job has
a run process, on each site from deployment on); the server's ``audit.log`` in FLARE's ``CommandAudit``
format; ``download_job`` unpacking into ``transfer/<job_id>``. Everything is read through our client's
``ls_target``/``cat_target`` where FLARE lets a shell command read it.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from fakeserver.model.policy import DEFAULT_POLICY
from flare_api import Session, VirtualClock
from tests.helpers import login, raw

pytestmark = pytest.mark.fake_flare_only

TOP_LEVEL = [
    "audit.log", "daemon_pid.fl", "local", "log.txt", "pid.fl", "readme.txt", "start.out", "startup", "transfer",
]  # fmt: skip
LOCAL = ["authorization.json.default", "log.config.default", "privacy.json.sample", "resources.json.default"]
SERVER_STARTUP = [
    "fed_server.json", "rootCA.pem", "server.crt", "server.key", "server.pfx",
    "signature.json", "start.sh", "stop_fl.sh", "sub_start.sh",
]  # fmt: skip
CLIENT_STARTUP = [
    "client.crt", "client.key", "client.pfx", "fed_client.json", "rootCA.pem",
    "signature.json", "start.sh", "stop_fl.sh", "sub_start.sh",
]  # fmt: skip
RUN_FOLDER = ["fl_app.txt", "log.txt", "meta.json"]
AUDIT_LINE = re.compile(
    r"^\[E:(?P<event>[0-9a-f-]{36})\]\[T:(?P<time>[^]]+)\]\[U:(?P<user>[^]]*)\]\[A:(?P<action>.*)\]$"
)


def listing(session: Session, target: str, path: str | None = None) -> list[str]:
    return session.ls_target(target, path=path).splitlines()


def submitted(flare: FakeFlareServer, session: Session) -> str:
    """Submit the example job, scripted to run 30 s in 3 rounds."""
    flare.jobs.script(JobScript.completes(after=30, rounds=3), name="hello-numpy")
    return session.submit_job(str(example_job()))


def audit_lines(session: Session) -> list[str]:
    return session.cat_target("server", file="audit.log").splitlines()


# ------------------------------------------------------------------------------------------ layout
@pytest.mark.parametrize("target", ["server", "site-1", "site-2"])
def test_top_level_and_local_folders(flare_session: Session, target: str) -> None:
    assert listing(flare_session, target) == TOP_LEVEL
    assert listing(flare_session, target, "local") == LOCAL
    assert listing(flare_session, target, "transfer") == []


def test_startup_folders_have_the_kit_file_names(flare: FakeFlareServer, flare_session: Session) -> None:
    assert listing(flare_session, "server", "startup") == SERVER_STARTUP
    assert listing(flare_session, "site-1", "startup") == CLIENT_STARTUP
    kit_files = [flare.sites.workspace("server") / "startup" / "server.key"]
    kit_files.append(flare.sites.workspace("site-1") / "startup" / "client.key")
    for key in kit_files:
        assert "PRIVATE KEY" not in key.read_text() and "Stand-in" in key.read_text()
    assert "-rwxr-xr-x" in flare_session.ls_target("server", "-l", "startup/start.sh")


#: What ``nvflare provision`` 2.3.12 writes for the default project (server localhost, ports 8002/8003).
OVERSEER = {
    "path": "nvflare.ha.dummy_overseer_agent.DummyOverseerAgent",
    "args": {"sp_end_point": "localhost:8002:8003"},
}
FED_SERVER = {
    "format_version": 2,
    "servers": [
        {
            "name": "flare_harness",
            "service": {"target": "localhost:8002", "scheme": "grpc"},
            "admin_host": "localhost",
            "admin_port": 8003,
            "ssl_private_key": "server.key",
            "ssl_cert": "server.crt",
            "ssl_root_cert": "rootCA.pem",
        }
    ],
    "overseer_agent": OVERSEER,
}
FED_CLIENT = {
    "format_version": 2,
    "servers": [{"name": "flare_harness", "service": {"scheme": "grpc"}}],
    "client": {"ssl_private_key": "client.key", "ssl_cert": "client.crt", "ssl_root_cert": "rootCA.pem"},
    "overseer_agent": OVERSEER,
}


@pytest.mark.parametrize("target", ["site-1", "site-2"])
def test_startup_configs_are_the_provisioned_ones(flare_session: Session, target: str) -> None:
    """Provision's files, 2-space JSON without a final newline: same text and sizes as a real kit (``ls -l``)."""
    server_text = flare_session.cat_target("server", file="startup/fed_server.json")
    assert json.loads(server_text) == FED_SERVER
    assert list(json.loads(server_text)["servers"][0]) == list(FED_SERVER["servers"][0])  # provision's key order
    client_text = flare_session.cat_target(target, file="startup/fed_client.json")
    assert json.loads(client_text) == FED_CLIENT
    assert " 500 " in flare_session.ls_target("server", "-l", "startup/fed_server.json")
    assert " 417 " in flare_session.ls_target(target, "-l", "startup/fed_client.json")


def test_readme_files_are_the_provisioned_ones(flare_session: Session) -> None:
    server = flare_session.cat_target("server", file="readme.txt")
    assert server.startswith("*********************************\nFederated Learning Server package\n")
    assert server.rstrip().endswith("Please always safeguard the server.key.")
    client = flare_session.cat_target("site-2", file="readme.txt")
    assert "Federated Learning Client package" in client and "safeguard its private key, client.key." in client
    assert " 588 " in flare_session.ls_target("server", "-l", "readme.txt")
    assert " 746 " in flare_session.ls_target("site-1", "-l", "readme.txt")


def test_local_files_hold_flare_defaults(flare: FakeFlareServer, flare_session: Session) -> None:
    local = flare.sites.workspace("site-2") / "local"
    assert (local / "authorization.json.default").read_text() == json.dumps(DEFAULT_POLICY, indent=2) + "\n"
    assert "[formatter_fullFormatter]" in (local / "log.config.default").read_text()
    assert json.loads((local / "privacy.json.sample").read_text())["default_scope"] == "public"
    server_resources = json.loads((flare.sites.workspace("server") / "local" / "resources.json.default").read_text())
    assert server_resources["servers"][0]["admin_storage"] == "transfer"


def test_pid_files_name_the_process_info_pid(flare: FakeFlareServer, flare_session: Session) -> None:
    pid = (flare.sites.workspace("server") / "pid.fl").read_text().strip()
    assert int((flare.sites.workspace("server") / "daemon_pid.fl").read_text()) < int(pid)
    reply = flare_session.do_command("process_info server")
    assert ["Process ID", pid] in reply["data"][0]["rows"]


# ------------------------------------------------------------------------------------------ run folders
def test_server_run_folder_lives_while_the_job_has_a_process(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    job_id = submitted(flare, flare_session)
    assert job_id not in listing(flare_session, "server")
    flare.jobs.advance_to(job_id, "DISPATCHED")
    assert listing(flare_session, "server") == sorted([*TOP_LEVEL, job_id])
    assert listing(flare_session, "server", job_id) == sorted(["app_server", *RUN_FOLDER])
    assert listing(flare_session, "server", f"{job_id}/app_server/config") == [
        "config_fed_client.json",
        "config_fed_server.json",
    ]
    flare.jobs.advance_to(job_id, "RUNNING")
    flare_clock.advance(15)
    run_log = flare_session.cat_target("server", file=f"{job_id}/log.txt")
    assert "Server runner starting ..." in run_log and "Round 1 started." in run_log
    assert "Round 1 started." in flare_session.tail_target_log("server")
    flare_clock.advance(30)
    assert flare_session.get_job_meta(job_id)["status"] == "FINISHED:COMPLETED"
    assert listing(flare_session, "server") == TOP_LEVEL


def test_aborted_job_leaves_no_server_run_folder(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = submitted(flare, flare_session)
    flare.jobs.advance_to(job_id, "RUNNING")
    assert job_id in listing(flare_session, "server")
    flare_session.abort_job(job_id)
    assert job_id not in listing(flare_session, "server")
    assert job_id in listing(flare_session, "site-1")


def test_site_run_folder_is_created_at_deployment_and_kept(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    job_id = submitted(flare, flare_session)
    assert job_id not in listing(flare_session, "site-1")
    flare.jobs.advance_to(job_id, "DISPATCHED")
    for site in ("site-1", "site-2"):
        assert listing(flare_session, site) == sorted([*TOP_LEVEL, job_id])
        assert listing(flare_session, site, job_id) == sorted([f"app_{site}", *RUN_FOLDER])
    assert listing(flare_session, "site-1", f"{job_id}/app_site-1") == ["config", "custom"]
    config = flare_session.cat_target("site-1", file=f"{job_id}/app_site-1/config/config_fed_client.json")
    assert config == (example_job() / "app" / "config" / "config_fed_client.json").read_text().rstrip("\n")
    assert flare_session.cat_target("site-1", file=f"{job_id}/fl_app.txt") == "app"
    meta = json.loads(flare_session.cat_target("site-1", file=f"{job_id}/meta.json"))
    assert meta["job_id"] == job_id and meta["status"] == "SUBMITTED"
    assert meta["schedule_history"][-1].endswith(": scheduled") and meta["schedule_count"] == 1
    flare.jobs.advance_to(job_id, "RUNNING")
    flare_clock.advance(45)
    run_log = flare_session.cat_target("site-1", file=f"{job_id}/log.txt").splitlines()
    assert [line.split("]: ", 1)[1] for line in run_log] == [
        "client runner started",
        "Round 0/3: got task assignment: name=train",
        "Round 1/3: got task assignment: name=train",
        "Round 2/3: got task assignment: name=train",
        "client runner finished",
    ]
    assert all(f"run={job_id}" in line for line in run_log)
    assert flare_session.tail_target_log("site-1", "-n 5").splitlines() == run_log
    flare_session.delete_job(job_id)
    assert job_id in listing(flare_session, "site-1")


def test_each_site_run_log_holds_only_its_job(flare: FakeFlareServer, flare_session: Session) -> None:
    first = submitted(flare, flare_session)
    second = flare_session.submit_job(str(example_job()))
    flare.jobs.run_to_completion(first)
    flare.jobs.run_to_completion(second)
    for job_id in (first, second):
        run_log = flare_session.cat_target("site-2", file=f"{job_id}/log.txt")
        assert all(f"run={job_id}" in line for line in run_log.splitlines())
    assert sorted([first, second]) == [name for name in listing(flare_session, "site-2") if name not in TOP_LEVEL]


# ------------------------------------------------------------------------------------------ audit.log
def test_audit_log_lines_have_flares_format(flare: FakeFlareServer, flare_session: Session) -> None:
    flare_session.list_jobs()
    lines = audit_lines(flare_session)
    parsed = [AUDIT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    first, *_, last = [match for match in parsed if match]
    assert (first["user"], first["action"]) == ("?", "_cert_login admin@nvidia.com")
    assert (last["user"], last["action"]) == ("admin@nvidia.com", "cat server audit.log")  # audited before it runs
    assert [match["action"] for match in parsed if match][-2] == "list_jobs"
    assert all(uuid.UUID(match["event"]).version == 4 for match in parsed if match)
    assert len({match["event"] for match in parsed if match}) == len(lines)
    assert [record.line() for record in flare.audit] == lines


def test_audit_times_are_server_clock_times(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    flare_clock.advance(12.25)
    flare_session.list_jobs()
    record = flare.audit[-1]
    assert record.time == flare_clock.time()
    assert f"[T:{datetime.datetime.fromtimestamp(flare_clock.time())}]" in audit_lines(flare_session)[-2]


def test_audit_keeps_100_characters_and_skips_excluded_actions(flare: FakeFlareServer) -> None:
    token = login(flare)
    raw(flare, "_commands", token)
    raw(flare, "_check_session", token)
    long_line = "ls server " + "x" * 200
    raw(flare, long_line, token)
    log = (flare.sites.workspace("server") / "audit.log").read_text().splitlines()
    actions = [match["action"] for match in map(AUDIT_LINE.match, log) if match]
    assert actions == ["_cert_login admin@nvidia.com", long_line[:100]]
    assert len(flare.audit) == 2


def test_audit_event_ids_come_from_the_seeded_random_source(flare: FakeFlareServer) -> None:
    def events() -> list[str]:
        login(flare)
        text = (flare.sites.workspace("server") / "audit.log").read_text()
        return [match["event"] for match in map(AUDIT_LINE.match, text.splitlines()) if match]

    first = events()
    flare.reset()
    assert events() == first


def test_denied_commands_are_not_audited(flare: FakeFlareServer) -> None:
    token = login(flare, "member@nvidia.com")
    raw(flare, "ls server", token, "member@nvidia.com")
    log = (flare.sites.workspace("server") / "audit.log").read_text().splitlines()
    assert len(log) == len(flare.audit) == 1
    assert log[0].endswith("[U:?][A:_cert_login member@nvidia.com]")


# ------------------------------------------------------------------------------------------ downloads
def test_download_unpacks_into_the_servers_transfer_folder(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flare_session, "download_dir", str(tmp_path))
    job_id = submitted(flare, flare_session)
    flare.jobs.run_to_completion(job_id)
    flare_session.download_job_result(job_id)
    assert listing(flare_session, "server", "transfer") == [job_id]
    assert listing(flare_session, "server", f"transfer/{job_id}") == ["job", "workspace"]
    assert listing(flare_session, "server", f"transfer/{job_id}/job/hello-numpy") == ["app", "meta.json"]
    assert "fl_app.txt" in listing(flare_session, "server", f"transfer/{job_id}/workspace")
    server_copy = flare.sites.workspace("server") / "transfer" / job_id
    downloaded = tmp_path / job_id
    assert sorted(p.relative_to(server_copy) for p in server_copy.rglob("*")) == sorted(
        p.relative_to(downloaded) for p in downloaded.rglob("*")
    )
    flare_session.download_job_result(job_id)  # again: the folder is replaced, not merged
    assert listing(flare_session, "server", "transfer") == [job_id]


def test_download_of_an_unfinished_job_has_an_empty_workspace(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = submitted(flare, flare_session)
    flare_session.download_job_result(job_id)
    assert listing(flare_session, "server", f"transfer/{job_id}/workspace") == []


def test_the_server_folder_is_named_after_the_server_participant(
    flare: FakeFlareServer, flare_session: Session
) -> None:
    """A provisioned server's workspace is ``<prod>/localhost``: ``pwd server`` ends with the participant's name."""
    assert flare_session.get_working_directory("server").endswith("/localhost")
    assert flare.sites.workspace("server").name == "localhost"
    assert flare_session.get_working_directory("site-1").endswith("/site-1")


def test_ls_l_shows_the_account_the_server_runs_as(flare_session: Session) -> None:
    """A real participant's files belong to the account that started it; the fake's to the one running it."""
    import grp
    import os
    import pwd

    owner, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    line = flare_session.ls_target("site-1", "-l", "readme.txt")
    assert line.split()[2:4] == [owner, group]


def test_startup_scripts_are_what_nvflare_provision_writes(flare: FakeFlareServer, flare_session: Session) -> None:
    """start.sh, sub_start.sh and stop_fl.sh: nvflare 2.3.12's templates as its StaticFileBuilder renders them
    (sizes of a real kit for the default project; the server's start.sh keeps the unreplaced ha_mode)."""
    sizes = {"server": (724, 2233, 680), "site-1": (573, 2338, 680), "site-2": (573, 2337, 680)}
    for target, expected in sizes.items():
        startup = flare.sites.workspace(target) / "startup"
        assert tuple(len((startup / f).read_bytes()) for f in ("start.sh", "sub_start.sh", "stop_fl.sh")) == expected
    assert "ha_mode={~~ha_mode~~}" in flare_session.cat_target("server", file="startup/start.sh")
    line = "-s fed_client.json --set secure_train=true uid=site-2 org=other config_folder=config"
    assert line in flare_session.cat_target("site-2", file="startup/sub_start.sh")
    assert flare_session.tail_target("site-1", "-n 1", file="startup/start.sh") == "fi"
