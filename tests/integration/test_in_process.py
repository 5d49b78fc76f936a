"""The in-process transport answers exactly what the TLS transport answers (only the socket differs)."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer
from fakeserver.example_jobs import example_job
from flare_api import NoConnection, VirtualClock
from flare_api.transport import Transport
from tests.helpers import ADMIN

pytestmark = pytest.mark.fake_flare_only

LINES = [
    "_commands",
    "check_status server",
    "check_status client",
    "list_jobs",
    "list_jobs -d",
    "get_job_meta {job}",
    "list_jobs -m abc",
    "nope",
    "check_status bogus",
    'check_status "server',
]


def test_same_documents_on_both_transports(flare: FakeFlareServer, flare_clock: VirtualClock) -> None:
    tls = Transport(*flare.address, flare.provisioned.client_ssl_context(ADMIN))
    local = flare.in_process_transport(ADMIN)
    token = tls.request(f"_cert_login {ADMIN}").items[1].data
    with flare.session() as session:
        job = session.submit_job(str(example_job()))
    flare_clock.advance(5)
    for line in LINES:
        line = line.format(job=job)
        a, b = tls.request(line, token), local.request(line, token)
        assert a is not None and b is not None
        assert [i.to_json() for i in a.items] == [i.to_json() for i in b.items], line
        assert a.meta == b.meta, line


def test_in_process_identity_and_login(flare: FakeFlareServer) -> None:
    local = flare.in_process_transport("lead@other.org")
    assert local.request("_cert_login lead@other.org").items[0].data == "OK"
    assert local.request("_cert_login admin@nvidia.com").items[0].data == "REJECT"
    anonymous = flare.in_process_transport(None)
    assert anonymous.request(f"_cert_login {ADMIN}").items[0].data == "REJECT"
    with pytest.raises(KeyError, match=r"nobody@nvidia\.com"):
        flare.in_process_transport("nobody@nvidia.com")


def test_in_process_session_runs_a_job(flare: FakeFlareServer) -> None:
    with flare.session("lead@nvidia.com", in_process=True) as session:
        job_id = session.submit_job(str(example_job()))
        meta = session.wait_for_job(job_id, poll_interval=1.0)
    assert meta["status"] == "FINISHED:COMPLETED"
    assert meta["submitter_name"] == "lead@nvidia.com"


def test_in_process_transport_of_a_stopped_server(tmp_path) -> None:
    with FakeFlareServer(workspace=tmp_path) as server:
        local = server.in_process_transport()
    with pytest.raises(NoConnection, match="the server is not running"):
        local.request("_commands")
