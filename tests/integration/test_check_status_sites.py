"""``check_status`` as sites go silent, get dropped and come back; sites authorizing its client part.

Reference 6.2 (check_status), 7.3 (scheduler), 10.2 (site-side authorization); nvflare 2.3.12's
``training_cmds._process_client_status_replies`` for the rows of silent and refusing sites.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from fakeserver.model.policy import DEFAULT_POLICY, Policy
from flare_api import Session, VirtualClock
from flare_api.wire import Document
from tests.helpers import login, raw, wire
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

HEADER = ["CLIENT", "APP_NAME", "JOB_ID", "STATUS"]
MEMBER = "member@nvidia.com"


def client_table(reply: Document) -> list[list[Any]]:
    """The one table of a ``check_status client`` reply, which carries no meta."""
    assert reply.meta == {}
    assert [item["type"] for item in wire(reply)] == ["table"]
    rows = reply.items[0].rows
    assert rows is not None and rows[0] == HEADER
    return rows[1:]


def registered(reply: Document) -> tuple[str, list[str]]:
    """``Registered clients: N `` and the names in the clients table of a ``check_status server`` reply."""
    texts = [item.data for item in reply.items if item.type.value == "string"]
    tables = [item.rows for item in reply.items if item.type.value == "table"]
    names = [row[0] for row in tables[1][1:]] if len(tables) > 1 else []
    return texts[1], names


def hanging_job(flare: FakeFlareServer, session: Session) -> str:
    flare.jobs.script_next(JobScript.hangs())
    job_id = session.submit_job(str(example_job()))
    flare.jobs.advance_to(job_id, "RUNNING")
    return job_id


def test_a_site_going_silent_mid_job_shows_no_reply(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    job_id = hanging_job(flare, flare_session)
    token = login(flare)
    both = [["site-1", "app", job_id, "started"], ["site-2", "app", job_id, "started"]]
    assert client_table(raw(flare, "check_status client", token)) == both
    flare_clock.advance(30.0)
    flare.sites.silence("site-2")
    assert client_table(raw(flare, "check_status client", token)) == [both[0], ["site-2", "?", "?", "No Reply"]]
    assert client_table(raw(flare, "check_status client site-2", token)) == [["site-2", "?", "?", "No Reply"]]
    # still registered until the heartbeat timeout
    assert registered(raw(flare, "check_status server", token)) == ("Registered clients: 2 ", ["site-1", "site-2"])
    result = flare_session.do_command("check_status client")
    assert result["data"] == [{"type": "table", "rows": [HEADER, both[0], ["site-2", "?", "?", "No Reply"]]}]
    assert result["meta"] == {} and result["status"] == "SUCCESS"


def test_a_silent_site_answers_again_once_reconnected(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = hanging_job(flare, flare_session)
    flare.sites.silence("site-1")
    token = login(flare)
    assert client_table(raw(flare, "check_status client", token))[0] == ["site-1", "?", "?", "No Reply"]
    flare.sites.connect("site-1")
    assert client_table(raw(flare, "check_status client", token))[0] == ["site-1", "app", job_id, "started"]


def test_check_status_all_with_a_silent_site(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = hanging_job(flare, flare_session)
    flare.sites.silence("site-1")
    reply = raw(flare, "check_status all", login(flare))
    assert [item["type"] for item in wire(reply)] == ["string", "table", "string", "table", "table"]
    assert reply.items[4].rows == [HEADER, ["site-1", "?", "?", "No Reply"], ["site-2", "app", job_id, "started"]]
    assert reply.meta["status"] == "ok" and reply.meta["jobs"] == [{"app_name": "app", "job_id": job_id}]


def test_check_status_all_without_sites_ends_with_no_responses(flare: FakeFlareServer) -> None:
    flare.sites.disconnect()
    reply = raw(flare, "check_status all", login(flare))
    assert wire(reply)[1:] == [
        {"type": "table", "rows": [["JOB_ID", "APP NAME"]]},
        {"type": "string", "data": "Registered clients: 0 "},
        {"type": "error", "data": "no responses from clients"},
    ]
    assert reply.meta["status"] == "error" and reply.meta["info"] == "no responses from clients"


def test_a_silent_site_is_dropped_after_the_heartbeat_timeout_and_new_jobs_wait_for_it(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    running = hanging_job(flare, flare_session)
    flare.sites.silence("site-2")
    token = login(flare)
    flare_clock.advance(flare.sites.heartbeat_timeout - 1.0)
    assert registered(raw(flare, "check_status server", token))[0] == "Registered clients: 2 "
    flare_clock.advance(1.0)
    assert registered(raw(flare, "check_status server", token)) == ("Registered clients: 1 ", ["site-1"])
    assert [c.name for c in flare_session.get_system_info().client_info] == ["site-1"]
    assert client_table(raw(flare, "check_status client", token)) == [["site-1", "app", running, "started"]]
    # the example job wants min_clients 2: the scheduler keeps refusing it
    waiting = flare_session.submit_job(str(example_job()))
    flare_clock.advance(1.0 + 10.0)
    meta = flare_session.get_job_meta(waiting)
    assert meta["status"] == "SUBMITTED" and meta["schedule_count"] == 2
    assert [h.split(": ", 1)[1] for h in meta["schedule_history"]] == ["connected sites (1) < min_sites (2)"] * 2
    # site-2 registers again (a new token) and the next attempt schedules the job
    flare.sites.connect("site-2")
    assert registered(raw(flare, "check_status server", token)) == ("Registered clients: 2 ", ["site-1", "site-2"])
    flare_clock.advance(20.0)
    meta = flare_session.get_job_meta(waiting)
    assert meta["schedule_history"][-1].endswith(": scheduled") and meta["status"] == "DISPATCHED"
    flare_clock.advance(1.0)
    assert flare_session.get_job_status(waiting) == "RUNNING"
    # site-2's process for the first job kept running while the site was cut off, so it reports both
    rows = client_table(raw(flare, "check_status client", token))
    assert rows == [
        ["site-1", "app", running, "started"],
        ["site-1", "app", waiting, "started"],
        ["site-2", "app", running, "started"],
        ["site-2", "app", waiting, "started"],
    ]


def test_a_mandatory_client_that_was_dropped_blocks_scheduling(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock, tmp_path: Path
) -> None:
    flare.sites.silence("site-2")
    flare_clock.advance(flare.sites.heartbeat_timeout)
    folder = write_job(tmp_path, "needs-site-2", mandatory_clients=["site-2"])
    job_id = flare_session.submit_job(str(folder))
    flare_clock.advance(1.0)
    meta = flare_session.get_job_meta(job_id)
    assert meta["status"] == "SUBMITTED"
    assert meta["schedule_history"][0].endswith(": missing required site site-2")
    flare.sites.connect("site-2")
    flare_clock.advance(10.0)
    assert flare_session.get_job_meta(job_id)["schedule_history"][-1].endswith(": scheduled")


def _use_policy(flare: FakeFlareServer, monkeypatch: pytest.MonkeyPatch, **roles: Any) -> None:
    document = copy.deepcopy(DEFAULT_POLICY)
    document["permissions"].update(roles)
    monkeypatch.setattr(flare, "policy", Policy(document))


def test_each_site_authorizes_the_client_part_itself(
    flare: FakeFlareServer, flare_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # members may check the status where their org runs the site: site-1 is nvidia's, site-2 is not
    _use_policy(flare, monkeypatch, member={"view": "o:site"})
    job_id = hanging_job(flare, flare_session)
    rows = client_table(raw(flare, "check_status client", login(flare, MEMBER), MEMBER))
    denial = f"user '{MEMBER}' is not authorized for 'check_status'"
    assert rows == [["site-1", "app", job_id, "started"], ["site-2", "?", "?", denial]]


def test_sites_check_status_without_a_submitter(
    flare: FakeFlareServer, flare_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``n:submitter`` never holds for check_status: no job, so the submitter is empty on every site
    _use_policy(flare, monkeypatch, member={"view": "n:submitter"})
    flare.sites.silence("site-2")
    rows = client_table(raw(flare, "check_status client", login(flare, MEMBER), MEMBER))
    assert rows == [
        ["site-1", "?", "?", f"user '{MEMBER}' is not authorized for 'check_status'"],
        ["site-2", "?", "?", "No Reply"],
    ]
    # the server part is checked by the server itself, which refuses it
    reply = raw(flare, "check_status server", login(flare, MEMBER), MEMBER)
    assert reply.meta["status"] == "not_authorized"
