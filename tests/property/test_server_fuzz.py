"""Fuzzed frames against the server: it never dies, and always answers (one document) or closes."""

from __future__ import annotations

import json
import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeserver import FakeFlareServer
from flare_api.wire import StreamAccumulator, parse_document, split_segments
from tests.helpers import examples, raw

documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
commands = st.sampled_from(["_commands", "check_status server", "list_jobs", "get_job_meta x", "nope", '"', ""])
items = st.fixed_dictionaries(
    {"type": st.sampled_from(["command", "token", "string", "table", "bogus"]), "data": commands | documents}
)
payloads = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda body: body.encode() + b"\x03\x04", st.text(max_size=200)),
    st.builds(
        lambda its, end: ('{"data": ' + json.dumps(its) + "}").encode() + end,
        st.lists(items, max_size=3),
        st.sampled_from([b"\x03\x04", b"\x04", b"\x03", b""]),
    ),
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads)
def test_server_answers_or_closes(shared_server: FakeFlareServer, payload: bytes) -> None:
    flare_server = shared_server
    context = flare_server.provisioned.client_ssl_context("admin@nvidia.com")
    received = StreamAccumulator()
    with socket.create_connection(flare_server.address, timeout=5) as plain, context.wrap_socket(plain) as sock:
        sock.settimeout(5)
        sock.sendall(payload)
        while b"\x04" in payload and not received.done:  # without \x04 we just hang up: the server must cope
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            received.feed(chunk)
    if received.done:
        segments = split_segments(received.text())
        assert len(segments) <= 1
        for segment in segments:
            parse_document(segment)  # whatever it answered is a valid document
    else:
        assert b"\x04" not in payload, "the server closed a complete request without answering"
    assert flare_server.errors == []
    assert _still_answers(flare_server)


def _still_answers(server: FakeFlareServer) -> bool:
    return raw(server, "_cert_login admin@nvidia.com").items[0].data == "OK"
