"""The docs' authorization cells and the server-targeted condition, exactly (kills the mutants of
``fakeserver.pipeline.authorization`` that only ``python -m fakeserver.docs`` reached)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from fakeserver.pipeline import authorization as authz
from fakeserver.pipeline.arguments import Parsed


def _targets(includes_server: bool) -> Parsed:
    return cast(Parsed, {"targets": SimpleNamespace(includes_server=includes_server)})


def test_describe_a_right_with_its_category_and_submitter() -> None:
    abort_job = authz.Right("abort_job", job_submitter=True)
    assert abort_job.describe() == "`abort_job` (category `manage_job`; job submitter)"
    assert authz.Right("abort_task").describe() == "`abort_task` (category `manage_job`)"
    assert authz.Right("clone_job", job_submitter=True).describe() == "`clone_job` (job submitter)"
    assert authz.Right("no_such_right").describe() == "`no_such_right`"


def test_describe_a_server_operation_and_a_role() -> None:
    right = authz.server_operation("check_status")
    assert right == authz.Right("check_status", job_submitter=False, only=authz.SERVER_TARGETED)
    assert right.describe() == "`check_status` (category `view`) if the server is targeted"
    assert authz.describe(right) == right.describe()
    assert authz.describe(None) == "none"
    assert authz.describe(authz.PROJECT_ADMIN) == "role `project_admin`"
    assert authz.PROJECT_ADMIN.refusal == "Not authorized as project_admin."


def test_server_targeted_holds_only_when_the_server_is_a_target() -> None:
    assert authz.SERVER_TARGETED.describe == "if the server is targeted"
    assert authz.SERVER_TARGETED.holds(_targets(True)) is True
    assert authz.SERVER_TARGETED.holds(_targets(False)) is False
    truthy: Any = SimpleNamespace(includes_server=["server"])
    assert authz.SERVER_TARGETED.holds(cast(Parsed, {"targets": truthy})) is True
