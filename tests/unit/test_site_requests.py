"""``ask_sites``: each named site answers in order; a silent site is ``no_reply`` and the rest still answer;
with ``require_authz`` each site authorizes the forwarded user with its own org and the real submitter
(reference 10.2), and a refusal carries FLARE's denial text. The integration tests in
``tests/integration/test_check_status_sites.py`` show the same over the wire."""

from __future__ import annotations

from typing import Any, Optional, cast

import pytest

from fakeserver.model.policy import Person, Policy
from fakeserver.model.project import DEFAULT_PROJECT
from fakeserver.model.sessions import AdminSession
from fakeserver.model.state import ServerState
from fakeserver.pipeline.registry import CommandSpec
from fakeserver.pipeline.request import Request
from fakeserver.pipeline.site_requests import SiteAnswer, ask_sites
from flare_api import VirtualClock

#: members may view where their org runs the site, and operate only on jobs they submitted themselves
POLICY = {"format_version": "1.0", "permissions": {"member": {"view": "o:site", "operate": "n:submitter"}}}


def _request(state: ServerState, command: str = "check_status", *, session: Optional[AdminSession] = None) -> Request:
    spec = CommandSpec(scope="test", name=command, description="", usage="", handler=lambda request: None)
    return Request(
        state=state,
        registry=cast(Any, None),
        line=command,
        args=[command],
        token=None,
        peer=None,
        spec=spec,
        session=session,
    )


def _member(
    name: str = "Member@Nvidia.com", org: Optional[str] = "nvidia", role: Optional[str] = "member"
) -> AdminSession:
    return AdminSession(token="t", user_name=name, org=org, role=role, started_at=0.0, last_active=0.0)


@pytest.fixture
def state() -> ServerState:
    return ServerState(DEFAULT_PROJECT, Policy(POLICY), clock=VirtualClock())


def test_every_named_site_answers_in_the_order_asked(state: ServerState) -> None:
    answers = ask_sites(_request(state), ["site-2", "site-1"], require_authz=False)
    assert answers == [SiteAnswer("site-2", "other"), SiteAnswer("site-1", "nvidia")]
    assert all(answer.ok for answer in answers)


def test_a_silent_site_does_not_reply_and_the_next_still_answers(state: ServerState) -> None:
    state.sites.silence("site-1")
    answers = ask_sites(_request(state, session=_member()), ["site-1", "site-2"], require_authz=True)
    assert answers == [
        SiteAnswer("site-1", "nvidia", no_reply=True),
        SiteAnswer("site-2", "other", denied="user 'member@nvidia.com' is not authorized for 'check_status'"),
    ]
    assert [answer.ok for answer in answers] == [False, False]


def test_each_site_authorizes_with_its_own_org(state: ServerState) -> None:
    answers = ask_sites(_request(state, session=_member()), ["site-1", "site-2"], require_authz=True)
    assert answers == [
        SiteAnswer("site-1", "nvidia"),
        SiteAnswer("site-2", "other", denied="user 'member@nvidia.com' is not authorized for 'check_status'"),
    ]


def test_without_authz_every_responsive_site_answers_ok(state: ServerState) -> None:
    answers = ask_sites(_request(state, session=_member()), ["site-2"], require_authz=False)
    assert answers == [SiteAnswer("site-2", "other")]


def test_the_right_checked_is_the_one_given_else_the_commands_name(state: ServerState) -> None:
    # "operate" is n:submitter for members; "view" (check_status) is o:site
    request = _request(state, "sys_info", session=_member())
    denied = "user 'member@nvidia.com' is not authorized for 'sys_info'"
    assert ask_sites(request, ["site-1"], require_authz=True) == [SiteAnswer("site-1", "nvidia", denied=denied)]
    by_view = ask_sites(request, ["site-1"], require_authz=True, right="check_status")
    assert by_view == [SiteAnswer("site-1", "nvidia")]


def test_the_submitter_is_forwarded(state: ServerState) -> None:
    request = _request(state, "sys_info", session=_member())
    own = Person.of("member@nvidia.com", "nvidia", "nvidia")
    assert ask_sites(request, ["site-2"], require_authz=True, submitter=own) == [SiteAnswer("site-2", "other")]
    other = Person.of("lead@other.org", "other", "other")
    denied = "user 'member@nvidia.com' is not authorized for 'sys_info'"
    assert ask_sites(request, ["site-2"], require_authz=True, submitter=other) == [
        SiteAnswer("site-2", "other", denied=denied)
    ]
    assert ask_sites(request, ["site-2"], require_authz=True) == [SiteAnswer("site-2", "other", denied=denied)]


def test_a_user_without_org_is_forwarded_with_an_empty_org(state: ServerState) -> None:
    # FLARE forwards only non-empty props: o:site compares the site's org with "" and refuses
    answers = ask_sites(_request(state, session=_member(org=None)), ["site-1"], require_authz=True)
    assert answers == [
        SiteAnswer("site-1", "nvidia", denied="user 'member@nvidia.com' is not authorized for 'check_status'")
    ]


def test_a_user_without_role_is_refused_with_its_name(state: ServerState) -> None:
    answers = ask_sites(_request(state, session=_member(role=None)), ["site-1"], require_authz=True)
    assert answers == [
        SiteAnswer("site-1", "nvidia", denied="user 'member@nvidia.com' is not authorized for 'check_status'")
    ]


def test_a_user_without_name_is_named_empty_in_the_denial(state: ServerState) -> None:
    answers = ask_sites(_request(state, session=_member(name="")), ["site-1", "site-2"], require_authz=True)
    assert answers == [
        SiteAnswer("site-1", "nvidia"),
        SiteAnswer("site-2", "other", denied="user '' is not authorized for 'check_status'"),
    ]


def test_without_a_session_the_site_sees_nobody(state: ServerState) -> None:
    answers = ask_sites(_request(state), ["site-1"], require_authz=True)
    assert answers == [SiteAnswer("site-1", "nvidia", denied="user '' is not authorized for 'check_status'")]
