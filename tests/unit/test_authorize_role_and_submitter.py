"""``authorize`` exactly: the project-admin refusal per series (2.3's fixed text, 2.4+'s "Not authorized for <role>",
a request without a session included), the submitter it records for the sites, and a policy rule blocked by the
job's submitter (kills the last survivors of ``fakeserver.pipeline.authorization`` and ``_Rule.permits``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional, cast

import pytest

from fakeserver.model.policy import NOBODY, Person, _Condition, _Rule, submitter_of
from fakeserver.pipeline import authorization as authz
from fakeserver.pipeline.arguments import Parsed
from fakeserver.pipeline.request import Request
from fakeserver.protocol.refusals import Refusal
from fakeserver.protocol.versions import FlareVersion


def _role_request(version: FlareVersion, role: Optional[str]) -> Request:
    session = None if role is None else SimpleNamespace(role=role)
    return cast(Request, SimpleNamespace(session=session, version=version))


@pytest.mark.parametrize(
    ("version", "role", "text"),
    [
        (FlareVersion.V2_3, "lead", "Not authorized as project_admin."),
        (FlareVersion.V2_3, None, "Not authorized as project_admin."),
        (FlareVersion.V2_4, "lead", "Not authorized for lead"),
        (FlareVersion.V2_4, None, "Not authorized for "),
        (FlareVersion.V2_5, "member", "Not authorized for member"),
        (FlareVersion.V2_6, "org_admin", "Not authorized for org_admin"),
    ],
)
def test_the_project_admin_refusal_names_the_role_from_2_4(
    version: FlareVersion, role: Optional[str], text: str
) -> None:
    with pytest.raises(Refusal) as refused:
        authz.authorize(_role_request(version, role), authz.PROJECT_ADMIN, cast(Parsed, {}))
    assert refused.value.text == text
    assert refused.value.status == "not_authorized"


@pytest.mark.parametrize("version", list(FlareVersion))
def test_the_project_admin_passes_in_every_series(version: FlareVersion) -> None:
    authz.authorize(_role_request(version, "project_admin"), authz.PROJECT_ADMIN, cast(Parsed, {}))  # no Refusal


def _right_request(permits: bool, calls: list[Any]) -> Any:
    def record(user: Person, right: str, *, site_org: str, submitter: Person) -> bool:
        calls.append((user, right, site_org, submitter))
        return permits

    state = SimpleNamespace(policy=SimpleNamespace(permits=record), server_org="nvidia")
    user = Person("lead@nvidia.com", "nvidia", "lead")
    return SimpleNamespace(
        session=SimpleNamespace(role="lead"),
        version=FlareVersion.V2_3,
        state=state,
        user=lambda: user,
        submitter=NOBODY,
    )


def test_a_job_right_records_the_jobs_submitter_for_the_sites() -> None:
    meta = {"submitter_name": "member@a.org", "submitter_org": "a.org", "submitter_role": "member"}
    calls: list[Any] = []
    request = _right_request(True, calls)
    authz.authorize(
        request, authz.Right("abort_job", job_submitter=True), cast(Parsed, {"job": SimpleNamespace(meta=meta)})
    )
    assert request.submitter == submitter_of(meta) == Person("member@a.org", "a.org", "a.org")
    assert calls == [(Person("lead@nvidia.com", "nvidia", "lead"), "abort_job", "nvidia", submitter_of(meta))]


def test_a_right_without_a_job_records_nobody() -> None:
    calls: list[Any] = []
    request = _right_request(True, calls)
    authz.authorize(request, authz.Right("check_status"), cast(Parsed, {}))
    assert request.submitter == NOBODY
    assert calls[0][3] == NOBODY


def test_a_rule_blocked_for_the_jobs_submitter() -> None:
    alice, bob = Person("alice", "a.org", "lead"), Person("bob", "b.org", "lead")
    not_submitter = _Rule(blocked=[_Condition("name", "submitter")])
    assert not_submitter.permits(alice, alice, "nvidia") is False
    assert not_submitter.permits(alice, bob, "nvidia") is True
    not_submitters_org = _Rule(blocked=[_Condition("org", "submitter")])
    assert not_submitters_org.permits(alice, alice, "nvidia") is False
    assert not_submitters_org.permits(alice, bob, "nvidia") is True


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ((1, "org", "lead"), "User name must be a str but got <class 'int'>"),
        (("name", None, "lead"), "User org must be a str but got <class 'NoneType'>"),
        (("name", "org", ["lead"]), "User role must be a str but got <class 'list'>"),
    ],
)
def test_a_person_field_that_is_not_a_string_is_a_type_error_naming_it(fields: tuple[Any, Any, Any], text: str) -> None:
    with pytest.raises(TypeError) as raised:
        Person.of(*fields)
    assert str(raised.value) == text
