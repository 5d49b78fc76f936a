"""The pytest plugin as a downstream project uses it (pytester runs an inner pytest session)."""

from __future__ import annotations

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


def test_tls_by_default(flare_session):
    assert type(flare_session._transport).__name__ == "Transport"


def test_factory_opens_more_sessions(flare_session_factory):
    a = flare_session_factory("member@nvidia.com")
    b = flare_session_factory(in_process=True)
    assert (a.username, b.username) == ("member@nvidia.com", "admin@nvidia.com")
"""


def test_plugin_fixtures_in_a_downstream_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=6)


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
    from fakeserver.pipeline.registry import CommandSpec

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
