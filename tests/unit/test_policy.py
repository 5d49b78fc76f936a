"""FLARE's authorization policy language (reference section 10.1) as fakeserver/model/policy.py parses it.

Expressions: ``any``/``all``, ``none``/``no``, ``o:``/``org:`` and ``n:``/``name:`` targets (with the special
``site`` and ``submitter``), each optionally prefixed by ``not`` (a block condition); a list is allowed when
no block condition matches and some allowed condition does (or there are only block conditions). The
expected results follow nvflare 2.3's ``nvflare/fuel/sec/authz.py`` (``_RoleRightConditions``).
"""

from __future__ import annotations

from typing import Any

import pytest

from fakeserver.model.policy import DEFAULT_POLICY, NOBODY, Person, Policy, PolicyError, denial

ALICE = Person.of("alice@org1.com", "org1", "lead")
BOB = Person.of("bob@org2.com", "org2", "lead")
SUBMITTER = Person.of("bob@org2.com", "org2", "org2")  # FLARE fills the submitter's role with its org


def lead_policy(expression: Any) -> Policy:
    """A policy where the lead's ``list_jobs`` right is ``expression``."""
    return Policy({"format_version": "1.0", "permissions": {"lead": {"list_jobs": expression}}})


def allowed(expression: Any, user: Person, *, site_org: str = "org1", submitter: Person = NOBODY) -> bool:
    return lead_policy(expression).permits(user, "list_jobs", site_org=site_org, submitter=submitter)


@pytest.mark.parametrize(
    ("expression", "alice", "bob"),
    [
        ("any", True, True),
        ("all", True, True),
        ("none", False, False),
        ("no", False, False),
        ("o:org1", True, False),
        ("org:org2", False, True),
        ("n:alice@org1.com", True, False),
        ("name:bob@org2.com", False, True),
        ("o:site", True, False),  # the site doing the check is of org1
        ("n:site", False, False),  # "site" is special only for org targets: here a user named "site"
        ("o:submitter", False, True),
        ("n:submitter", False, True),
        ("not any", False, False),
        ("not none", True, True),  # only a block condition that never matches: allowed
        ("not o:org2", True, False),
        ("not name:alice@org1.com", False, True),
        ("not o:site", False, True),
        (["o:org1", "o:org2"], True, True),  # any allowed condition
        (["any", "not o:org2"], True, False),  # a block condition wins over an allowed one
        (["not o:org1", "not n:bob@org2.com"], False, False),  # only block conditions: both blocked
        (["not o:org1", "n:alice@org1.com"], False, False),
        (["none", "not none"], False, False),  # an allowed list that never matches denies
        ("  NOT   O:Org2 ", True, False),  # normalized: case and whitespace
        ("o: ORG1 ", True, False),
    ],
)
def test_condition_expressions(expression: Any, alice: bool, bob: bool) -> None:
    assert allowed(expression, ALICE, submitter=SUBMITTER) is alice
    assert allowed(expression, BOB, submitter=SUBMITTER) is bob


def test_org_site_is_the_org_of_the_site_doing_the_check() -> None:
    assert allowed("o:site", BOB, site_org="ORG2")  # normalized too
    assert not allowed("o:site", ALICE, site_org="org2")


def test_submitter_targets_compare_with_the_submitter_and_fail_without_one() -> None:
    assert allowed("n:submitter", ALICE, submitter=Person.of("Alice@ORG1.com", "x", "x"))
    assert not allowed("n:submitter", ALICE)  # no submitter: empty name
    assert not allowed("o:submitter", ALICE)


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("o:org1:x", 'bad condition expression "o:org1:x"'),
        ("org1", 'bad condition expression "org1"'),
        ("not", 'bad condition expression "not"'),
        ("not not any", 'bad condition expression "not not any"'),  # three words: no "not" prefix
        ("r:lead", 'bad condition expression "r:lead": invalid type "r"'),
        ("Role:lead", 'bad condition expression "Role:lead": invalid type "role"'),
        (["any", "x:y"], 'bad condition expression "x:y": invalid type "x"'),
        ([], "bad condition expression - no conditions specified"),
        (7, "bad condition expression type - expect str or list but got <class 'int'>"),
        ({"any": 1}, "bad condition expression type - expect str or list but got <class 'dict'>"),
    ],
)
def test_bad_expressions_are_refused_with_flares_text(expression: Any, error: str) -> None:
    with pytest.raises(PolicyError) as caught:
        lead_policy(expression)
    assert str(caught.value) == error


def test_an_expression_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"^Expression must be a str but got <class 'int'>$"):
        lead_policy(["any", 1])


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({}, "policy definition must be a non-empty dict"),
        ({"permissions": {"lead": "any"}}, "missing or invalid policy format_version: must be 1.0"),
        (
            {"format_version": "2.0", "permissions": {"lead": "any"}},
            "missing or invalid policy format_version: must be 1.0",
        ),
        ({"format_version": "1.0"}, "missing permissions"),
        ({"format_version": "1.0", "permissions": {}}, "missing permissions"),
        (
            {"format_version": "1.0", "permissions": {"lead": 3}},
            "bad right config: expect a dict but got <class 'int'>",
        ),
    ],
)
def test_bad_documents_are_refused(document: dict, error: str) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy(document)
    assert str(caught.value) == error


def test_a_string_or_list_for_a_role_applies_to_every_right() -> None:
    policy = Policy({"format_version": "1.0", "permissions": {"lead": ["o:org1"], "member": "none"}})
    for right in ("list_jobs", "shutdown", "submit_job", "anything_at_all"):
        assert policy.permits(ALICE, right, site_org="org1")
        assert not policy.permits(BOB, right, site_org="org1")
        assert not policy.permits(Person.of("m", "org1", "member"), right, site_org="org1")


def test_explicit_rights_override_their_category_whatever_the_order() -> None:
    permissions = {"lead": {"list_jobs": "none", "view": "any"}}  # the right is listed before its category
    policy = Policy({"format_version": "1.0", "permissions": permissions})
    assert not policy.permits(ALICE, "list_jobs", site_org="org1")
    assert policy.permits(ALICE, "get_job_meta", site_org="org1")  # the rest of "view"
    assert not policy.permits(ALICE, "shutdown", site_org="org1")  # not mentioned: denied


def test_role_and_right_names_are_normalized() -> None:
    policy = Policy({"format_version": "1.0", "permissions": {" Lead ": {" List_Jobs ": "any", "VIEW": "none"}}})
    assert policy.permits(ALICE, "list_jobs", site_org="org1")
    assert not policy.permits(ALICE, "check_status", site_org="org1")


def test_unknown_roles_are_denied_and_super_is_always_allowed() -> None:
    policy = Policy(DEFAULT_POLICY)
    assert not policy.permits(Person.of("x", "org1", "guest"), "list_jobs", site_org="org1")
    assert policy.permits(Person.of("x", "org1", "super"), "anything_at_all", site_org="org9")


@pytest.mark.parametrize(("field", "person"), [("User name", (None, "o", "r")), ("User org", ("n", None, "r"))])
def test_a_person_with_a_missing_field_is_flares_type_error(field: str, person: tuple) -> None:
    with pytest.raises(TypeError, match=rf"^{field} must be a str but got <class 'NoneType'>$"):
        Person.of(*person)


def test_the_denial_names_the_normalized_user_and_the_right() -> None:
    assert denial(Person.of("Bob@Org2.com", "org2", "lead"), "shutdown") == (
        "user 'bob@org2.com' is not authorized for 'shutdown'"
    )
