"""Interception (as moto does it): code under test opening its own session from a fake's kit talks to
the fake in-process on its virtual clock, unless it asks for the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from fakeserver.serving.in_process import InProcessTransport
from flare_api import MonitorReturnCode, SessionInactive, VirtualClock, intercept, new_secure_session
from flare_api.transport import Transport
from tests.helpers import ADMIN

pytestmark = pytest.mark.fake_flare_only

HOUR = 3600.0


def watch_training(user: str, kit_dir: Path) -> tuple[str, MonitorReturnCode]:
    """Stands for the code under test: it opens its own session from a startup kit, as users' code does."""
    with new_secure_session(user, kit_dir) as session:
        job_id = session.submit_job(str(example_job()))
        return job_id, session.monitor_job(job_id, poll_interval=60.0)


def test_code_under_test_monitors_an_hour_long_job_in_virtual_time(tmp_path: Path) -> None:
    clock = VirtualClock()
    with FakeFlareServer(workspace=tmp_path, clock=clock) as server:
        server.jobs.script_next(JobScript.completes(after=HOUR))
        started = clock.time()
        job_id, code = watch_training("lead@nvidia.com", server.startup_kit("lead@nvidia.com"))
        assert code is MonitorReturnCode.JOB_FINISHED
        assert server.jobs.status(job_id).value == "FINISHED:COMPLETED"
        assert clock.time() - started >= HOUR  # the hour passed on the fake's clock
        polls = server.calls.assert_called("get_job_meta", user="lead@nvidia.com")
        assert len(polls) >= HOUR / 60.0
        assert {call.transport for call in server.calls} == {"in_process"}
        assert polls[-1].virtual_time - polls[0].virtual_time >= HOUR - 120.0
        assert server.calls.commands()[:3] == ["_cert_login", "_commands", "submit_job"]
        assert server.stats.accepted == 0  # not one socket


def test_intercepted_session_uses_the_in_process_transport_and_the_fake_clock(flare: FakeFlareServer) -> None:
    with new_secure_session(ADMIN, flare.startup_kit(ADMIN)) as session:
        assert isinstance(session._transport, InProcessTransport)
        assert session.clock is flare.clock


def test_an_explicit_clock_is_kept(flare: FakeFlareServer) -> None:
    mine = VirtualClock(start=5.0)
    with new_secure_session(ADMIN, flare.startup_kit(ADMIN), clock=mine) as session:
        assert isinstance(session._transport, InProcessTransport)
        assert session.clock is mine


def test_tls_when_asked_for_with_a_transport(flare: FakeFlareServer) -> None:
    kit = flare.startup_kit(ADMIN)
    before = flare.stats.accepted
    with new_secure_session(ADMIN, kit, transport=intercept.network_transport(kit)) as session:
        assert isinstance(session._transport, Transport)
        session.list_jobs()
    assert flare.stats.accepted - before >= 3  # login, command list, list_jobs: a connection each
    assert [c.transport for c in flare.calls.of("list_jobs")] == ["tls"]


def test_server_session_over_tls_is_not_intercepted(flare: FakeFlareServer) -> None:
    with flare.session(ADMIN, in_process=False) as session:
        assert isinstance(session._transport, Transport)
        session.list_jobs()
    assert flare.stats.accepted >= 3


def test_intercept_off_goes_over_tls(tmp_path: Path) -> None:
    with FakeFlareServer(workspace=tmp_path, intercept=False) as server:
        with new_secure_session(ADMIN, server.startup_kit(ADMIN), timeout=5.0) as session:
            assert isinstance(session._transport, Transport)
        server.intercept = True
        with new_secure_session(ADMIN, server.startup_kit(ADMIN), timeout=5.0) as session:
            assert isinstance(session._transport, InProcessTransport)
        server.intercept = False
        with new_secure_session(ADMIN, server.startup_kit(ADMIN), timeout=5.0) as session:
            assert isinstance(session._transport, Transport)


def test_a_stopped_server_stops_intercepting(tmp_path: Path) -> None:
    server = FakeFlareServer(workspace=tmp_path)
    with server:
        assert server._route in intercept.registered()
    assert server._route not in intercept.registered()


def test_other_kits_are_not_claimed(flare: FakeFlareServer, tmp_path: Path) -> None:
    with FakeFlareServer(workspace=tmp_path) as other:
        route = intercept.resolve(other.startup_kit(ADMIN), 5.0)
        assert route is not None and route.clock is other.clock
        assert route.transport.port == other.port
        mine = intercept.resolve(flare.startup_kit(ADMIN), 5.0)
        assert mine is not None and mine.transport.port == flare.port
    assert intercept.resolve(tmp_path / "nowhere", 5.0) is None


def test_the_certificate_identity_comes_from_the_kit(flare: FakeFlareServer) -> None:
    """Logging in as someone else with lead's kit is refused in-process exactly as over TLS."""
    from flare_api import AuthenticationError

    with pytest.raises(AuthenticationError):
        new_secure_session(ADMIN, flare.startup_kit("lead@nvidia.com"), timeout=1.0)


def test_poc_kits_are_intercepted(tmp_path: Path) -> None:
    from flare_api import new_insecure_session

    with FakeFlareServer(workspace=tmp_path, secure=False) as server:
        with new_insecure_session(server.startup_kit(), timeout=5.0) as session:
            assert isinstance(session._transport, InProcessTransport)
            session.list_jobs()
        assert server.calls.last("list_jobs").user == "admin"


def test_session_error_after_reset_names_the_reset(flare: FakeFlareServer) -> None:
    session = new_secure_session(ADMIN, flare.startup_kit(ADMIN))
    flare.reset()
    with pytest.raises(SessionInactive, match=r"reset") as caught:
        session.list_jobs()
    assert "restarted or reset since login" in "\n".join(caught.value.__notes__)
    assert str(caught.value) == "server internal error (error): session_inactive"  # FLARE's own text


def test_session_error_after_idle_timeout_names_the_idle_seconds(tmp_path: Path) -> None:
    clock = VirtualClock()
    with FakeFlareServer(workspace=tmp_path, clock=clock, idle_timeout=120.0) as server:
        session = new_secure_session(ADMIN, server.startup_kit(ADMIN))
        clock.advance(121.0)
        with pytest.raises(SessionInactive, match=r"expired after 120 s idle"):
            session.list_jobs()
