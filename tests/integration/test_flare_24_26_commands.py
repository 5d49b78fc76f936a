"""Over TLS, our client against fakes of FLARE 2.4, 2.5 and 2.6: the commands those versions added
(``report_env``, ``app_command``, ``list_job``, ``configure_*_log``), their meta statuses and reply shapes.

The expected texts are the real servers' (scripts/real_flare_socket/captures/real-2.{4.2,5.2,6.3}.json).
One server per version for the module; each test leaves no job running.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from flare_api import (
    AuthorizationError,
    FlareVersion,
    InternalError,
    InvalidArgumentError,
    InvalidTarget,
    JobNotFound,
    NoReply,
    NotInFlareVersion,
    Session,
    VirtualClock,
    new_secure_session,
)
from flare_api.transport import Transport
from flare_api.wire import Document
from tests.helpers import ADMIN, transport

pytestmark = pytest.mark.fake_flare_only

MEMBER = "member@nvidia.com"
HANGS = JobScript(queued=Phase.after(0.01), deploying=Phase.after(0.01), running=Phase.never())
FAST = JobScript(queued=Phase.after(0.01), deploying=Phase.after(0.01), running=Phase.after(0.01))
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module", params=["2.3", "2.4", "2.5", "2.6"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    workspace = tmp_path_factory.mktemp(f"v{request.param}")
    clock = VirtualClock()
    with FakeFlareServer(workspace=workspace, flare_version=request.param, default_script=FAST, clock=clock) as fake:
        yield fake
        fake.raise_errors()


@pytest.fixture()
def session(server: FakeFlareServer) -> Iterator[Session]:
    server.reset()  # sites registered in project order again (a restarted site re-registers last), no jobs
    with new_secure_session(ADMIN, server.startup_kit(ADMIN), timeout=10.0) as opened:
        yield opened
    server.app_commands.clear()


def _since(server: FakeFlareServer, version: str) -> None:
    if server.flare_version.key < FlareVersion.parse(version).key:
        pytest.skip(f"FLARE {server.flare_version.value} has no such command")


@pytest.fixture()
def running(server: FakeFlareServer, session: Session) -> Iterator[str]:
    server.jobs.script_next(HANGS)
    job_id = session.submit_job(str(example_job()))
    server.jobs.advance_to(job_id, "RUNNING")
    yield job_id
    session.abort_job(job_id)
    assert isinstance(server.clock, VirtualClock)
    server.clock.advance(10)  # the aborted run leaves the runner (it lingers JobStore.abort_linger, 4 s)


@pytest.fixture()
def finished(server: FakeFlareServer, session: Session) -> str:
    job_id = session.submit_job(str(example_job()))
    server.jobs.run_to_completion(job_id)
    return job_id


def _raised(fn: Any) -> str:
    with pytest.raises(Exception) as caught:
        fn()
    return f"{type(caught.value).__name__}: {caught.value}"


# ------------------------------------------------------------------------------------ report_env (2.4+)
def test_client_env_lists_every_site_or_the_named_ones(server: FakeFlareServer, session: Session) -> None:
    _since(server, "2.4")
    envs = session.get_client_env()
    assert [env["site_name"] for env in envs] == ["site-1", "site-2"]
    workspace = server.sites.workspace("site-1")
    assert envs[0] == {
        "site_name": "site-1",
        "workspace": f"{workspace}/startup/..",
        "secure_mode": True,
        "root_url": "grpc://localhost:8002",
    }
    assert [env["site_name"] for env in session.get_client_env("site-2")] == ["site-2"]
    assert _raised(lambda: session.get_client_env(["site-9"])) == "InvalidTargetError: invalid client(s): site-9"
    with pytest.raises(InvalidTarget):
        session.get_client_env(["site-9"])
    with pytest.raises(InvalidArgumentError, match="client_names must be str or list of str"):
        session.get_client_env(("site-1",))


def test_report_env_rows_are_strs_of_the_env_dicts(server: FakeFlareServer, session: Session) -> None:
    _since(server, "2.4")
    reply = session.do_command("report_env site-1")
    rows = reply["data"][0]["rows"]
    assert rows[0] == ["SITES", "ENV"]
    assert rows[1][1] == str(reply["meta"]["clients"][0]) and rows[1][1].startswith("{'site_name': 'site-1'")


def test_a_member_may_not_read_client_env(server: FakeFlareServer) -> None:
    _since(server, "2.4")
    member = new_secure_session(MEMBER, server.startup_kit(MEMBER), timeout=10.0)
    try:
        with pytest.raises(AuthorizationError, match="not authorized for 'report_env'"):
            member.get_client_env()
    finally:
        member.close()


# ------------------------------------------------------------------------------------ app_command (2.5+)
def test_app_command_reaches_the_running_jobs_app(server: FakeFlareServer, session: Session, running: str) -> None:
    _since(server, "2.5")
    seen: list[tuple[str, Any]] = []

    def answer(job_id: str, data: Any) -> dict[str, Any]:
        seen.append((job_id, data))
        return {"echo": data, "round": 3}

    server.app_commands.register("stats", answer)
    assert session.do_app_command(running, "stats", {"a": [1, 2]}) == {"echo": {"a": [1, 2]}, "round": 3}
    assert session.do_app_command(running, "stats", None) == {"echo": None, "round": 3}  # falsy data: not sent
    assert seen == [(running, {"a": [1, 2]}), (running, None)]


def test_app_command_errors(server: FakeFlareServer, session: Session, running: str, finished: str) -> None:
    _since(server, "2.5")
    assert _raised(lambda: session.do_app_command(running, "topic", {"a": 1})) == (
        "InternalError: error: rc='BAD_REQUEST_DATA' reason='no app command func for topic topic'"
    )
    server.app_commands.register("silent", lambda job_id, data: None)
    assert _raised(lambda: session.do_app_command(running, "silent", {})) == "NoReply: no result"
    with pytest.raises(NoReply):
        session.do_app_command(running, "silent", {})
    assert _raised(lambda: session.do_app_command(finished, "topic", {})) == (
        f"JobNotRunning: job {finished} is not running"
    )
    with pytest.raises(InvalidArgumentError, match="cmd_data cannot be JSON serialized"):
        session.do_app_command(running, "topic", {"x": object()})
    usage = session.do_command(f"app_command {running}", raise_errors=False)
    assert usage["data"] == [{"type": "string", "data": "Usage: app_command job_id topic # cmd_data"}]
    assert usage["meta"] == {"status": "syntax_error", "info": ""}


def test_a_member_may_not_run_app_commands(server: FakeFlareServer, running: str) -> None:
    _since(server, "2.5")
    member = new_secure_session(MEMBER, server.startup_kit(MEMBER), timeout=10.0)
    try:
        with pytest.raises(AuthorizationError, match="not authorized for 'app_command'"):
            member.do_app_command(running, "topic", {})
    finally:
        member.close()


# ------------------------------------------------------------------------------------ list_job, configure_*_log (2.6)
def test_list_job_components_of_a_plain_job(server: FakeFlareServer, session: Session, finished: str) -> None:
    _since(server, "2.6")
    assert _raised(lambda: session.list_job_components(finished)) == (
        "InternalError: no_job_compoents: No additional job components found."
    )
    assert _raised(lambda: session.list_job_components(MISSING)) == f"JobNotFound: no such job: {MISSING}"


def test_configure_logs(server: FakeFlareServer, session: Session, running: str, finished: str) -> None:
    _since(server, "2.6")
    assert session.configure_site_log("concise") == {"server": "successfully configured server site log"}
    assert session.configure_site_log("DEBUG", "client", ["site-2"]) == {"site-2": "successfully configured site-2 log"}
    assert session.configure_job_log(running, "verbose", "all") == {
        "server": f"successfully configured server job {running} log",
        "site-1": f"successfully configured site-1 job {running} log",
        "site-2": f"successfully configured site-2 job {running} log",
    }
    assert _raised(lambda: session.configure_site_log("loud")) == (
        "InternalError: server internal error: Invalid logging level: loud"
    )
    assert _raised(lambda: session.configure_job_log(finished, "concise")) == (
        f"InternalError: error: Job {finished} must be running but is FINISHED:COMPLETED"
    )
    assert _raised(lambda: session.configure_site_log("concise", "client", ["site-9"])) == (
        "InvalidTargetError: invalid client(s): site-9"
    )


# ------------------------------------------------------------------------------------ version gates
@pytest.mark.parametrize(
    ("method", "since", "call"),
    [
        ("get_client_env", "2.4", lambda s: s.get_client_env()),
        ("do_app_command", "2.5", lambda s: s.do_app_command(MISSING, "t", {})),
        ("list_job_components", "2.6", lambda s: s.list_job_components(MISSING)),
        ("configure_site_log", "2.6", lambda s: s.configure_site_log("concise")),
        ("configure_job_log", "2.6", lambda s: s.configure_job_log(MISSING, "concise")),
        ("download_job_components", "2.6", lambda s: s.download_job_components(MISSING)),
    ],
)
def test_a_method_the_servers_version_lacks_names_both_versions(
    server: FakeFlareServer, session: Session, method: str, since: str, call: Any
) -> None:
    if server.flare_version.key >= FlareVersion.parse(since).key:
        pytest.skip("the server has the command")
    with pytest.raises(NotInFlareVersion) as caught:
        call(session)
    assert str(caught.value).startswith(f"{method} needs a FLARE {since} or newer server")
    assert f"this server is FLARE {server.flare_version.value}" in str(caught.value)
    assert isinstance(caught.value, InternalError)


# ------------------------------------------------------------------------------------ 2.4+ statuses and shapes
def test_stats_are_one_dict_keyed_by_target(server: FakeFlareServer, session: Session, running: str) -> None:
    _since(server, "2.4")
    assert sorted(session.show_stats(running, "all")) == ["server", "site-1", "site-2"]
    assert list(session.show_stats(running, "client", ["site-2"])) == ["site-2"]
    assert session.show_stats(running, "client", ["site-2"])["site-2"] == {
        "ClientRunner": {"current_tasks": ["train"], "job_id": running}
    }
    assert session.show_errors(running, "server") == {"server": "No Error"}
    assert session.show_errors(running, "client") == {"site-1": {}, "site-2": {}}
    session.reset_errors(running)
    statuses = session.get_client_job_status(["site-1"])
    assert statuses == [{"client_name": "site-1", "app_name": "app", "job_id": running, "status": "started"}]
    assert _raised(lambda: session.shutdown("all")) == f"JobNotDone: job {running} is still running"
    restart = "There are still jobs running. Please let them finish or abort_job before restart."
    assert _raised(lambda: session.restart("server")) == f"JobNotDone: job {restart} is still running"


def test_24_statuses_of_finished_jobs_targets_and_ids(server: FakeFlareServer, session: Session, finished: str) -> None:
    _since(server, "2.4")
    assert _raised(lambda: session.show_stats(finished, "server")) == f"JobNotRunning: job {finished} is not running"
    assert _raised(lambda: session.reset_errors(finished)) == f"JobNotRunning: job {finished} is not running"
    assert _raised(lambda: session.ls_target("site-9")) == "InvalidTargetError: invalid target: site-9"
    assert _raised(lambda: session.shutdown("server")) == (
        "ClientsStillRunningError: one or more clients are still running"
    )
    assert _raised(lambda: session.get_job_meta("not-a-uuid")) == "JobNotFound: no such job: not-a-uuid"
    extra = session.do_command(f"get_job_meta {finished} extra", raise_errors=False)
    assert extra["meta"] == {"status": "invalid_target", "info": "unknown target type extra"}
    after = session.get_client_job_status()
    assert after == [{"client_name": "site-1", "status": "no_jobs"}, {"client_name": "site-2", "status": "no_jobs"}]
    with pytest.raises(JobNotFound):
        session.get_job_meta(MISSING)


def test_job_meta_storage_format_from_25(server: FakeFlareServer, session: Session, finished: str) -> None:
    _since(server, "2.4")
    clone = session.clone_job(finished)
    server.jobs.run_to_completion(clone)
    for meta in (session.get_job_meta(finished), session.get_job_meta(clone)):
        keys = list(meta)
        if server.flare_version.key >= (2, 5):
            assert meta["data_storage_format"] == 2
            assert keys.index("data_storage_format") == keys.index("duration") + 1
        else:
            assert "data_storage_format" not in meta
    submitted = list(session.get_job_meta(finished))
    assert submitted.index("job_folder_name") == submitted.index("submitter_role") + 1  # 2.4+: after the submitter


def test_26_lists_clients_with_their_cell_names(server: FakeFlareServer, session: Session) -> None:
    _since(server, "2.4")
    reply = session.do_command("check_status server")
    header = reply["data"][3]["rows"][0]
    if server.flare_version.value == "2.6":
        assert header == ["CLIENT", "FQCN", "FQSN", "LEAF", "TOKEN", "LAST CONNECT TIME"]
        assert reply["data"][3]["rows"][1][:4] == ["site-1", "site-1", "site-1", "True"]
        assert reply["meta"]["clients"][0]["fqcn"] == "site-1"
    else:
        assert header == ["CLIENT", "TOKEN", "LAST CONNECT TIME"]
        assert "fqcn" not in reply["meta"]["clients"][0]
    assert [c.name for c in session.get_connected_client_list()] == ["site-1", "site-2"]


def test_project_admin_checks_name_the_role(server: FakeFlareServer) -> None:
    _since(server, "2.4")
    with new_secure_session(MEMBER, server.startup_kit(MEMBER), timeout=10.0) as member:
        reply = member.do_command("admin_check_status server", raise_errors=False)
    assert reply["data"] == [{"type": "error", "data": "Not authorized for member"}]
    assert reply["meta"] == {"status": "not_authorized", "info": ""}


def test_dead_usage_from_25(server: FakeFlareServer, session: Session) -> None:
    _since(server, "2.5")
    reply = session.do_command("dead nope", raise_errors=False)
    assert reply["data"] == [{"type": "error", "data": "Usage: dead client_name job_id"}]


def test_restart_of_clients_reports_each_in_meta(server: FakeFlareServer, session: Session) -> None:
    _since(server, "2.4")
    result = session.restart("client", ["site-1", "site-2"])
    assert result["client_status"] == {"site-1": "Restart the client...", "site-2": "Restart the client..."}
    assert result["status"] == "ok"
    server.sites.connect("site-1", "site-2")  # back, in the order the other tests expect


def test_the_23_server_keeps_its_own_answers(server: FakeFlareServer, session: Session, finished: str) -> None:
    if server.flare_version.value != "2.3":
        pytest.skip("2.3 only")
    assert _raised(lambda: session.ls_target("site-9")).endswith("invalid client: site-9")
    reply = session.do_command(f"show_stats {finished} server", raise_errors=False)
    assert reply["meta"] == {"status": "error", "info": f"Job_id: {finished} is not running."}
    assert session.do_command("report_env", raise_errors=False)["data"][0]["data"] == 'Unknown command "report_env"'


def test_paths_are_inside_the_workspace(server: FakeFlareServer) -> None:
    assert Path(server.sites.workspace("site-1")).is_dir()


CAPTURES = Path(__file__).resolve().parents[2] / "scripts" / "real_flare_socket" / "captures"


@pytest.mark.parametrize(
    "line", ["show_config_vars server", "list_pools server", "show_comm_config server", "ls server local"]
)
def test_version_data_is_the_real_servers(server: FakeFlareServer, session: Session, line: str) -> None:
    """What is version data, not machine facts: the cellnet pools and looked-up config variables, the
    communication config, the files of the workspace's ``local/`` (2.6: ``log_config.json.default``)."""
    _since(server, "2.4")
    wheel = {"2.4": "2.4.2", "2.5": "2.5.2", "2.6": "2.6.3"}[server.flare_version.value]
    real = json.loads((CAPTURES / f"real-{wheel}.json").read_text())[f"{ADMIN}: {line}"]
    assert session.do_command(line)["data"] == real["data"]


@pytest.mark.parametrize(("version", "role"), [("2.3", "super"), ("2.4", "project_admin"), ("2.6", "project_admin")])
def test_poc_login_role_per_version(version: str, role: str, tmp_path: Path) -> None:
    """``_login admin admin`` (POC): 2.3.12 gives role ``super``, 2.4+ ``project_admin`` (who may check status)."""
    from flare_api import new_insecure_session

    with FakeFlareServer(workspace=tmp_path, secure=False, flare_version=version) as fake:
        with new_insecure_session(fake.startup_kit(), timeout=5.0) as poc:
            admin_check = poc.do_command("admin_check_status server", raise_errors=False)
        (only,) = fake.sessions.all()
        assert (only.user_name, only.org, only.role) == ("admin", "global", role)
        assert (admin_check["meta"]["status"] == "ok") is (role == "project_admin")


@pytest.mark.parametrize(
    ("version", "status"), [("2.3", "error"), ("2.4", "internal_error"), ("2.6", "internal_error")]
)
def test_unreadable_request_and_silent_site_statuses(version: str, status: str, tmp_path: Path) -> None:
    """``protocol violation`` and a shell command's silent site: ``error`` on 2.3.12, ``internal_error`` on 2.4+."""
    from tests.integration.test_dispatch import _send_raw

    with FakeFlareServer(workspace=tmp_path, flare_version=version) as fake:
        (doc,) = _send_raw(fake, b"not json\x03\x04")
        assert json.loads(doc)["meta"] == {"status": status, "info": "protocol violation"}
        fake.sites.silence("site-1")
        with new_secure_session(ADMIN, fake.startup_kit(ADMIN), timeout=10.0) as admin:
            reply = admin.do_command("ls site-1", raise_errors=False)
        info = "client timeout" if status == "internal_error" else "no reply from client - timed out"
        assert reply["meta"] == {"status": status, "info": info}


class _MetaSpy(Transport):
    """The TLS transport, recording each request's line and meta."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, Optional[dict[str, Any]]]] = []

    def request(self, line: str, token: Optional[str] = None, **kwargs: Any) -> Optional[Document]:
        self.sent.append((line, kwargs.get("meta")))
        return super().request(line, token, **kwargs)


def test_session_timeout_travels_in_the_request_meta_from_24(server: FakeFlareServer) -> None:
    """FLARE 2.4+'s ``set_timeout`` is this session's: later requests carry ``cmd_timeout``; 2.3 sends the command."""
    base = transport(server)
    spy = _MetaSpy(base.host, base.port, base.ssl_context, timeout=10.0)
    session = Session(ADMIN, server.startup_kit(ADMIN), transport=spy)
    session.try_connect(10.0)
    try:
        session.set_timeout(2.5)
        session.get_system_info()
        session.unset_timeout()
        session.get_system_info()
    finally:
        session.close()
    lines = [line for line, _ in spy.sent]
    if server.flare_version.value == "2.3":
        assert "set_timeout 2.5" in lines and "set_timeout 10.0" in lines
        assert all(meta is None for _, meta in spy.sent)
    else:
        assert lines[-2:] == ["check_status server", "check_status server"]
        assert [meta for _, meta in spy.sent[-2:]] == [{"cmd_timeout": 2.5}, None]


def test_start_app_of_a_finished_job(server: FakeFlareServer, session: Session, finished: str) -> None:
    """``start_app`` (2.3-2.5; 2.6 removed it): 2.4 dropped the colon of 2.3.12's text."""
    reply = session.do_command(f"start_app {finished} client", raise_errors=False)
    if server.flare_version.value == "2.6":
        assert reply["data"] == [{"type": "error", "data": 'Unknown command "start_app"'}]
        return
    colon = ":" if server.flare_version.value == "2.3" else ""
    assert reply["data"] == [{"type": "error", "data": f"Job{colon} {finished} is not running."}]


@pytest.mark.parametrize(
    ("version", "done", "bye"),
    [
        ("2.3", "FL app has been shutdown.", "Bye bye"),
        ("2.4", "FL app has been shutdown.", "Goodbye!"),
        ("2.6", "Flare Server has been shutdown.", "Goodbye!"),
    ],
)
def test_shutdown_server_texts(version: str, done: str, bye: str, tmp_path: Path) -> None:
    with FakeFlareServer(workspace=tmp_path, flare_version=version, connect_sites=False) as fake:  # noqa: SIM117
        with new_secure_session(ADMIN, fake.startup_kit(ADMIN), timeout=10.0) as admin:
            reply = admin.do_command("shutdown server", raise_errors=False)
    assert reply["data"] == [
        {"type": "string", "data": done},
        {"type": "shutdown", "data": bye},
        {"type": "success", "data": ""},
    ]


def test_stats_of_a_starting_job(server: FakeFlareServer, session: Session) -> None:
    """A job whose server app is starting (DISPATCHED): 2.4+ send ``Cannot find job`` as a string with meta
    ``invalid_job_id`` (so FLARE 2.4's client raises ``JobNotFound``); 2.3.12 the string alone."""
    server.jobs.script_next(HANGS)
    job_id = session.submit_job(str(example_job()))
    server.jobs.advance_to(job_id, "DISPATCHED")
    try:
        reply = session.do_command(f"show_stats {job_id} server", raise_errors=False)
        assert reply["data"][0]["data"].startswith(f"Cannot find job: {job_id}.")
        if server.flare_version.value == "2.3":
            assert reply["meta"] == {}
        else:
            assert reply["meta"] == {"status": "invalid_job_id", "info": job_id}
            with pytest.raises(JobNotFound, match=f"no such job: {job_id}"):
                session.show_stats(job_id, "server")
    finally:
        session.abort_job(job_id)
        assert isinstance(server.clock, VirtualClock)
        server.clock.advance(10)
