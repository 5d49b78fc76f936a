"""The command mechanism itself: declared arguments parse in FLARE's order, refusals render, rights authorize.

A private registry with made-up commands runs on the fake server's state through the real Dispatcher.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Optional

import pytest

from fakeserver import FakeFlareServer
from fakeserver.model.job_script import RunStatus
from fakeserver.model.jobs import AbortOutcome, JobRecord
from fakeserver.pipeline.arguments import JOB, JOB_TARGETS, TARGETS, Param, Parsed, arg_count, refuse
from fakeserver.pipeline.authorization import SERVER_TARGETED, Right, Role
from fakeserver.pipeline.dispatch import Dispatcher
from fakeserver.pipeline.registry import CommandRegistry, CommandSpec
from fakeserver.pipeline.reply import Reply
from fakeserver.pipeline.request import Request
from fakeserver.pipeline.targets import Targets
from fakeserver.protocol import messages as msg
from fakeserver.protocol.refusals import Refusal
from flare_api.wire import Document
from tests.helpers import login, raw

pytestmark = pytest.mark.fake_flare_only


class Harness:
    """A private registry on the fake's state; records what each handler received."""

    def __init__(self, server: FakeFlareServer) -> None:
        self.state = server._state
        self.registry = CommandRegistry()
        self.dispatcher = Dispatcher(self.registry, self.state)
        self.calls: list[dict[str, Any]] = []

    def token(self, user: str, org: str, role: str) -> str:
        return self.state.sessions.create(user, org, role).token

    def send(self, line: str, token: Optional[str]) -> Document:
        return self.dispatcher.handle_text(Document.request(line, token).to_json(), None)

    def job(self, submitter: str = "lead@nvidia.com", org: str = "nvidia") -> JobRecord:
        meta = {"name": "j", "deploy_map": {"app": ["@ALL"]}, "submitter_name": submitter, "submitter_org": org}
        meta["submitter_role"] = "lead"
        content = io.BytesIO()
        with zipfile.ZipFile(content, "w") as archive:
            archive.writestr("j/meta.json", json.dumps(meta))
        return self.state.jobs.create(meta, content.getvalue())


@pytest.fixture
def harness(flare: FakeFlareServer) -> Harness:
    return Harness(flare)


def _items(reply: Document) -> list[dict]:
    return [item.to_json() for item in reply.items]


def test_job_arguments_refuse_in_flare_order_before_the_right(harness: Harness) -> None:
    def handle(request: Request, reply: Reply, job: JobRecord) -> None:
        harness.calls.append({"job": job})

    harness.registry.register(
        CommandSpec("t", "meta", "d", "u", handle, checks=(JOB, JOB_TARGETS.check_only()),
                    authorization=Right("submit_job", job_submitter=True))
    )  # fmt: skip
    member = harness.token("member@nvidia.com", "nvidia", "member")  # may not submit_job
    record = harness.job()

    missing = harness.send("meta", member)
    assert _items(missing) == [{"type": "error", "data": msg.MISSING_JOB_ID}]
    assert missing.meta == {"status": "syntax_error", "info": "missing job_id"}

    unknown = harness.send("meta NOPE", member)  # lowercased, and checked before the right
    assert unknown.meta == {"status": "invalid_job_id", "info": "nope"}

    bad_target = harness.send(f"meta {record.job_id} nowhere", member)
    assert bad_target.meta["status"] == "syntax_error"
    assert _items(bad_target) == [{"type": "error", "data": msg.UNKNOWN_TARGET_TYPE.format(target="nowhere")}]

    denied = harness.send(f"meta {record.job_id.upper()}", member)
    assert denied.meta["status"] == "not_authorized"
    assert harness.calls == []

    lead = harness.token("lead@nvidia.com", "nvidia", "lead")
    assert harness.send(f"meta {record.job_id.upper()}", lead).items == []
    assert harness.calls == [{"job": record}]


def test_a_declared_right_is_checked_with_the_policy(harness: Harness) -> None:
    def handle(request: Request, reply: Reply) -> None:
        reply.string("ran")

    harness.registry.register(CommandSpec("t", "go", "d", "u", handle, authorization=Right("submit_job")))
    denied = harness.send("go", harness.token("member@nvidia.com", "nvidia", "member"))
    text = msg.NOT_AUTHORIZED.format(user="member@nvidia.com", right="submit_job")
    assert _items(denied) == [{"type": "error", "data": text}]
    assert denied.meta == {"status": "not_authorized", "info": msg.NOT_AUTHORIZED_INFO.format(
        user="member@nvidia.com", right="submit_job")}  # fmt: skip
    allowed = harness.send("go", harness.token("lead@nvidia.com", "nvidia", "lead"))
    assert _items(allowed) == [{"type": "string", "data": "ran"}]


def test_a_conditional_right_is_skipped_when_the_condition_fails(harness: Harness) -> None:
    def handle(request: Request, reply: Reply, targets: Targets) -> None:
        reply.string(targets.type)

    harness.registry.register(
        CommandSpec(
            "t", "op", "d", "u", handle, checks=(TARGETS,), authorization=Right("operate", only=SERVER_TARGETED)
        )
    )
    member = harness.token("member@nvidia.com", "nvidia", "member")
    assert harness.send("op server", member).meta["status"] == "not_authorized"
    assert _items(harness.send("op client", member)) == [{"type": "string", "data": "client"}]
    assert _items(harness.send("op", member)) == [{"type": "error", "data": msg.MISSING_TARGET_TYPE}]


def test_a_role_gate_refuses_with_its_text_and_empty_info(harness: Harness) -> None:
    harness.registry.register(
        CommandSpec("t", "adm", "d", "u", lambda request, reply: None, authorization=Role("project_admin", "nope"))
    )
    reply = harness.send("adm", harness.token("lead@nvidia.com", "nvidia", "lead"))
    assert _items(reply) == [{"type": "error", "data": "nope"}]
    assert reply.meta == {"status": "not_authorized", "info": ""}


def test_a_refusal_renders_after_earlier_items_with_status_info_and_extra(harness: Harness) -> None:
    def handle(request: Request, reply: Reply) -> None:
        reply.string("partial")
        raise Refusal("stopped", "job_running", "the info", extra=("and more",))

    def usage(request: Request, reply: Reply) -> None:
        raise Refusal("Usage: x", as_string=True)

    harness.registry.register(CommandSpec("t", "stop", "d", "u", handle))
    harness.registry.register(CommandSpec("t", "usage", "d", "u", usage))
    token = harness.token("lead@nvidia.com", "nvidia", "lead")
    reply = harness.send("stop", token)
    assert _items(reply) == [
        {"type": "string", "data": "partial"},
        {"type": "error", "data": "stopped"},
        {"type": "string", "data": "and more"},
    ]
    assert reply.meta == {"status": "job_running", "info": "the info"}
    plain = harness.send("usage", token)
    assert _items(plain) == [{"type": "string", "data": "Usage: x"}] and plain.meta == {}


def test_handler_params_run_after_the_audit_and_in_order(harness: Harness) -> None:
    def count_first(request: Request, parsed: Parsed) -> int:
        raise AssertionError("must not run: the count check comes first")

    def handle(request: Request, reply: Reply, n: int) -> None:
        raise AssertionError("unreachable")

    harness.registry.register(
        CommandSpec("t", "cnt", "d", "u", handle, authorization=Right("submit_job"),
                    args=(arg_count(refuse("need one"), at_least=2), Param("n", count_first)))
    )  # fmt: skip
    before = len(harness.state.audit)
    reply = harness.send("cnt", harness.token("lead@nvidia.com", "nvidia", "lead"))
    assert _items(reply) == [{"type": "error", "data": "need one"}]
    assert [record.command for record in list(harness.state.audit)[before:]] == ["cnt"]


def test_the_registry_refuses_a_handler_that_does_not_match_its_declared_arguments() -> None:
    def handle(request: Request, reply: Reply, job: JobRecord) -> None:
        return None

    registry = CommandRegistry()
    with pytest.raises(ValueError, match="handler takes \\['job'\\], spec declares \\[\\]"):
        registry.register(CommandSpec("t", "x", "d", "u", handle))
    registry.register(CommandSpec("t", "y", "d", "u", handle, checks=(JOB,)))
    with pytest.raises(ValueError, match="spec declares \\[\\]"):
        registry.register(CommandSpec("t", "z", "d", "u", handle, checks=(JOB.check_only(),)))


def test_abort_returns_an_outcome_for_each_of_flares_cases(harness: Harness) -> None:
    jobs = harness.state.jobs
    before = harness.job()
    assert jobs.abort(before) is AbortOutcome.BEFORE_RUNNING
    assert before.status is RunStatus.FINISHED_ABORTED
    assert jobs.abort(before) is AbortOutcome.ALREADY_FINISHED

    running = harness.job()
    while running.status is not RunStatus.RUNNING:
        jobs.step(running.job_id)
    assert jobs.abort(running) is AbortOutcome.STOPPED

    orphan = harness.job()
    while orphan.status is not RunStatus.RUNNING:
        jobs.step(orphan.job_id)
    jobs.orphan(orphan.job_id)
    assert jobs.abort(orphan) is AbortOutcome.NOT_RUNNING
    assert orphan.status is RunStatus.RUNNING


def test_set_timeout_is_runtime_state_restored_by_reset(flare: FakeFlareServer) -> None:
    default = flare.admin_timeout
    raw(flare, f"set_timeout {int(default) + 7}", login(flare))
    assert flare.admin_timeout == default + 7
    flare._state.restart()  # white-box: what a `restart server` does to the state
    assert flare.admin_timeout == default
    raw(flare, f"set_timeout {int(default) + 7}", login(flare))
    assert flare.admin_timeout == default + 7
    flare.reset()
    assert flare.admin_timeout == default


def test_a_handler_runs_with_the_collector_paused(harness: Harness) -> None:
    """A long reply (10,000 list_jobs rows) is built without a full collection walking the job store."""
    import gc

    seen: list[bool] = []

    def handle_gc(request: Request, reply: Reply) -> None:
        seen.append(gc.isenabled())
        reply.string("ok")

    harness.registry.register(CommandSpec("t", "gc_probe", "probe", "gc_probe", handle_gc))
    was = gc.isenabled()
    gc.enable()
    try:
        harness.send("gc_probe", harness.token("a@nvidia.com", "nvidia", "project_admin"))
        assert seen == [False]
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()
