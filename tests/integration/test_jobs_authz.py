"""The default policy (reference 10.3) for every job command, on the wire and through our client.

Users (``fakeserver.provision.DEFAULT_PROJECT``): admin@nvidia.com project_admin/nvidia, orgadmin@nvidia.com
org_admin/nvidia, lead@nvidia.com lead/nvidia, lead@other.org lead/other, member@nvidia.com member/nvidia.
Jobs are owned by the three users who may submit: admin@nvidia.com, lead@nvidia.com and lead@other.org.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import pytest

from fakeserver import FakeFlareServer
from fakeserver.example_jobs import example_job
from flare_api import AuthorizationError, InternalError, JobNotFound, Session
from flare_api.job_folder import submit_command_args
from tests.helpers import USERS, login, raw, wire

pytestmark = pytest.mark.fake_flare_only

HELLO = example_job()
ROLES = {
    "admin@nvidia.com": ("project_admin", "nvidia"),
    "orgadmin@nvidia.com": ("org_admin", "nvidia"),
    "lead@nvidia.com": ("lead", "nvidia"),
    "lead@other.org": ("lead", "other"),
    "member@nvidia.com": ("member", "nvidia"),
}
OWNERS = ["admin@nvidia.com", "lead@nvidia.com", "lead@other.org"]
JOB_COMMANDS = ["get_job_meta", "clone_job", "abort_job", "delete_job", "download_job", "abort_task"]


def allowed(user: str, command: str, owner: Optional[str]) -> bool:
    """Reference 10.3, written out from the default ``authorization.json``."""
    role, org = ROLES[user]
    if role == "project_admin" or command in ("list_jobs", "get_job_meta"):
        return True
    if role == "member" or command == "abort_task":  # abort_task has no submitter
        return False
    if command == "submit_job":
        return role == "lead"
    if command == "clone_job":
        return role == "lead" and owner == user
    assert owner is not None
    if role == "org_admin":  # abort_job, delete_job, download_job: o:submitter
        return ROLES[owner][1] == org
    return owner == user  # lead: n:submitter


def test_the_expected_matrix_matches_reference_10_3() -> None:
    """Spot checks of ``allowed`` against the table as printed in the reference."""
    assert not allowed("orgadmin@nvidia.com", "submit_job", None)
    assert not allowed("orgadmin@nvidia.com", "clone_job", "admin@nvidia.com")
    assert allowed("orgadmin@nvidia.com", "delete_job", "lead@nvidia.com")
    assert not allowed("orgadmin@nvidia.com", "download_job", "lead@other.org")
    assert allowed("lead@other.org", "clone_job", "lead@other.org")
    assert not allowed("lead@nvidia.com", "abort_job", "admin@nvidia.com")
    assert not allowed("lead@nvidia.com", "abort_task", "lead@nvidia.com")
    assert allowed("member@nvidia.com", "get_job_meta", "lead@other.org")
    assert not allowed("member@nvidia.com", "download_job", "admin@nvidia.com")


def submit(server: FakeFlareServer, user: str, token: Optional[str] = None) -> str:
    name, payload = submit_command_args(HELLO)
    reply = raw(server, f"submit_job {name} {payload}", token or login(server, user), user)
    assert reply.meta.get("status") == "ok", wire(reply)
    return str(reply.meta["job_id"])


def assert_denied(reply, user: str, right: str) -> str:
    info = f"user '{user}' is not authorized for '{right}'"
    assert wire(reply) == [{"type": "error", "data": f"Authorization Error: {info}"}]
    assert reply.meta == {"status": "not_authorized", "info": info}
    assert list(reply.meta) == ["status", "info"]
    return info


CASES = [pytest.param(user, command, None, id=f"{command}-by-{user}") for command in ("submit_job", "list_jobs")
         for user in USERS] + [
    pytest.param(user, command, owner, id=f"{command}-by-{user}-of-{owner}")
    for command in JOB_COMMANDS for user in USERS for owner in OWNERS
]  # fmt: skip


@pytest.mark.parametrize(("user", "command", "owner"), CASES)
def test_default_policy(
    flare: FakeFlareServer,
    flare_session_factory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    user: str,
    command: str,
    owner: Optional[str],
) -> None:
    # two jobs per owner: one for the raw request, one for the client call (aborts and deletes change state)
    tokens = {o: login(flare, o) for o in OWNERS} if owner else {}
    jobs = {o: (submit(flare, o, tokens[o]), submit(flare, o, tokens[o])) for o in OWNERS} if owner else {}
    wire_job, client_job = jobs[owner] if owner else ("", "")
    name, payload = submit_command_args(HELLO)
    line = {
        "submit_job": f"submit_job {name} {payload}",
        "list_jobs": "list_jobs",
    }.get(command, f"{command} {wire_job}")
    before = len(flare.jobs)
    reply = raw(flare, line, tokens.get(user) or login(flare, user), user)
    session: Session = flare_session_factory(user)
    monkeypatch.setattr(session, "download_dir", str(tmp_path))

    def call_client() -> object:
        if command == "submit_job":
            return session.submit_job(str(HELLO))
        if command == "list_jobs":
            return session.list_jobs()
        if command == "download_job":
            return session.download_job_result(client_job)
        if command == "abort_task":
            return session.do_command(f"abort_task {client_job}")
        return getattr(session, command)(client_job)

    if not allowed(user, command, owner):
        info = assert_denied(reply, user, command)
        assert len(flare.jobs) == before
        with pytest.raises(AuthorizationError) as caught:
            call_client()
        # FLARE's Session names the command it was given (reference 8.4), not the wire line of a file transfer
        sent = {
            "submit_job": f"submit_job {HELLO}",
            "list_jobs": "list_jobs",
            "abort_task": f"abort_task {client_job}",
        }.get(command, f"{command} {client_job}")
        assert str(caught.value) == f"user not authorized for the action '{sent}: {info}'"
        assert len(flare.jobs) == before
        return

    assert reply.meta.get("status", "ok") == "ok", wire(reply)
    assert "not authorized" not in str(wire(reply))
    result = call_client()
    if command == "submit_job":
        assert len(flare.jobs) == before + 2
    elif command == "clone_job":
        assert len(flare.jobs) == before + 2 and flare.jobs.meta(str(result))["cloned_from"] == client_job
    elif command == "download_job":
        assert result == os.path.join(str(tmp_path), client_job) and Path(str(result), "job").is_dir()
    elif command == "delete_job":
        assert len(flare.jobs) == before - 2
    elif command == "abort_job":
        assert flare.jobs.status(wire_job).value == flare.jobs.status(client_job).value == "FINISHED:ABORTED"
    elif command == "abort_task":
        assert reply.items[0].rows[0] == ["CLIENT", "RESPONSE"] and reply.meta == {}
        assert isinstance(result, dict) and result["status"] == "SUCCESS" and result["meta"] == {}
    elif command == "list_jobs":
        assert result == reply.meta["jobs"] == []
    elif command == "get_job_meta":
        assert reply.meta["job_meta"]["submitter_name"] == owner and result["job_id"] == client_job


@pytest.mark.parametrize("command", ["submit_job", "download_job"])
def test_file_transfer_denials_name_the_command_like_flare(
    flare: FakeFlareServer, flare_session_factory, command: str
) -> None:
    """Not the scoped wire line (``job_mgmt.submit_job <name> <whole base64 zip>``): flare_api.py:162 uses the
    command the Session was given, ``submit_job <path>`` / ``download_job <id>``."""
    member = "member@nvidia.com"
    job_id = submit(flare, "admin@nvidia.com")
    session = flare_session_factory(member)
    with pytest.raises(AuthorizationError) as caught:
        if command == "submit_job":
            session.submit_job(str(HELLO))
        else:
            session.download_job_result(job_id)
    info = f"user '{member}' is not authorized for '{command}'"
    typed = f"submit_job {HELLO}" if command == "submit_job" else f"download_job {job_id}"
    assert str(caught.value) == f"user not authorized for the action '{typed}: {info}'"


@pytest.mark.parametrize("command", ["get_job_meta", "clone_job", "abort_job", "delete_job", "download_job"])
@pytest.mark.parametrize("user", ["member@nvidia.com", "orgadmin@nvidia.com", "lead@other.org"])
def test_argument_errors_come_before_authorization(
    flare: FakeFlareServer, flare_session_factory, command: str, user: str
) -> None:
    token = login(flare, user)
    reply = raw(flare, command, token, user)
    assert wire(reply) == [{"type": "error", "data": "syntax error: missing job_id"}]
    assert reply.meta == {"status": "syntax_error", "info": "missing job_id"}
    with pytest.raises(InternalError, match=r"^protocol error: missing job_id$"):
        flare_session_factory(user).do_command(command)


@pytest.mark.parametrize("command", ["get_job_meta", "clone_job", "abort_job", "delete_job", "download_job"])
def test_unknown_job_ids_come_before_authorization(flare: FakeFlareServer, flare_session_factory, command: str) -> None:
    member = "member@nvidia.com"
    submit(flare, "admin@nvidia.com")
    reply = raw(flare, f"{command} NO-SUCH-JOB", login(flare, member), member)
    assert wire(reply) == [{"type": "error", "data": "Job with ID no-such-job doesn't exist"}]
    assert reply.meta == {"status": "invalid_job_id", "info": "no-such-job"}
    with pytest.raises(JobNotFound, match=r"^no such job: no-such-job$"):
        flare_session_factory(member).do_command(f"{command} NO-SUCH-JOB")


@pytest.mark.parametrize("command", ["get_job_meta", "clone_job", "abort_job", "delete_job", "download_job"])
def test_target_errors_come_before_authorization(flare: FakeFlareServer, command: str) -> None:
    member = "member@nvidia.com"
    job_id = submit(flare, "admin@nvidia.com")
    reply = raw(flare, f"{command} {job_id} client nope", login(flare, member), member)
    assert wire(reply) == [{"type": "error", "data": "invalid client(s): nope"}]
    assert reply.meta == {"status": "syntax_error", "info": "invalid client(s): nope"}


def test_abort_task_argument_errors_come_before_authorization(flare: FakeFlareServer) -> None:
    member = "member@nvidia.com"
    token = login(flare, member)
    text = "missing job_id (syntax is: abort_task job_id <client-name>)"
    reply = raw(flare, "abort_task", token, member)
    assert wire(reply) == [{"type": "error", "data": text}]
    assert reply.meta == {"status": "error", "info": text}
    reply = raw(flare, "abort_task anything nope", token, member)
    assert wire(reply) == [{"type": "error", "data": "invalid client(s): nope"}]
    # an unknown job id is not checked: the denial comes next
    assert_denied(raw(flare, "abort_task anything", token, member), member, "abort_task")


@pytest.mark.parametrize("user", ["orgadmin@nvidia.com", "member@nvidia.com"])
@pytest.mark.parametrize("line", ["submit_job", "submit_job hello", "job_mgmt.submit_job hello abc"])
def test_submit_job_authorization_comes_before_its_crashes(flare: FakeFlareServer, user: str, line: str) -> None:
    """submit_job has no pre-check: a user without the right is denied before the IndexError/decoding crash."""
    assert_denied(raw(flare, line, login(flare, user), user), user, "submit_job")


def test_list_jobs_parse_errors_come_after_authorization(flare: FakeFlareServer) -> None:
    """list_jobs parses its options in the handler; a member (who may view) sees the argparse error."""
    member = "member@nvidia.com"
    reply = raw(flare, "list_jobs -x", login(flare, member), member)
    assert reply.meta["status"] == "internal_error"
    assert reply.items[0].data.startswith("ValueError: unrecognized arguments: -x\nusage: list_jobs")


def test_denials_are_not_audited_and_change_nothing(flare: FakeFlareServer) -> None:
    member = "member@nvidia.com"
    job_id = submit(flare, "lead@other.org")
    token = login(flare, member)
    audited = len(flare.audit)
    for command in ("clone_job", "abort_job", "delete_job", "download_job", "abort_task"):
        assert_denied(raw(flare, f"{command} {job_id}", token, member), member, command)
    assert len(flare.audit) == audited
    assert flare.jobs.ids() == [job_id] and flare.jobs.status(job_id).value == "SUBMITTED"


def test_clone_by_lead_sets_the_lead_as_submitter(flare: FakeFlareServer) -> None:
    lead = "lead@other.org"
    job_id = submit(flare, lead)
    token = login(flare, lead)
    new = raw(flare, f"clone_job {job_id}", token, lead).meta["job_id"]
    meta = flare.jobs.meta(new)
    assert (meta["submitter_name"], meta["submitter_org"], meta["submitter_role"]) == (lead, "other", "lead")
    # the clone is the lead's own job now, so the lead may manage it; the org admin of nvidia may not
    assert raw(flare, f"delete_job {new}", token, lead).meta == {"status": "ok", "info": ""}
    orgadmin = "orgadmin@nvidia.com"
    assert_denied(raw(flare, f"abort_job {job_id}", login(flare, orgadmin), orgadmin), orgadmin, "abort_job")
