"""The pytest plugin as a downstream project uses it (pytester runs an inner pytest session)."""

from __future__ import annotations

import contextlib
import socket

import pytest

from fakeserver import FakeFlareServer

pytest_plugins = ["pytester"]

DOWNSTREAM_TESTS = """
import pytest
from fakeserver import JobScript
from flare_api import MonitorReturnCode


def test_fixtures_work_together(flare, flare_session, flare_clock):
    flare.jobs.script_next(JobScript.ends("ABNORMAL", after=600))
    from fakeserver.example_jobs import example_job
    job_id = flare_session.submit_job(str(example_job()))
    assert flare_session.monitor_job(job_id, poll_interval=10.0) is MonitorReturnCode.JOB_FINISHED
    assert flare_session.get_job_status(job_id) == "FINISHED:ABNORMAL"
    assert flare_clock.time() > flare.start_time + 600


def test_each_test_starts_clean(flare, flare_session):
    assert flare_session.list_jobs() == []


@pytest.mark.flare_user("lead@other.org")
def test_marker_picks_the_user(flare_session):
    assert flare_session.username == "lead@other.org"


@pytest.mark.flare_in_process
def test_in_process_marker(flare_session):
    assert type(flare_session._transport).__name__ == "InProcessTransport"


@pytest.mark.flare_tls
def test_tls_marker(flare_session):
    assert type(flare_session._transport).__name__ == "Transport"


def test_in_process_by_default(flare_session):
    assert type(flare_session._transport).__name__ == "InProcessTransport"


def test_factory_opens_more_sessions(flare_session_factory):
    a = flare_session_factory("member@nvidia.com")
    b = flare_session_factory(in_process=True)
    assert (a.username, b.username) == ("member@nvidia.com", "admin@nvidia.com")
"""


def test_plugin_fixtures_in_a_downstream_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=7)


def test_in_process_transport_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_option="""
def test_transport(flare_session):
    assert type(flare_session._transport).__name__ == "InProcessTransport"
"""
    )
    result = pytester.runpytest_subprocess("--flare-transport", "in_process", "-q")
    result.assert_outcomes(passed=1)


def test_server_bug_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bug="""
def test_a_handler_crashes(flare, flare_session):
    from fakeserver.pipeline.dispatch import CommandSpec

    def broken(request, reply):
        raise KeyError("oops")

    flare._registry.register(CommandSpec("x", "boom", "d", "u", broken))
    flare_session._commands = None
    flare_session.try_connect(5.0)
    flare_session.do_command("boom", raise_errors=False)
"""
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*FakeServerError: 1 unexpected error(s) in the fake FLARE server*", "*KeyError*oops*"]
    )


def test_contract_mode_against_a_running_deployment(pytester: pytest.Pytester, tmp_path) -> None:
    """--flare-kit points flare_session at a real deployment (here: a fake server in another thread)."""
    pytester.makepyfile(
        test_contract="""
import pytest


def test_against_the_deployment(flare_session):
    assert flare_session.get_system_info().server_info.status == "stopped"


def test_needs_the_fake(flare):
    pass


@pytest.mark.fake_flare_only
def test_marked_fake_only():
    pass
"""
    )
    with FakeFlareServer(workspace=tmp_path) as deployment:
        kit = deployment.startup_kit("lead@nvidia.com")
        result = pytester.runpytest_subprocess("--flare-kit", str(kit), "-q", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*needs the fake FLARE server*"])


CODE_UNDER_TEST = """
import pytest
from fakeserver import JobScript
from fakeserver.example_jobs import example_job
from flare_api import MonitorReturnCode, new_secure_session


def run_training(kit):
    # the code under test opens its own session from a startup kit, as users' code does
    with new_secure_session("lead@nvidia.com", kit) as session:
        job_id = session.submit_job(str(example_job()))
        return session.monitor_job(job_id, poll_interval=60.0)


def test_code_under_test_is_intercepted(flare, flare_clock):
    flare.jobs.script_next(JobScript.completes(after=3600))
    started = flare_clock.time()
    assert run_training(flare.startup_kit("lead@nvidia.com")) is MonitorReturnCode.JOB_FINISHED
    assert flare_clock.time() - started >= 3600
    assert len(flare.calls.assert_called("get_job_meta", user="lead@nvidia.com")) >= 60
    assert {call.transport for call in flare.calls} == {"in_process"}
    assert flare.stats.accepted == 0


@pytest.mark.flare_tls
def test_tls_marker_reaches_the_code_under_test(flare):
    with new_secure_session("lead@nvidia.com", flare.startup_kit("lead@nvidia.com")) as session:
        assert type(session._transport).__name__ == "Transport"
        session.list_jobs()
    assert flare.stats.accepted >= 3
    assert flare.calls.last("list_jobs").transport == "tls"
"""


def test_plugin_default_intercepts_the_code_under_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_cut=CODE_UNDER_TEST)
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("how", ["option", "ini"])
def test_tls_mode_by_option_or_ini(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(
        test_tls="""
from flare_api import new_secure_session


def test_everything_goes_over_tls(flare, flare_session):
    assert type(flare_session._transport).__name__ == "Transport"
    with new_secure_session("admin@nvidia.com", flare.startup_kit("admin@nvidia.com")) as mine:
        assert type(mine._transport).__name__ == "Transport"
    assert flare.stats.accepted >= 4
"""
    )
    if how == "ini":
        pytester.makeini("[pytest]\nflare_transport = tls\n")
        result = pytester.runpytest_subprocess("-q")
    else:
        result = pytester.runpytest_subprocess("--flare-transport", "tls", "-q")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("form", ["split", "equals"])
def test_flare_kit_keeps_the_rootdir(pytester: pytest.Pytester, tmp_path, form: str) -> None:
    """pytest picks its rootdir before plugin options are known; ``--flare-kit PATH`` must not move it."""
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(
        test_where="""
def test_where(request):
    print("ROOT=" + str(request.config.rootpath) + " INI=" + str(request.config.inipath))
"""
    )
    kit = tmp_path / "somewhere" / "admin@nvidia.com"
    kit.mkdir(parents=True)
    args = ["--flare-kit", str(kit)] if form == "split" else [f"--flare-kit={kit}"]
    result = pytester.runpytest_subprocess(*args, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"rootdir: {pytester.path}", f"*ROOT={pytester.path} INI={pytester.path}*tox.ini*"])


def test_unreachable_deployment_is_checked_once(pytester: pytest.Pytester, tmp_path) -> None:
    """With an unreachable --flare-kit every session test fails at once with the reason; the deployment
    is tried by one check (at most two connection attempts), not once per test."""
    with FakeFlareServer(workspace=tmp_path) as stopped:
        kit = stopped.startup_kit("admin@nvidia.com")
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(64)  # accepts TCP (the kernel does) but never answers the TLS handshake
    try:
        stopped.provisioned.set_endpoint("127.0.0.1", blackhole.getsockname()[1])
        pytester.makepyfile(
            test_unreachable="""
import pytest


@pytest.mark.parametrize("n", range(4))
def test_needs_a_session(flare_session, n):
    pass
"""
        )
        result = pytester.runpytest_subprocess("--flare-kit", str(kit), "--flare-kit-timeout", "0.05", "-q")
        blackhole.setblocking(False)
        attempts = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                blackhole.accept()[0].close()
                attempts += 1
    finally:
        blackhole.close()
    result.assert_outcomes(errors=4)  # the session fixture fails at setup
    result.stdout.fnmatch_lines(["*the FLARE deployment of --flare-kit * is unreachable: NoConnection*"])
    assert 1 <= attempts <= 2
