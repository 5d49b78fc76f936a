"""The request pipeline on the wire: protocol validation, lookup, the command table, check_status."""

from __future__ import annotations

import socket
import ssl

import pytest

from fakeserver import FakeFlareServer
from fakeserver.pipeline.registry import CommandRegistry, CommandSpec
from flare_api import InternalError, Session
from flare_api.command_table import DOWNLOAD_FOLDER, UPLOAD_FOLDER, parse_command_table
from flare_api.wire import StreamAccumulator, encode_stream, split_segments
from tests.helpers import ADMIN, login, raw, wire

pytestmark = pytest.mark.fake_flare_only


def _send_raw(server: FakeFlareServer, payload: bytes, user: str = ADMIN) -> list[str]:
    """Send raw bytes over TLS and return the reply's documents (as text)."""
    context = server.provisioned.client_ssl_context(user)
    with socket.create_connection(server.address, timeout=5) as plain, context.wrap_socket(plain) as sock:
        sock.settimeout(5)
        sock.sendall(payload)
        acc = StreamAccumulator()
        while not acc.done:
            chunk = sock.recv(65536)
            if not chunk:
                break
            acc.feed(chunk)
    assert acc.done, "server closed without \\x04"
    return split_segments(acc.text())


PROTOCOL_VIOLATION = (
    '"data": [{"type": "error", "data": "protocol violation"}], '
    '"meta": {"status": "error", "info": "protocol violation"}}'
)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json\x03\x04",
        b'{"data": "x"}\x03\x04',
        b'{"meta": {}}\x03\x04',
        b'{"data": [{"type": "token", "data": "t"}], "meta": {}}\x03\x04',  # no command item
        b'{"data": [{"type": "command", "data": "_commands"}]}\x03{"data": []}\x03\x04',  # two documents
        b'{"data": [{"type": "bogus", "data": "x"}]}\x03\x04',
        b"[]\x04",
    ],
)
def test_protocol_violation(flare: FakeFlareServer, payload: bytes) -> None:
    (doc,) = _send_raw(flare, payload)
    assert doc.endswith(PROTOCOL_VIOLATION)


def test_request_without_line_end_is_accepted(flare: FakeFlareServer) -> None:
    (doc,) = _send_raw(flare, b'{"data": [{"type": "command", "data": "_cert_login admin@nvidia.com"}]}\x04')
    assert '"data": "OK"' in doc


def test_unknown_command_comes_before_the_session_check(flare: FakeFlareServer) -> None:
    reply = raw(flare, "foo_bar")
    assert wire(reply) == [{"type": "error", "data": 'Unknown command "foo_bar"'}]
    assert reply.meta == {"status": "error", "info": 'Unknown command "foo_bar"'}
    assert wire(raw(flare, " check_status server")) == [{"type": "error", "data": 'Unknown command ""'}]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('check_status "server', "Exception Occurred: ValueError: No closing quotation"),
        ('"" server', 'Unknown command ""'),
    ],
)
def test_split_crashes_are_reported_like_flare(flare: FakeFlareServer, line: str, error: str) -> None:
    assert wire(raw(flare, line)) == [{"type": "error", "data": error}]
    assert flare.errors == []


def test_disabled_commands_are_unknown(flare: FakeFlareServer) -> None:
    token = login(flare)
    assert wire(raw(flare, "list_sessions", token)) == [{"type": "error", "data": 'Unknown command "list_sessions"'}]


def test_commands_table_shape(flare: FakeFlareServer) -> None:
    reply = raw(flare, "_commands", login(flare))
    assert reply.meta == {}
    (table,) = reply.items
    rows = table.rows
    assert rows[0] == ["SCOPE", "COMMAND", "DESCRIPTION", "USAGE", "CONFIRM", "CLIENTCMD", "VISIBLE"]
    assert all(len(row) == 7 and row[6] in ("True", "False") for row in rows[1:])
    assert rows[1:] == sorted(rows[1:], key=lambda r: (r[0], r[1]))
    assert not any(row[1].startswith("_") for row in rows[1:])
    check_status = next(r for r in rows if r[1] == "check_status")
    assert check_status == [
        "training",
        "check_status",
        "check status of the FL server/client",
        "check_status server|client",
        "none",
        None,
        "True",
    ]


def test_commands_table_is_parsed_by_our_client(flare_session: Session, flare: FakeFlareServer) -> None:
    table = flare_session.commands
    expected = [row for row in flare._registry.commands_table()[1:]]
    assert [[e.scope, e.name] for e in table.entries] == [[r[0], r[1]] for r in expected]
    assert table.find("training.check_status") is table.find("check_status")
    assert "no_such" not in table


def test_command_details(flare: FakeFlareServer) -> None:
    token = login(flare)
    assert wire(raw(flare, "_commands check_status", token)) == [
        {"type": "string", "data": "Command: training.check_status"},
        {"type": "string", "data": "Description: check status of the FL server/client"},
        {"type": "string", "data": "Usage: check_status server|client\n"},
    ]
    assert wire(raw(flare, "_commands nope", token)) == [{"type": "error", "data": "undefined command nope\n"}]


def test_client_refuses_commands_the_server_did_not_list(flare_session: Session) -> None:
    with pytest.raises(InternalError, match="protocol error: ERROR_SYNTAX: Command nope not found"):
        flare_session._do_command("nope")


def test_parse_command_table_follows_flares_rules() -> None:
    from flare_api.wire import Document, Item

    header = ["SCOPE", "COMMAND", "DESCRIPTION", "USAGE", "CONFIRM", "CLIENTCMD", "VISIBLE"]
    ok = Document([Item.table([header, ["job_mgmt", "submit_job", "d", "u", "none", UPLOAD_FOLDER, "True"]])])
    table = parse_command_table(ok)
    assert table is not None and table.find("submit_job").client_cmd == UPLOAD_FOLDER
    short = Document([Item.table([header, ["a", "b", "c", "d"]])])
    assert parse_command_table(short) is None
    not_str = Document([Item.table([header, ["job_mgmt", "download_job", "d", "u", "none", DOWNLOAD_FOLDER, True]])])
    assert parse_command_table(not_str) is None
    assert parse_command_table(Document([Item.string("x")])) is None
    five = Document([Item.table([header, ["a", "b", "c", "d", "none"]])])
    assert parse_command_table(five).find("b").visible is True


def test_registry_rules() -> None:
    registry = CommandRegistry()

    def handler(request, reply):
        return None

    registry.register(CommandSpec("a", "x", "d", "u", handler))
    registry.register(CommandSpec("b", "x", "d", "u", handler))
    assert [s.full_name for s in registry.lookup("x")] == ["a.x", "b.x"]
    assert [s.full_name for s in registry.lookup("b.x")] == ["b.x"]
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(CommandSpec("a", "x", "d", "u", handler))
    with pytest.raises(ValueError, match="confirm must be"):
        registry.register(CommandSpec("c", "y", "d", "u", handler, confirm="maybe"))


def test_ambiguous_bare_name(flare: FakeFlareServer) -> None:
    spec = CommandSpec("other", "check_status", "d", "u", lambda request, reply: None)
    flare._registry.register(spec)
    try:
        assert wire(raw(flare, "check_status server")) == [
            {"type": "error", "data": 'Command "check_status" exists in multiple scopes. Please use full command name'}
        ]
        assert raw(flare, "training.check_status server", login(flare)).meta["status"] == "ok"
    finally:
        flare._registry._specs.pop("other.check_status")


def test_check_status_server_reply(flare: FakeFlareServer, flare_clock) -> None:
    token = login(flare)
    flare_clock.advance(25)
    reply = raw(flare, "check_status server", token)
    sites = [flare.sites.get(name) for name in flare.sites.connected()]
    assert [i.type.value for i in reply.items] == ["string", "table", "string", "table"]
    assert reply.items[0].data == "Engine status: stopped"
    assert reply.items[1].rows == [["JOB_ID", "APP NAME"]]
    assert reply.items[2].data == "Registered clients: 2 "
    assert reply.items[3].rows[0] == ["CLIENT", "TOKEN", "LAST CONNECT TIME"]
    assert [r[:2] for r in reply.items[3].rows[1:]] == [[s.name, s.token] for s in sites]
    start = flare.start_time
    assert list(reply.meta) == ["status", "info", "server_status", "server_start_time", "jobs", "clients"]
    assert reply.meta["server_start_time"] == start
    assert reply.meta["jobs"] == []
    assert reply.meta["clients"] == [
        {"client_name": "site-1", "client_last_conn_time": start + 20.0},  # heartbeats every 10 s
        {"client_name": "site-2", "client_last_conn_time": start + 20.0},
    ]


def test_check_status_without_clients_has_no_clients_meta(flare: FakeFlareServer) -> None:
    flare.sites.disconnect()
    reply = raw(flare, "check_status server", login(flare))
    assert reply.items[2].data == "Registered clients: 0 "
    assert len(reply.items) == 3
    assert "clients" not in reply.meta


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ("", "missing target type (server or client)"),
        (" bogus", "unknown target type bogus"),
        (" client site-9 site-1 nope", "invalid client(s): site-9 nope"),
    ],
)
def test_check_status_target_errors(flare: FakeFlareServer, args: str, error: str) -> None:
    reply = raw(flare, "check_status" + args, login(flare))
    assert wire(reply) == [{"type": "error", "data": error}]
    assert reply.meta == {"status": "error", "info": error}


def test_check_status_client_with_no_clients(flare: FakeFlareServer) -> None:
    flare.sites.disconnect()
    assert wire(raw(flare, "check_status client", login(flare))) == [{"type": "error", "data": "no clients available"}]


def test_check_status_client_table_has_no_meta(flare: FakeFlareServer) -> None:
    reply = raw(flare, "check_status client", login(flare, "member@nvidia.com"), user="member@nvidia.com")
    assert wire(reply) == [
        {
            "type": "table",
            "rows": [
                ["CLIENT", "APP_NAME", "JOB_ID", "STATUS"],
                ["site-1", "?", "?", "No Jobs"],
                ["site-2", "?", "?", "No Jobs"],
            ],
        }
    ]
    assert reply.meta == {}


def test_admin_check_status(flare: FakeFlareServer) -> None:
    reply = raw(flare, "admin_check_status", login(flare))
    assert reply.items[0].data == "Engine status: stopped"
    lead = "lead@nvidia.com"
    reply = raw(flare, "admin_check_status", login(flare, lead), user=lead)
    assert wire(reply) == [{"type": "error", "data": "Not authorized as project_admin."}]
    assert reply.meta == {"status": "not_authorized", "info": ""}
    reply = raw(flare, "admin_check_status bogus", login(flare))
    assert wire(reply) == [
        {"type": "error", "data": "invalid target type bogus. Usage: check_status server|client ..."}
    ]
    assert reply.meta == {"status": "syntax_error", "info": "invalid target type bogus"}


def test_server_survives_garbage_and_half_open_connections(flare: FakeFlareServer) -> None:
    host, port = flare.address
    with socket.create_connection((host, port), timeout=5) as plain:
        plain.sendall(b"\x16\x03\x01garbage that is not TLS")
    with socket.create_connection((host, port), timeout=5):
        pass
    context = flare.provisioned.client_ssl_context(ADMIN)
    with socket.create_connection((host, port), timeout=5) as plain, context.wrap_socket(plain) as sock:
        sock.sendall(b'{"data": [')  # then close before \x04
    assert raw(flare, f"_cert_login {ADMIN}").items[0].data == "OK"
    assert flare.errors == []


def test_oversized_request_gets_a_clear_error(tmp_path) -> None:
    with FakeFlareServer(workspace=tmp_path, max_request_bytes=1000) as server:
        payload = encode_stream(['{"data": [{"type": "command", "data": "' + "x" * 2000 + '"}]}'])
        (doc,) = _send_raw(server, payload)
        assert "request too large: more than 1000 bytes before end of transmission" in doc
        server.raise_errors()


def test_tls_is_at_least_1_2_with_client_certificates_required(flare: FakeFlareServer) -> None:
    server_context = flare._listener._ssl_context
    assert server_context is not None
    assert server_context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert server_context.verify_mode == ssl.CERT_REQUIRED
    context = flare.provisioned.client_ssl_context(ADMIN)
    with socket.create_connection(flare.address, timeout=5) as plain, context.wrap_socket(plain) as sock:
        assert sock.version() in ("TLSv1.2", "TLSv1.3")


def test_request_that_is_not_utf8_gets_a_protocol_violation(flare: FakeFlareServer) -> None:
    (doc,) = _send_raw(flare, b'{"data": [{"type": "command", "data": "\x80"}]}\x03\x04')
    assert doc.endswith(PROTOCOL_VIOLATION)
    (doc,) = _send_raw(flare, b"\x80\x04")
    assert doc.endswith(PROTOCOL_VIOLATION)
    assert flare.errors == []
