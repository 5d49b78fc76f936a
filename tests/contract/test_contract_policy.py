"""The fake's policy language decides exactly as nvflare 2.3's ``nvflare.fuel.sec.authz`` on a grid of cases."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from fakeserver.model.policy import NOBODY, RIGHT_CATEGORIES, Person, Policy, PolicyError

EXPRESSIONS: list[Any] = [
    "any", "none", "no", "all", "o:org1", "org:org2", "n:alice@org1.com", "name:bob@org2.com", "o:site",
    "n:site", "o:submitter", "n:submitter", "not any", "not none", "not o:org2", "not n:submitter",
    "not o:site", ["o:org1", "o:org2"], ["any", "not o:org2"], ["not o:org1", "not n:bob@org2.com"],
    ["none", "not none"], "  NOT   O:Org2 ", "o: ORG1 ",
]  # fmt: skip
BAD_EXPRESSIONS: list[Any] = ["o:org1:x", "org1", "not", "not not any", "r:lead", ["any", "x:y"], [], 7]
USERS = [("alice@org1.com", "org1", "lead"), ("bob@org2.com", "org2", "lead"), ("Carol", "ORG1", "member")]
SUBMITTERS = [None, ("bob@org2.com", "org2", "org2"), ("Alice@ORG1.com", "org1", "org1")]
RIGHTS = ["list_jobs", "check_status", "shutdown", "submit_job", "cat"]


@pytest.fixture(scope="module")
def authz(nvflare_api: Any) -> Any:
    """nvflare's authorization module (``nvflare_api`` skips, or fails in the contract env, without nvflare)."""
    from nvflare.fuel.sec import authz

    return authz


def documents() -> list[dict[str, Any]]:
    """Each expression as a role-wide rule, as a right, and as a category overridden by an explicit right."""
    out = []
    for expression in EXPRESSIONS:
        out.append({"format_version": "1.0", "permissions": {"lead": expression, "member": "any"}})
        out.append({"format_version": "1.0", "permissions": {"lead": {"list_jobs": expression}}})
        out.append({"format_version": "1.0", "permissions": {"lead": {"view": expression, "check_status": "any"}}})
    return out


def test_every_decision_matches_nvflare(authz: Any) -> None:
    decisions = 0
    for document in documents():
        theirs, error = authz.parse_policy_config(document, RIGHT_CATEGORIES)
        assert error == "", (document, error)
        ours = Policy(document)
        for user, submitter, right, site_org in itertools.product(USERS, SUBMITTERS, RIGHTS, ["org1", "Org2"]):
            their_submitter = authz.Person(*submitter) if submitter else None
            context = authz.AuthzContext(right, authz.Person(*user), their_submitter)
            expected, _ = theirs.evaluate(site_org, context)
            got = ours.permits(
                Person.of(*user), right, site_org=site_org, submitter=Person.of(*submitter) if submitter else NOBODY
            )
            assert got is expected, (document, user, submitter, right, site_org)
            decisions += 1
    assert decisions == len(documents()) * len(USERS) * len(SUBMITTERS) * len(RIGHTS) * 2


@pytest.mark.parametrize("expression", BAD_EXPRESSIONS, ids=repr)
def test_bad_expressions_are_refused_with_nvflares_text(authz: Any, expression: Any) -> None:
    document = {"format_version": "1.0", "permissions": {"lead": {"list_jobs": expression}}}
    _, error = authz.parse_policy_config(document, RIGHT_CATEGORIES)
    assert error
    with pytest.raises(PolicyError) as caught:
        Policy(document)
    assert str(caught.value) == error
