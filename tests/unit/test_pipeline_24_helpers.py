"""Pieces of the fake's pipeline no selected test pinned down (mutation testing, docs/testing.md): ``is_uuid4``
(FLARE 2.4+'s ``is_valid_job_id``: a UUID4 as ``str(uuid4())`` writes it, not any text ``UUID()`` would
coerce), ``Reply.update_meta`` (extra meta keys beside ``status``), the target refusal's status by series, and
``Dispatcher.handle_text`` handing the TLS peer on."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Optional, cast

import pytest

from fakeserver import FakeFlareServer
from fakeserver.model.jobs import JobRecord
from fakeserver.pipeline.arguments import JOB, TARGETS, client_targets, is_uuid4, target_refusal_status
from fakeserver.pipeline.dispatch import Dispatcher
from fakeserver.pipeline.registry import CommandRegistry, CommandSpec
from fakeserver.pipeline.reply import Reply
from fakeserver.pipeline.request import PeerIdentity, Request
from fakeserver.protocol import messages as msg
from fakeserver.protocol import messages_24 as msg24
from fakeserver.protocol.refusals import Refusal
from fakeserver.protocol.versions import FlareVersion
from flare_api.wire import Document

from .test_command_pipeline import Harness

UUID4 = str(uuid.UUID(int=0x1234_5678_9ABC_4DEF_8123_4567_89AB_CDEF))


@pytest.mark.parametrize(
    ("job_id", "valid"),
    [
        (UUID4, True),
        (UUID4.replace("-", ""), True),  # uuid.UUID reads it back to the same hex
        (UUID4.upper(), False),
        (str(uuid.UUID(int=0x1234_5678_9ABC_1DEF_8123_4567_89AB_CDEF)), False),  # a version-1 id
        (str(uuid.UUID(int=0x1234_5678_9ABC_5DEF_8123_4567_89AB_CDEF)), False),  # a version-5 id
        ("{" + UUID4 + "}", False),
        (f"urn:uuid:{UUID4}", False),
        ("not-a-job-id", False),
        ("", False),
    ],
)
def test_is_uuid4_accepts_only_a_uuid4_as_written(job_id: str, valid: bool) -> None:
    assert is_uuid4(job_id) is valid


def test_update_meta_adds_keys_beside_the_status() -> None:
    reply = Reply()
    reply.meta["status"] = "ok"
    assert reply.update_meta({"client_status": {"site-1": "ok"}}) is reply
    assert reply.meta == {"status": "ok", "client_status": {"site-1": "ok"}}
    assert reply.document().meta == {"status": "ok", "client_status": {"site-1": "ok"}}


@pytest.mark.parametrize(
    ("version", "status"),
    [(FlareVersion.V2_3, "syntax_error"), (FlareVersion.V2_4, "invalid_target"), (FlareVersion.V2_6, "invalid_target")],
)
def test_a_target_refusal_says_invalid_target_from_24_on(version: FlareVersion, status: str) -> None:
    request = cast(Request, SimpleNamespace(version=version))
    assert target_refusal_status(request, "syntax_error") == status


@pytest.mark.fake_flare_only
def test_handle_text_passes_the_tls_peer_to_the_command(flare: FakeFlareServer) -> None:
    harness = Harness(flare)
    seen: list[Optional[PeerIdentity]] = []

    def handle(request: Request, reply: Reply) -> None:
        seen.append(request.peer)
        reply.string("ran")

    harness.registry.register(CommandSpec("t", "who", "d", "u", handle))
    token = harness.token("lead@nvidia.com", "nvidia", "lead")
    peer = PeerIdentity("lead@nvidia.com", "nvidia", "lead")
    reply = harness.dispatcher.handle_text(Document.request("who", token).to_json(), peer)
    assert [item.text for item in reply.items] == ["ran"]
    assert seen == [peer]


@pytest.mark.fake_flare_only
@pytest.mark.parametrize(("version", "status"), [(FlareVersion.V2_3, "error"), (FlareVersion.V2_4, "invalid_target")])
def test_target_refusals_carry_the_series_status(flare: FakeFlareServer, version: FlareVersion, status: str) -> None:
    harness = Harness(flare)
    harness.registry = CommandRegistry(version)
    harness.dispatcher = Dispatcher(harness.registry, harness.state)

    def handle(request: Request, reply: Reply, targets: object) -> None:
        reply.string("ran")

    harness.registry.register(CommandSpec("t", "anywhere", "d", "u", handle, checks=(TARGETS,)))
    harness.registry.register(CommandSpec("t", "clients", "d", "u", handle, checks=(client_targets(1),)))
    token = harness.token("lead@nvidia.com", "nvidia", "lead")
    refused = harness.send("anywhere nowhere", token)
    assert refused.meta["status"] == status
    assert refused.meta["info"] == msg.UNKNOWN_TARGET_TYPE.format(target="nowhere")
    unknown_site = harness.send("clients site-99", token)
    assert unknown_site.meta["status"] == status


@pytest.mark.fake_flare_only
@pytest.mark.parametrize("version", [FlareVersion.V2_3, FlareVersion.V2_4, FlareVersion.V2_6])
def test_a_job_id_that_is_not_a_uuid4_is_refused_from_24_on(flare: FakeFlareServer, version: FlareVersion) -> None:
    harness = Harness(flare)
    harness.registry = CommandRegistry(version)
    harness.dispatcher = Dispatcher(harness.registry, harness.state)
    loaded: list[str] = []

    def handle(request: Request, reply: Reply, job: JobRecord) -> None:
        loaded.append(job.job_id)

    harness.registry.register(CommandSpec("t", "meta", "d", "u", handle, checks=(JOB,)))
    token = harness.token("lead@nvidia.com", "nvidia", "lead")
    record = harness.job()
    assert harness.send(f"meta {record.job_id.upper()}", token).meta.get("status", "ok") == "ok"
    assert loaded == [record.job_id]
    refused = harness.send("meta NOT-A-UUID", token)
    if version is FlareVersion.V2_3:
        text = msg.JOB_DOES_NOT_EXIST.format(job_id="not-a-uuid")
    else:
        text = msg24.INVALID_JOB_ID.format(job_id="not-a-uuid")
    assert [item.text for item in refused.items] == [text]
    assert refused.meta == {"status": "invalid_job_id", "info": "not-a-uuid"}


def test_a_refusal_sent_as_a_string_carries_meta_only_when_asked() -> None:
    """2.4+ ``Cannot find job`` is a plain string item with meta; cellnet's usage line has none."""
    with_meta = Reply().refuse(Refusal("Cannot find job j9", "invalid_job_id", "j9", as_string=True, string_meta=True))
    assert [item.to_json() for item in with_meta.items] == [{"type": "string", "data": "Cannot find job j9"}]
    assert with_meta.meta == {"status": "invalid_job_id", "info": "j9"}
    plain = Reply().refuse(Refusal("Usage: cells", as_string=True, extra=("more",)))
    assert [item.to_json() for item in plain.items] == [
        {"type": "string", "data": "Usage: cells"},
        {"type": "string", "data": "more"},
    ]
    assert plain.meta == {}


def test_a_named_tables_row_meta_goes_to_its_meta_list_only_when_given() -> None:
    reply = Reply()
    table = reply.table(["name", "status"], name="client_status")
    table.add_row(["site-1", "ok"])
    table.add_row(["site-2", "ok"], {"client": "site-2"})
    assert reply.meta == {"client_status": [{"client": "site-2"}]}
    unnamed = Reply()
    unnamed.table(["name"]).add_row(["site-1"], {"client": "site-1"})
    assert unnamed.meta == {}
