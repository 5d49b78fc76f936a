"""Policy details the other policy tests leave open: FLARE's ``TypeError`` for a role or right name that is
not a string (a policy built from a Python dict), ``none`` refusing even a user with an empty name, the
parsed document kept as given, and a job submitter read from meta without submitter fields."""

from __future__ import annotations

from typing import Any

import pytest

from fakeserver.model.policy import Person, Policy, submitter_of


def _document(permissions: dict[Any, Any]) -> dict[str, Any]:
    return {"format_version": "1.0", "permissions": permissions}


def test_a_role_name_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        Policy(_document({7: "any"}))
    assert str(caught.value) == "Role name must be a str but got <class 'int'>"


def test_a_right_name_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        Policy(_document({"lead": {"view": "any", 3: "none"}}))
    assert str(caught.value) == "Right for Category must be a str but got <class 'int'>"


@pytest.mark.parametrize("expression", ["none", "no", ["none"]])
def test_none_refuses_every_user_even_one_without_a_name(expression: Any) -> None:
    policy = Policy(_document({"lead": {"view": expression}}))
    for user in (Person("", "", "lead"), Person("lead@org1.com", "org1", "lead")):
        assert not policy.permits(user, "list_jobs", site_org="org1")
        assert not policy.permits(user, "list_jobs", site_org="")


def test_the_document_is_kept_as_given() -> None:
    document = _document({"lead": "any"})
    assert Policy(document).document is document


def test_a_submitter_without_meta_fields_is_an_empty_person() -> None:
    assert submitter_of({}) == Person("", "", "")
    assert submitter_of({"submitter_name": "A@B.com", "submitter_org": "Org1"}) == Person("a@b.com", "org1", "org1")
    assert submitter_of({"submitter_org": "org1"}) == Person("", "org1", "org1")
    assert submitter_of({"submitter_name": "a@b.com"}) == Person("a@b.com", "", "")


def test_a_site_org_that_is_not_a_string_is_a_type_error() -> None:
    policy = Policy(_document({"lead": {"view": "any"}}))
    with pytest.raises(TypeError) as info:
        policy.permits(Person("lead@org1.com", "org1", "lead"), "list_jobs", site_org=5)  # type: ignore[arg-type]
    assert str(info.value) == "Site org must be a str but got <class 'int'>"
