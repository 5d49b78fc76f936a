"""Two FLARE 2.4+ helpers of the fake's pipeline no selected test reached (mutation testing, docs/testing.md):
``is_uuid4`` (FLARE 2.4+'s ``is_valid_job_id``: a UUID4 as ``str(uuid4())`` writes it, not any text ``UUID()``
would coerce) and ``Reply.update_meta`` (extra meta keys beside ``status``)."""

from __future__ import annotations

import uuid

import pytest

from fakeserver.pipeline.arguments import is_uuid4
from fakeserver.pipeline.reply import Reply

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
