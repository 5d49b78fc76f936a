"""No sequence of requests, from any user, hostile uploads and metas included, breaks a later legitimate one.

In-process (the respond path TLS uses, without sockets) for volume; each example is a bounded number of
steps (requests and virtual-clock ticks), never a time budget.
"""

from __future__ import annotations

import base64
import zipfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeserver import FakeFlareServer
from flare_api import VirtualClock
from flare_api.wire import Document, encode_stream
from tests.helpers import ADMIN, examples
from tests.integration.test_robustness import _JOB, GOOD_META, _zip_b64, job_zip

pytestmark = pytest.mark.fake_flare_only

USERS = ["admin@nvidia.com", "lead@nvidia.com", "lead@other.org", "member@nvidia.com"]
#: Scheduler poison, as in test_robustness.py: FLARE keeps these values; the fake must keep serving.
HOSTILE_METAS: list[dict[str, Any]] = [
    {"schedule_count": "x"},
    {"schedule_count": -3},
    {"schedule_count": 1.5},
    {"schedule_history": {"a": 1}},
    {"schedule_count": 2, "last_schedule_time": "yesterday"},
    {"mandatory_clients": 5},
    {"deploy_map": "nope"},
    {"min_clients": -1},
    {"resource_spec": {"site-1": "x"}},
]
HOSTILE_ZIPS = [
    _zip_b64([*_JOB, ("j/app/custom/zeros.bin", bytes(2 * 1024 * 1024))], zipfile.ZIP_DEFLATED),
    _zip_b64([*_JOB, ("j/app/custom/../../x", b"x")]),
    _zip_b64([*_JOB, ("j/app/custom", b"x"), ("j/app/custom/x.py", b"y")]),
    _zip_b64([("j/meta.json", b"[1, 2")]),
    base64.b64encode(b"PK\x03\x04 not a zip").decode(),
    "!!!not base64!!!",
]
FIXED = [
    "list_jobs",
    "list_jobs -d -a",
    "check_status server",
    "check_status client",
    "cells",
    "stress 1000000000",
    "stress 5000 0",
    "stress 3 -1",
    "speed server site-1 1000000000 1000000000",
    "ls server " + "-l " * 2000,
    "grep '\\(a*\\)*\\1b' server/log.txt",
    "cat server/../../../etc/passwd",
    "list_jobs \ud800",
    "sys_info server",
    "report_resources all",
    '"',
    "",
]

lines = st.one_of(
    st.sampled_from(FIXED),
    st.builds(lambda meta: f"submit_job j {job_zip({**GOOD_META, **meta})}", st.sampled_from(HOSTILE_METAS)),
    st.builds(lambda payload: f"submit_job j {payload}", st.sampled_from(HOSTILE_ZIPS)),
    st.builds(
        lambda verb, index: f"{verb} {index}",
        st.sampled_from(["abort_job", "delete_job", "clone_job", "get_job_meta", "download_job", "list_jobs"]),
        st.sampled_from(["", "x", "../..", "*", "-1"]),
    ),
    st.text(max_size=40),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("request"), st.sampled_from(USERS), lines, st.booleans()),
        st.tuples(st.just("tick"), st.integers(min_value=1, max_value=120)),
        st.tuples(st.just("bytes"), st.binary(max_size=200)),
    ),
    min_size=1,
    max_size=8,
)


def _token(server: FakeFlareServer, user: str) -> str:
    reply = server.in_process_transport(user).request(f"_cert_login {user}")
    assert reply is not None and reply.items[0].data == "OK"
    return str(reply.items[1].data)


def _legitimate_requests_succeed(server: FakeFlareServer) -> None:
    admin = server.in_process_transport(ADMIN)
    token = _token(server, ADMIN)
    for line in ("list_jobs", "check_status server"):
        reply = admin.request(line, token)
        assert reply is not None and reply.meta.get("status") == "ok", (line, reply)
    submitted = admin.request(f"submit_job j {job_zip(GOOD_META)}", token)
    assert submitted is not None and submitted.meta.get("status") == "ok", submitted
    job_id = str(submitted.meta["job_id"])
    server.jobs.run_to_completion(job_id)
    meta = admin.request(f"get_job_meta {job_id}", token)
    assert meta is not None and meta.meta["job_meta"]["status"].startswith("FINISHED"), meta


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_no_sequence_breaks_a_later_legitimate_request(shared_server: FakeFlareServer, sequence: list) -> None:
    server = shared_server
    server.reset()
    clock = server.clock
    assert isinstance(clock, VirtualClock)
    tokens: dict[str, str] = {}
    for step in sequence:
        if step[0] == "tick":
            clock.advance(step[1])
        elif step[0] == "bytes":
            server.in_process_transport(ADMIN).exchange(step[1])
        else:
            _, user, line, logged_in = step
            if logged_in and user not in tokens:
                tokens[user] = _token(server, user)
            request = encode_stream([Document.request(line, tokens.get(user) if logged_in else None).to_json()])
            server.in_process_transport(user).exchange(request)
    _legitimate_requests_succeed(server)
    assert server.errors == []
