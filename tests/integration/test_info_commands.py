"""The ``info`` scope (show_stats, show_errors, reset_errors): every reply case on the wire, then our client.

Reference 6.0 (job check), 6.3 (check order, shapes, no meta, target ``all``), 10 (authorization); where the
reference is silent, nvflare 2.3.12's ``private/fed/server/info_coll_cmd.py`` (server), ``server_engine.py``
and ``server_commands.py`` (the server's answers) and ``private/fed/client/info_coll_cmd.py`` (a site's).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Optional

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from fakeserver.model.policy import DEFAULT_POLICY, Policy
from fakeserver.protocol import messages
from flare_api import (
    AuthorizationError,
    InvalidArgumentError,
    InvalidTarget,
    JobNotFound,
    JobNotRunning,
    NoClientsAvailable,
    ProtocolError,
    Session,
    TargetType,
    VirtualClock,
)
from flare_api.wire import Document
from tests.helpers import ADMIN, login, raw, transport, wire
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

COMMANDS = ("show_stats", "show_errors", "reset_errors")
MEMBER = "member@nvidia.com"
BAD = messages.INFO_BAD_CLIENT_RESPONSE


# ------------------------------------------------------------------------------------------- helpers
def running_job(flare: FakeFlareServer, session: Session, folder: Optional[Path] = None) -> str:
    """Submit ``folder`` (the example job) as the session's user and run it (rounds every 10 s of its 30 s)."""
    job_id = session.submit_job(str(folder or example_job()))
    flare.jobs.advance_to(job_id, "RUNNING")
    return job_id


def server_stats(job_id: str, current_round: int = 0, sites: tuple[str, ...] = ("site-1", "site-2")) -> dict:
    return {
        "ScatterAndGather": {
            "tasks": {"train": list(sites)},
            "phase": "train",
            "current_round": current_round,
            "num_rounds": 3,
        },
        "ServerRunner": {"job_id": job_id, "status": "started", "workflow": "scatter_and_gather"},
    }


def client_stats(job_id: str) -> dict:
    return {"ClientRunner": {"job_id": job_id, "current_task_name": "train", "status": "started"}}


def per_site(*bodies: tuple[str, Any]) -> list[dict]:
    """The client part's items: a header string, then the site's dict or string."""
    items: list[dict] = []
    for site, body in bodies:
        items.append({"type": "string", "data": f"--- Client ---: {site}"})
        items.append({"type": "dict", "data": body} if isinstance(body, dict) else {"type": "string", "data": body})
    return items


def assert_no_meta(reply: Document, items: list[dict]) -> None:
    assert wire(reply) == items
    assert reply.meta == {}


def assert_error(reply: Document, text: str, status: str = "error", info: Optional[str] = None) -> None:
    assert wire(reply) == [{"type": "error", "data": text}]
    assert reply.meta == {"status": status, "info": text if info is None else info}


def use_policy(flare: FakeFlareServer, monkeypatch: pytest.MonkeyPatch, **roles: Any) -> None:
    """The default policy with some roles' rules replaced, for this test only."""
    document = copy.deepcopy(DEFAULT_POLICY)
    document["permissions"].update(roles)
    monkeypatch.setattr(flare, "policy", Policy(document))


def requests_sent(flare: FakeFlareServer) -> int:
    return flare.stats.requests


# ------------------------------------------------------------------------------------ the command list
def test_commands_table_lists_the_info_scope_as_flare_2_3(flare: FakeFlareServer) -> None:
    rows = raw(flare, "_commands", login(flare)).items[0].rows
    assert rows is not None
    info = [row for row in rows if row[0] == "info"]
    assert info == [
        ["info", "reset_errors", "reset error stats for an actively running job", "reset_errors", "none", None, "True"],
        ["info", "show_errors", "show latest errors in an actively running job", "show_errors job_id server|client",
         "none", None, "True"],
        ["info", "show_stats", "show current system stats for an actively running job",
         "show_stats job_id server|client", "none", None, "True"],
    ]  # fmt: skip


# ------------------------------------------------------------------------------- checks, in FLARE's order
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("args", ["", " {job}", " {job} server site-1", " {job} client site-1"])
def test_anything_but_three_args_is_a_syntax_error(
    flare: FakeFlareServer, flare_session: Session, command: str, args: str
) -> None:
    job_id = running_job(flare, flare_session)
    reply = raw(flare, command + args.format(job=job_id), login(flare))
    assert_error(reply, "syntax error: missing job_id and target")


@pytest.mark.parametrize("command", COMMANDS)
def test_arg_count_comes_before_the_job_check_and_authorization(
    flare: FakeFlareServer, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_policy(flare, monkeypatch, member={"view": "none"})
    reply = raw(flare, f"{command} no-such-job", login(flare, MEMBER), MEMBER)
    assert_error(reply, "syntax error: missing job_id and target")


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_job_is_the_job_check_error_with_the_id_lowercased(flare: FakeFlareServer, command: str) -> None:
    reply = raw(flare, f"{command} NO-SUCH-JOB server", login(flare))
    assert_error(reply, "Job with ID no-such-job doesn't exist", "invalid_job_id", "no-such-job")


@pytest.mark.parametrize("command", COMMANDS)
def test_bad_target_type_is_a_syntax_error_even_for_a_job_that_is_not_running(
    flare: FakeFlareServer, flare_session: Session, command: str
) -> None:
    job_id = flare_session.submit_job(str(example_job()))  # SUBMITTED
    assert_error(raw(flare, f"{command} {job_id} sites", login(flare)), "unknown target type sites", "syntax_error")


def test_client_target_without_registered_sites(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    flare.sites.disconnect()
    token = login(flare)
    assert_error(raw(flare, f"show_stats {job_id} client", token), "no clients available", "syntax_error")
    # ``all`` with no client is fine for the target check (and then produces nothing)
    assert transport(flare).request(f"show_stats {job_id} all", token) is None


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("how", ["submitted", "finished", "orphaned"])
def test_a_job_without_a_process_is_not_running(
    flare: FakeFlareServer, flare_session: Session, command: str, how: str
) -> None:
    job_id = flare_session.submit_job(str(example_job()))
    if how == "finished":
        flare.jobs.run_to_completion(job_id)
    elif how == "orphaned":
        flare.jobs.advance_to(job_id, "RUNNING")
        flare.jobs.orphan(job_id)
    reply = raw(flare, f"{command} {job_id.upper()} server", login(flare))
    assert_error(reply, f"Job_id: {job_id} is not running.")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("target", ["server", "client"])
def test_a_starting_job_cannot_be_found_as_a_string_without_meta(
    flare: FakeFlareServer, flare_session: Session, command: str, target: str
) -> None:
    job_id = flare_session.submit_job(str(example_job()))
    flare.jobs.advance_to(job_id, "DISPATCHED")
    reply = raw(flare, f"{command} {job_id} {target}", login(flare))
    text = f"Cannot find job: {job_id}. Please make sure the first arg following the command is a valid job_id."
    assert_no_meta(reply, [{"type": "string", "data": text}])


@pytest.mark.parametrize("command", COMMANDS)
def test_authorization_comes_after_the_running_checks(
    flare: FakeFlareServer, flare_session: Session, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_policy(flare, monkeypatch, member={"view": "any", command: "none"})
    job_id = flare_session.submit_job(str(example_job()))
    token = login(flare, MEMBER)
    assert_error(raw(flare, f"{command} {job_id} server", token, MEMBER), f"Job_id: {job_id} is not running.")
    flare.jobs.advance_to(job_id, "RUNNING")
    denial = f"user '{MEMBER}' is not authorized for '{command}'"
    reply = raw(flare, f"{command} {job_id} client", token, MEMBER)
    assert_error(reply, "Authorization Error: " + denial, "not_authorized", denial)
    assert not [a for a in flare.audit if a.command.startswith(command)]


# ------------------------------------------------------------------------------------------ show_stats
def test_show_stats_server_follows_the_rounds_on_the_virtual_clock(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    flare.jobs.script_next(JobScript.hangs(round_seconds=5.0))
    job_id = running_job(flare, flare_session)
    token = login(flare)
    seen = []
    for _ in range(5):
        reply = raw(flare, f"show_stats {job_id} server", token)
        assert reply.meta == {} and len(reply.items) == 1
        seen.append(reply.items[0].data)
        flare_clock.advance(5.0)
    assert seen == [server_stats(job_id, r) for r in (0, 1, 2, 2, 2)]


def test_show_stats_server_with_the_default_script(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    job_id = running_job(flare, flare_session)
    token = login(flare)
    assert_no_meta(raw(flare, f"show_stats {job_id} server", token), [{"type": "dict", "data": server_stats(job_id)}])
    flare_clock.advance(10.0)
    assert raw(flare, f"show_stats {job_id} server", token).items[0].data == server_stats(job_id, 1)
    flare_clock.advance(20.0)  # the run's 30 s are over
    assert_error(raw(flare, f"show_stats {job_id} server", token), f"Job_id: {job_id} is not running.")


def test_show_stats_by_scoped_name(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    reply = raw(flare, f"info.show_stats {job_id} server", login(flare))
    assert_no_meta(reply, [{"type": "dict", "data": server_stats(job_id)}])


def test_show_stats_client_has_one_block_per_site(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    reply = raw(flare, f"show_stats {job_id} client", login(flare))
    assert_no_meta(reply, per_site(("site-1", client_stats(job_id)), ("site-2", client_stats(job_id))))


def test_a_site_outside_the_job_sends_an_empty_dict(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path
) -> None:
    folder = write_job(tmp_path, "one-site", deploy_map={"app": ["server", "site-1"]})
    job_id = running_job(flare, flare_session, folder)
    token = login(flare)
    assert raw(flare, f"show_stats {job_id} server", token).items[0].data == server_stats(job_id, sites=("site-1",))
    reply = raw(flare, f"show_stats {job_id} client", token)
    assert_no_meta(reply, per_site(("site-1", client_stats(job_id)), ("site-2", {})))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_silent_site_is_a_bad_response(flare: FakeFlareServer, flare_session: Session, command: str) -> None:
    job_id = running_job(flare, flare_session)
    flare.sites.silence("site-1")
    reply = raw(flare, f"{command} {job_id} client", login(flare))
    second = {"show_stats": client_stats(job_id), "show_errors": {}, "reset_errors": {"status": "OK"}}[command]
    assert_no_meta(reply, per_site(("site-1", BAD), ("site-2", second)))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_site_denial_is_a_bad_response(
    flare: FakeFlareServer, flare_session: Session, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # members may view where their org runs the site: the server and site-1 are nvidia's, site-2 is not
    use_policy(flare, monkeypatch, member={"view": "o:site"})
    job_id = running_job(flare, flare_session)
    reply = raw(flare, f"{command} {job_id} client", login(flare, MEMBER), MEMBER)
    first = {"show_stats": client_stats(job_id), "show_errors": {}, "reset_errors": {"status": "OK"}}[command]
    assert_no_meta(reply, per_site(("site-1", first), ("site-2", BAD)))


def test_sites_authorize_with_the_real_submitter(
    flare: FakeFlareServer, flare_session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_policy(flare, monkeypatch, lead={**DEFAULT_POLICY["permissions"]["lead"], "view": ["o:site", "n:submitter"]})
    owner = "lead@other.org"
    job_id = running_job(flare, flare_session_factory(owner))
    # the owner passes everywhere as the submitter, even on site-1 (org nvidia)
    reply = raw(flare, f"show_stats {job_id} client", login(flare, owner), owner)
    assert_no_meta(reply, per_site(("site-1", client_stats(job_id)), ("site-2", client_stats(job_id))))
    # nvidia's lead passes on nvidia's server and site-1 only
    other = "lead@nvidia.com"
    reply = raw(flare, f"show_stats {job_id} client", login(flare, other), other)
    assert_no_meta(reply, per_site(("site-1", client_stats(job_id)), ("site-2", BAD)))


@pytest.mark.parametrize("command", COMMANDS)
def test_target_all_gets_a_bare_end_of_transmission(
    flare: FakeFlareServer, flare_session: Session, command: str
) -> None:
    job_id = running_job(flare, flare_session)
    flare.jobs.inject_error(job_id, "kept")
    assert transport(flare).request(f"{command} {job_id} all", login(flare)) is None
    with pytest.raises(ProtocolError, match="server did not respond"):
        flare_session.do_command(f"{command} {job_id} all")
    assert flare.jobs.errors(job_id)  # nothing was reset
    assert flare_session.do_command(f"{command} {job_id} all", raise_errors=False) == {
        "status": "ERROR_SERVER_CONNECTION",
        "details": "Server did not respond",
    }


# --------------------------------------------------------------------------------- show_errors, reset_errors
def test_show_errors_server_no_error_then_the_injected_groups(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    token = login(flare)
    assert_no_meta(raw(flare, f"show_errors {job_id} server", token), [{"type": "string", "data": "No Error"}])
    first = flare.jobs.inject_error(job_id, "lost site-2", group="ScatterAndGather")
    warning = flare.jobs.inject_error(job_id, "slow", key="warning")
    latest = flare.jobs.inject_error(job_id, "lost site-1", group="ScatterAndGather")
    assert first.endswith(": lost site-2") and latest.endswith(": lost site-1")
    reply = raw(flare, f"show_errors {job_id} server", token)
    expected = {"ScatterAndGather": {"error": latest}, "general": {"warning": warning}}
    assert_no_meta(reply, [{"type": "dict", "data": expected}])


def test_error_values_carry_the_server_clock_time(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    import datetime

    job_id = running_job(flare, flare_session)
    flare_clock.advance(3.0)
    value = flare.jobs.inject_error(job_id, "boom", key="critical")
    stamp = datetime.datetime.fromtimestamp(flare_clock.time()).strftime("%Y-%m-%d %H:%M:%S")
    assert value == f"{stamp}: boom"
    assert flare.jobs.errors(job_id) == {"general": {"critical": value}}


def test_site_errors_are_never_shown_by_a_2_3_site(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    flare.jobs.inject_error(job_id, "disk full", target="site-1")
    reply = raw(flare, f"show_errors {job_id} client", login(flare))
    assert_no_meta(reply, per_site(("site-1", {}), ("site-2", {})))
    assert flare.jobs.errors(job_id, "site-1") != {}


def test_reset_errors_server_and_client(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    flare.jobs.inject_error(job_id, "server trouble")
    flare.jobs.inject_error(job_id, "site trouble", target="site-2")
    token = login(flare)
    reply = raw(flare, f"reset_errors {job_id} server", token)
    assert_no_meta(reply, [{"type": "string", "data": f"reset the server error stats for job: {job_id}"}])
    assert_no_meta(raw(flare, f"show_errors {job_id} server", token), [{"type": "string", "data": "No Error"}])
    assert flare.jobs.errors(job_id, "site-2") != {}
    reply = raw(flare, f"reset_errors {job_id} client", token)
    assert_no_meta(reply, per_site(("site-1", {"status": "OK"}), ("site-2", {"status": "OK"})))
    assert flare.jobs.errors(job_id, "site-2") == {}


def test_inject_error_refuses_what_flare_cannot_hold(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path
) -> None:
    from fakeserver.model.jobs import JobStoreError

    job_id = flare_session.submit_job(str(write_job(tmp_path, "one-site", deploy_map={"app": ["server", "site-1"]})))
    with pytest.raises(JobStoreError, match="not running"):
        flare.jobs.inject_error(job_id, "too early")
    flare.jobs.advance_to(job_id, "RUNNING")
    with pytest.raises(JobStoreError, match="does not run job"):
        flare.jobs.inject_error(job_id, "x", target="site-2")
    with pytest.raises(ValueError, match="key must be one of"):
        flare.jobs.inject_error(job_id, "x", key="fatal")


# ------------------------------------------------------------------------------------------ our client
@pytest.mark.parametrize(
    ("call", "error", "builtin", "text"),
    [
        (lambda s: s.show_stats("", "server"), InvalidArgumentError, ValueError, "^job_id is required but not spec"),
        (lambda s: s.show_errors(None, "server"), InvalidArgumentError, ValueError, "job_id is required"),
        (lambda s: s.reset_errors(None), InvalidArgumentError, ValueError, "job_id is required"),
        (lambda s: s.show_stats(7, "server"), InvalidArgumentError, TypeError, "job_id must be str but got"),
        (lambda s: s.reset_errors(["x"]), InvalidArgumentError, TypeError, "job_id must be str"),
        (lambda s: s.show_stats("x", "sites"), InvalidTarget, ValueError, "invalid target_type sites"),
        (lambda s: s.show_errors("x", None), InvalidTarget, ValueError, "invalid target_type None"),
        (lambda s: s.show_stats("x", "client", "site-1"), InvalidArgumentError, TypeError, "targets must be a list"),
        (lambda s: s.show_stats("x", "client", [1]), InvalidArgumentError, TypeError, "must be str"),
        (lambda s: s.show_stats("x", "client", ["site 1"]), InvalidTarget, ValueError, "invalid target 'site 1'"),
    ],
)
def test_argument_errors_are_raised_before_any_request(
    flare: FakeFlareServer, flare_session: Session, call, error: type, builtin: type, text: str
) -> None:
    before = requests_sent(flare)
    with pytest.raises(error, match=text) as caught:
        call(flare_session)
    assert isinstance(caught.value, builtin)
    assert requests_sent(flare) == before


def test_client_show_stats_shapes(flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock) -> None:
    job_id = running_job(flare, flare_session)
    assert flare_session.show_stats(job_id, "server") == {"server": server_stats(job_id)}
    sites = {"site-1": client_stats(job_id), "site-2": client_stats(job_id)}
    assert flare_session.show_stats(job_id, "client") == sites
    assert flare_session.show_stats(job_id, TargetType.CLIENT, []) == sites
    assert flare_session.show_stats(job_id, "client", ["site-2", "site-2"]) == {"site-2": client_stats(job_id)}
    flare_clock.advance(10.0)
    both = flare_session.show_stats(job_id.upper(), TargetType.ALL)
    assert list(both) == ["server", "site-1", "site-2"]
    assert both["server"] == server_stats(job_id, 1)


def test_client_sends_only_what_a_2_3_server_accepts(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    flare_session.show_stats(job_id, "client", ["site-1"])
    flare_session.show_errors(job_id, "all")
    flare_session.reset_errors(job_id)
    sent = [a.command for a in flare.audit if a.command.split()[0] in COMMANDS]
    assert sent == [
        f"show_stats {job_id} client",
        f"show_errors {job_id} server",
        f"show_errors {job_id} client",
        f"reset_errors {job_id} server",
        f"reset_errors {job_id} client",
    ]


def test_client_unknown_target_site(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    with pytest.raises(InvalidTarget, match=r"invalid client\(s\): site-9 site-8"):
        flare_session.show_stats(job_id, "client", ["site-1", "site-9", "site-8"])


def test_client_silent_and_denied_sites_give_the_servers_text(
    flare: FakeFlareServer, flare_session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_policy(flare, monkeypatch, member={"view": "o:site"})
    job_id = running_job(flare, flare_session_factory(ADMIN))
    flare.sites.silence("site-1")
    member = flare_session_factory(MEMBER)
    assert member.show_stats(job_id, "client") == {"site-1": BAD, "site-2": BAD}
    assert member.show_errors(job_id, "all") == {"server": {}, "site-1": BAD, "site-2": BAD}


def test_client_show_errors_and_reset_errors(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    assert flare_session.show_errors(job_id, "server") == {"server": {}}
    value = flare.jobs.inject_error(job_id, "boom", group="ServerRunner", key="exception")
    flare.jobs.inject_error(job_id, "site boom", target="site-1")
    assert flare_session.show_errors(job_id, "all") == {
        "server": {"ServerRunner": {"exception": value}},
        "site-1": {},
        "site-2": {},
    }
    assert flare_session.reset_errors(job_id) is None
    assert flare_session.show_errors(job_id, "server") == {"server": {}}
    assert flare.jobs.errors(job_id, "site-1") == {}


def test_client_server_side_errors(flare: FakeFlareServer, flare_session: Session) -> None:
    with pytest.raises(JobNotFound, match="no such job: nope"):
        flare_session.show_stats("nope", "server")
    job_id = flare_session.submit_job(str(example_job()))
    with pytest.raises(JobNotRunning, match=f"job {job_id} is not running"):
        flare_session.show_errors(job_id, "client")
    with pytest.raises(JobNotRunning):
        flare_session.reset_errors(job_id)
    flare.jobs.advance_to(job_id, "DISPATCHED")
    with pytest.raises(JobNotFound, match="Cannot find job"):
        flare_session.show_stats(job_id, "client")


def test_client_without_registered_sites(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = running_job(flare, flare_session)
    flare.jobs.inject_error(job_id, "boom")
    flare.sites.disconnect()
    with pytest.raises(NoClientsAvailable, match="no clients available"):
        flare_session.show_stats(job_id, "client")
    assert flare_session.show_stats(job_id, "all") == {"server": server_stats(job_id)}
    flare_session.reset_errors(job_id)  # the server alone is reset
    assert flare_session.show_errors(job_id, "server") == {"server": {}}


def test_client_authorization_error(
    flare: FakeFlareServer, flare_session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_policy(flare, monkeypatch, member={"view": "any", "reset_errors": "none"})
    job_id = running_job(flare, flare_session_factory(ADMIN))
    member = flare_session_factory(MEMBER)
    assert member.show_stats(job_id, "server") == {"server": server_stats(job_id)}
    with pytest.raises(AuthorizationError, match="is not authorized for 'reset_errors'"):
        member.reset_errors(job_id)
