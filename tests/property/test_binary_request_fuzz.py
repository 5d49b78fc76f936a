"""Fuzzed binary exchanges (FLARE 2.5+ requests) against a 2.5 fake: it never dies, never records an error,
answers with one valid document or closes, and pushes that carry a zip never create a job they should not."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeserver import FakeFlareServer
from flare_api.wire import StreamAccumulator, parse_document, split_segments
from flare_api.wire.transfer import BINARY_FOOTER, BINARY_HEADER, encode_binary_exchange
from tests.helpers import ADMIN, examples, login, raw

pytestmark = pytest.mark.fake_flare_only


@pytest.fixture(scope="module")
def server25(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    with FakeFlareServer(workspace=tmp_path_factory.mktemp("fuzz25"), flare_version="2.5", intercept=False) as fake:
        yield fake


@pytest.fixture(scope="module")
def token(server25: FakeFlareServer) -> str:
    return login(server25)


def _request(line: str, token: str) -> str:
    return json.dumps({"time": "t", "data": [{"type": "command", "data": line}, {"type": "token", "data": token}]})


lines = st.sampled_from(["job_mgmt.submit_job x", "submit_job", "submit_job a b", "list_jobs", "download_job_file"])
bodies = st.binary(max_size=200) | st.sampled_from([b"", b"PK\x05\x06" + b"\x00" * 18])


@st.composite
def exchanges(draw: st.DrawFn, token: str) -> bytes:
    meta = draw(st.builds(_request, lines, st.just(token)) | st.text(max_size=60))
    data = encode_binary_exchange(meta, draw(bodies))
    mutation = draw(st.sampled_from(["none", "truncate", "crc", "marker", "sizes", "trailing"]))
    if mutation == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif mutation == "crc":
        data = data[:-1] + bytes([data[-1] ^ 0xFF])
    elif mutation == "marker":
        data = data[: -BINARY_FOOTER.size] + BINARY_FOOTER.pack(7, 0)
    elif mutation == "sizes":
        data = (
            b"\x01" + BINARY_HEADER.pack(draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**64 - 1))) + data[13:]
        )
    elif mutation == "trailing":
        data += draw(st.binary(min_size=1, max_size=20))
    return data


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_in_process_binary_requests_are_answered_or_closed(
    server25: FakeFlareServer, token: str, data: st.DataObject
) -> None:
    payload = data.draw(exchanges(token))
    response = server25._responder.respond_bytes(payload, None)
    if response.payload:
        stream = StreamAccumulator()
        assert stream.feed(response.payload)
        for segment in split_segments(stream.text()):
            parse_document(segment)
    assert server25.errors == []
    assert server25.jobs.ids() == []  # none of these bodies is a valid job


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_tls_binary_requests_are_answered_or_closed(server25: FakeFlareServer, token: str, data: st.DataObject) -> None:
    payload = data.draw(exchanges(token))
    context = server25.provisioned.client_ssl_context(ADMIN)
    received = StreamAccumulator()
    with socket.create_connection(server25.address, timeout=5) as plain, context.wrap_socket(plain) as sock:
        sock.settimeout(5)
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)  # a truncated exchange ends here: the server must not wait for ever
        while not received.done:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            received.feed(chunk)
    if received.done:
        assert len(split_segments(received.text())) <= 1
    assert server25.errors == []
    assert raw(server25, f"_cert_login {ADMIN}").items[0].data == "OK"
