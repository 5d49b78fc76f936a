"""Policy expressions no other test exercised (found by mutation testing): ``not`` blocks, orgs with spaces,
and the error for an expression that is not a string (reference 10.1)."""

from __future__ import annotations

import pytest

from fakeserver.model.policy import Person, Policy
from fakeserver.model.uploads import UploadCrash


def lead_policy(view: object) -> Policy:
    return Policy({"format_version": "1.0", "permissions": {"lead": {"view": view}}})


def lead(org: str) -> Person:
    return Person.of("lead@x.org", org, "lead")


def test_a_not_expression_blocks_only_its_target() -> None:
    policy = lead_policy("not o:other")
    assert not policy.permits(lead("other"), "list_jobs", site_org="nvidia")
    assert policy.permits(lead("nvidia"), "list_jobs", site_org="nvidia")


def test_an_org_with_a_space_is_one_target_not_a_block() -> None:
    policy = lead_policy("o:Nvidia  Corp")
    assert policy.permits(lead("nvidia corp"), "list_jobs", site_org="x")
    assert not policy.permits(lead("corp"), "list_jobs", site_org="x")


def test_an_expression_must_be_a_string() -> None:
    with pytest.raises(TypeError) as info:
        lead_policy([3])
    assert str(info.value) == "Expression must be a str but got <class 'int'>"


def test_upload_crash_names_the_original_exception() -> None:
    crash = UploadCrash(ValueError("bad zip"))
    assert str(crash) == "ValueError: bad zip" and isinstance(crash.original, ValueError)
