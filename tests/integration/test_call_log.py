"""``server.calls``: every request, TLS and in-process alike, in order, bounded, cleared by reset."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer
from fakeserver.serving.calls import Call, CallLog, Exchange
from flare_api import ConnectionLost
from flare_api.wire import encode_stream
from tests.helpers import ADMIN, login, raw, transport

pytestmark = pytest.mark.fake_flare_only


@pytest.mark.parametrize("in_process", [False, True], ids=["tls", "in_process"])
def test_calls_are_logged_on_both_transports(flare: FakeFlareServer, in_process: bool) -> None:
    with flare.session("lead@nvidia.com", in_process=in_process) as session:
        session.list_jobs()
        with pytest.raises(Exception):  # noqa: B017 - any refusal; the log is what is checked
            session.get_job_meta("no-such-job")
    via = "in_process" if in_process else "tls"
    assert flare.calls.commands() == ["_cert_login", "_commands", "list_jobs", "get_job_meta"]
    assert {call.transport for call in flare.calls} == {via}
    assert {call.user for call in flare.calls} == {"lead@nvidia.com"}
    listed = flare.calls.last("list_jobs")
    assert (listed.line, listed.status, listed.virtual_time) == ("list_jobs", "ok", flare.clock.time())
    meta = flare.calls.last("get_job_meta")
    assert meta.line == "get_job_meta no-such-job"
    assert meta.status == "invalid_job_id" and "no-such-job" in meta.summary
    flare.calls.assert_called("list_jobs", times=1, user="lead@nvidia.com")


def test_assert_called_says_what_was_called(flare: FakeFlareServer) -> None:
    with flare.session(in_process=True) as session:
        session.list_jobs()
    with pytest.raises(AssertionError, match=r"'abort_job' was not called.*list_jobs\(admin@nvidia.com\)"):
        flare.calls.assert_called("abort_job")
    with pytest.raises(AssertionError, match="called 1 time"):
        flare.calls.assert_called("list_jobs", times=2)
    with pytest.raises(AssertionError, match=r"by 'lead@nvidia\.com'"):
        flare.calls.assert_called("list_jobs", user="lead@nvidia.com")
    with pytest.raises(AssertionError, match="no call of 'abort_job'"):
        flare.calls.last("abort_job")
    assert flare.calls.last().command == "list_jobs"


def test_reset_clears_the_log(flare: FakeFlareServer) -> None:
    with flare.session(in_process=True) as session:
        session.list_jobs()
    assert len(flare.calls) == 3
    flare.reset()
    assert len(flare.calls) == 0 and flare.calls.commands() == []


def test_unauthenticated_and_unreadable_requests_are_logged(flare: FakeFlareServer) -> None:
    raw(flare, "list_jobs")  # no token
    call = flare.calls.last()
    assert (call.command, call.status, call.user) == ("list_jobs", "error", ADMIN)  # the certificate's name
    assert "no token" in call.summary
    transport(flare).request("check_status server", "not-a-token")
    assert flare.calls.last().status == "error"
    local = flare.in_process_transport()
    local.exchange(encode_stream(["{not json"]))
    assert flare.calls.last().command is None and flare.calls.last().status == "error"


def test_the_session_user_is_logged_not_only_the_certificate(flare: FakeFlareServer) -> None:
    token = login(flare, "member@nvidia.com")
    raw(flare, "list_jobs", token, user="member@nvidia.com")
    assert flare.calls.last().user == "member@nvidia.com"


def test_injected_faults_show_in_the_log(flare: FakeFlareServer) -> None:
    session = flare.session(in_process=True)
    with flare.fault("drop", command="list_jobs"), pytest.raises(ConnectionLost):
        session.list_jobs()
    assert flare.calls.last().status == "fault:drop"


def test_the_log_is_bounded_oldest_dropped() -> None:
    log = CallLog(capacity=3)
    for n in range(5):
        log.record(Call("u", f"c{n}", f"c{n}", "ok", "", float(n), 0.0, "tls"), Exchange("", None))
    assert log.commands() == ["c2", "c3", "c4"] and log.dropped == 2
    with pytest.raises(ValueError, match="capacity"):
        CallLog(capacity=0)


def test_long_lines_are_cut(flare: FakeFlareServer) -> None:
    raw(flare, "x" * 2000)
    assert flare.calls.last().line.endswith("(2000 chars)") and len(flare.calls.last().line) < 600


def test_subscribers_see_whole_requests_and_replies(flare: FakeFlareServer) -> None:
    seen: list[tuple[Call, Exchange]] = []
    stop = flare.calls.subscribe(lambda call, exchange: seen.append((call, exchange)))
    try:
        with flare.session(in_process=True) as session:
            session.list_jobs()
    finally:
        stop()
    with flare.session(in_process=True):
        pass
    assert [call.command for call, _ in seen] == ["_cert_login", "_commands", "list_jobs"]
    request = json.loads(seen[-1][1].request.rstrip("\x03\x04"))
    assert request["data"][0] == {"type": "command", "data": "list_jobs"}
    assert json.loads(seen[-1][1].reply or "")["meta"]["status"] == "ok"


def test_a_failing_subscriber_is_a_server_error_not_a_lost_reply(flare: FakeFlareServer) -> None:
    def broken(call: Call, exchange: Exchange) -> None:
        raise RuntimeError("subscriber bug")

    stop = flare.calls.subscribe(broken)
    try:
        assert raw(flare, "_commands").items
    finally:
        stop()
    assert any("subscriber bug" in str(error) for error in flare.errors)
    flare._state.errors.clear()


def test_record_to_writes_json_lines(flare: FakeFlareServer, tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    stop = flare.calls.record_to(path)
    with flare.session(in_process=True) as session:
        session.list_jobs()
    stop()
    with flare.session(in_process=True):
        pass  # not recorded
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["call"]["command"] for line in lines] == ["_cert_login", "_commands", "list_jobs"]
    assert lines[-1]["call"]["transport"] == "in_process" and "No jobs" in lines[-1]["reply"]
    stream = io.StringIO()
    stop = flare.calls.record_to(stream)
    raw(flare, "_commands")
    stop()
    assert json.loads(stream.getvalue())["call"]["command"] == "_commands"
