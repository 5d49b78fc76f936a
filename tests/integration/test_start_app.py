"""start_app: every reply case of FLARE 2.3.12's handler (client apps only; they already run in the fake)."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from tests.helpers import login, raw, wire

pytestmark = pytest.mark.fake_flare_only


@pytest.fixture
def running_job(flare: FakeFlareServer) -> str:
    flare.jobs.script_next(JobScript.hangs())
    with flare.session() as session:
        job_id = session.submit_job(str(example_job()))
    flare.jobs.advance_to(job_id, "RUNNING")
    return job_id


def test_start_app_client_on_a_running_job(flare: FakeFlareServer, running_job: str) -> None:
    reply = raw(flare, f"start_app {running_job} client", login(flare))
    assert wire(reply) == [
        {
            "type": "table",
            "rows": [
                ["CLIENT", "RESPONSE"],
                ["site-1", "Client app already started."],
                ["site-2", "Client app already started."],
            ],
        },
        {"type": "success", "data": ""},
    ]
    assert reply.meta == {"status": "ok", "info": ""}


def test_start_app_all_and_a_silent_site(flare: FakeFlareServer, running_job: str) -> None:
    flare.sites.silence("site-2")
    reply = raw(flare, f"start_app {running_job} all", login(flare))
    assert reply.items[0].rows[1:] == [["site-1", "Client app already started."], ["site-2", ""]]
    assert reply.items[-1].to_json() == {"type": "success", "data": ""}


@pytest.mark.parametrize(
    ("suffix", "error", "status"),
    [
        ("", "Please provide the target name (client / all) for start_app command.", "error"),
        (" server", "start_app command only supports client app start.", "error"),
        (" bogus", "unknown target type bogus", "syntax_error"),
        (" client site-9", "invalid client(s): site-9", "syntax_error"),
    ],
)
def test_start_app_argument_errors(flare: FakeFlareServer, running_job: str, suffix: str, error: str, status: str):
    reply = raw(flare, f"start_app {running_job}{suffix}", login(flare))
    assert wire(reply) == [{"type": "error", "data": error}]
    assert reply.meta == {"status": status, "info": error}


def test_start_app_of_a_job_that_is_not_running(flare: FakeFlareServer) -> None:
    with flare.session() as session:
        job_id = session.submit_job(str(example_job()))
    reply = raw(flare, f"start_app {job_id} client", login(flare))
    assert wire(reply) == [{"type": "error", "data": f"Job: {job_id} is not running."}]


def test_start_app_with_a_site_outside_the_job(flare: FakeFlareServer, tmp_path) -> None:
    from tests.jobfolders import write_job

    folder = write_job(tmp_path, "one_site", deploy_map={"app": ["server", "site-1"]}, min_clients=1)
    flare.jobs.script_next(JobScript.hangs())
    with flare.session() as session:
        job_id = session.submit_job(str(folder))
    flare.jobs.advance_to(job_id, "RUNNING")
    reply = raw(flare, f"start_app {job_id} client site-2", login(flare))
    assert wire(reply) == [{"type": "error", "data": "site-2 are not in the job running list."}]


def test_start_app_authorization(flare: FakeFlareServer, running_job: str) -> None:
    member = "member@nvidia.com"
    reply = raw(flare, f"start_app {running_job} client", login(flare, member), user=member)
    assert wire(reply) == [
        {"type": "error", "data": "Authorization Error: user 'member@nvidia.com' is not authorized for 'start_app'"}
    ]
