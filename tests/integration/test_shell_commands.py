"""Shell commands ``pwd ls cat head tail grep`` on the server and on sites: the wire, authorization, confinement,
and our client's methods.

Reference: flare-2.3-admin-protocol.md sections 6.4, 10.2–10.3 and appendix A; nvflare 2.3
``private/fed/server/shell_cmd.py`` (server side) and ``private/fed/client/admin.py`` (a site's denial); FLARE
2.4+ ``flare_api.py`` / ``cmd_arg_utils.py`` for the client methods' argument checks.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest

from fakeserver import FakeFlareServer
from fakeserver.example_jobs import example_job
from fakeserver.model.workspaces import participant_pid, service_session_id
from fakeserver.protocol import messages as msg
from flare_api import (
    AuthorizationError,
    InternalError,
    InvalidArgumentError,
    InvalidTarget,
    Session,
    SessionClosed,
    VirtualClock,
)
from flare_api.errors import InvalidClient
from flare_api.wire import split_command_line
from tests.helpers import USERS, login, raw, wire

pytestmark = pytest.mark.fake_flare_only

SessionFactory = Callable[..., Session]
COMMANDS = ("pwd", "ls", "cat", "head", "tail", "grep")
ORGS = {"server": "nvidia", "site-1": "nvidia", "site-2": "other"}
ROLES = {
    "admin@nvidia.com": ("project_admin", "nvidia"),
    "orgadmin@nvidia.com": ("org_admin", "nvidia"),
    "lead@nvidia.com": ("lead", "nvidia"),
    "lead@other.org": ("lead", "other"),
    "member@nvidia.com": ("member", "nvidia"),
}
CAT_B = "     1\t{t}\n     2\talpha one\n     3\tbeta two\n\n\n     4\tgamma three\n     5\tsay hello world"
NOTES = "alpha one\nbeta two\n\n\ngamma three\nsay hello world\n"
WORKSPACE_LISTING = "audit.log\ndaemon_pid.fl\nlocal\nlog.txt\npid.fl\nreadme.txt\nstart.out\nstartup\ntransfer"
STARTUP_LISTING = {
    "server": "fed_server.json\nrootCA.pem\nserver.crt\nserver.key\nserver.pfx\nsignature.json\nstart.sh\nstop_fl.sh\n"
    "sub_start.sh",
    "client": "client.crt\nclient.key\nclient.pfx\nfed_client.json\nrootCA.pem\nsignature.json\nstart.sh\nstop_fl.sh\n"
    "sub_start.sh",
}
LOCAL_LISTING = "authorization.json.default\nlog.config.default\nprivacy.json.sample\nresources.json.default"


def allowed(user: str, target: str) -> bool:
    """Reference 10.3: project_admin always; org_admin and lead on a site of their own org; member never."""
    role, org = ROLES[user]
    if role == "project_admin":
        return True
    return role in ("org_admin", "lead") and org == ORGS[target]


def test_the_expected_matrix_is_reference_10_3() -> None:
    """org_admin and lead of ``nvidia`` on the server and site-1, not site-2; lead@other.org the reverse."""
    for user in ("orgadmin@nvidia.com", "lead@nvidia.com"):
        assert [allowed(user, t) for t in ORGS] == [True, True, False]
    assert [allowed("lead@other.org", t) for t in ORGS] == [False, False, True]
    assert [allowed("member@nvidia.com", t) for t in ORGS] == [False, False, False]
    assert [allowed("admin@nvidia.com", t) for t in ORGS] == [True, True, True]


def string_reply(text: str) -> list[dict[str, Any]]:
    return [{"type": "string", "data": text}]


def assert_error(reply: Any, text: str) -> None:
    assert wire(reply) == [{"type": "error", "data": text}]
    assert reply.meta == {"status": "error", "info": text}


def assert_output(reply: Any, text: str) -> None:
    assert wire(reply) == string_reply(text)
    assert reply.meta == {}


def server_denial(user: str, right: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    info = f"user '{user}' is not authorized for '{right}'"
    return [{"type": "error", "data": f"Authorization Error: {info}"}], {"status": "not_authorized", "info": info}


def site_denial(user: str, right: str) -> str:
    return f"user '{user}' is not authorized for '{right}'"


@contextmanager
def no_request_reaches(server: FakeFlareServer) -> Iterator[None]:
    """Fail if anything reaches the server inside the block."""
    requests, audited = server.stats.requests, len(server.audit)
    yield
    assert server.stats.requests == requests
    assert len(server.audit) == audited


@pytest.fixture
def token(flare: FakeFlareServer) -> str:
    return login(flare)


@pytest.fixture
def notes(flare: FakeFlareServer) -> dict[str, Path]:
    """``notes.txt`` in every workspace, each naming its target on the first line."""
    files = {}
    for target in ORGS:
        path = flare.sites.workspace(target) / "notes.txt"
        path.write_text(f"{target}\n{NOTES}")
        files[target] = path
    return files


# --- the command table (appendix A) -------------------------------------------------------------------------
OPTIONS = "options:" if sys.version_info >= (3, 10) else "optional arguments:"
APPENDIX_A = {
    "cat": (
        "show content of a file",
        'cat target [options] fileName\n where target is "server" or client name\n\npositional arguments:\n  file\n\n'
        "options:\n  -n    number all output lines\n  -b    number nonempty output lines, overrides -n\n"
        "  -s    suppress repeated empty output lines\n  -T    display TAB characters as ^I\n",
    ),
    "grep": (
        "search for PATTERN in a file.",
        'grep target [options] PATTERN fileName\n where target is "server" or client name\n\npositional arguments:\n'
        "  pattern\n  file\n\noptions:\n  -n       print line number with output lines\n"
        "  -i       ignore case distinctions\n  -b       print the byte offset with output lines\n",
    ),
    "head": (
        "print the first 10 lines of a file",
        'head target [options] fileName\n where target is "server" or client name\n\npositional arguments:\n  file\n\n'
        "options:\n  -c C  print the first C bytes of each file\n"
        "  -n N  print the first N lines instead of the first 10\n",
    ),
    "ls": (
        "list files in work dir",
        'ls target [options] [files]\n where target is "server" or client name\n\npositional arguments:\n  file\n\n'
        "options:\n  -a\n  -l    use a long listing format\n  -t    sort by modification time, newest first\n"
        "  -S    sort by file size, largest first\n  -R    list subdirectories recursively\n"
        "  -u    with -l: show access time, otherwise: sort by access time\n",
    ),
    "pwd": ("print the name of work directory", 'pwd target\nwhere target is "server" or client name\n'),
    "tail": (
        "print the last 10 lines of a file",
        'tail target [options] fileName\n where target is "server" or client name\n\npositional arguments:\n  file\n\n'
        "options:\n  -c C  output the last C bytes\n  -n N  output the last N lines\n",
    ),
}


def test_commands_table_rows_are_appendix_a(flare: FakeFlareServer, token: str) -> None:
    (table,) = raw(flare, "_commands", token).items
    rows = {row[1]: row for row in table.rows[1:] if row[0] == "sys" and row[1] in COMMANDS}
    for name, (description, usage) in APPENDIX_A.items():
        usage = usage.replace("\noptions:\n", f"\n{OPTIONS}\n")
        assert rows[name] == ["sys", name, description, usage, "none", None, "True"]


# --- success ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", list(ORGS))
def test_pwd_is_the_targets_workspace_folder(flare: FakeFlareServer, token: str, target: str) -> None:
    assert_output(raw(flare, f"pwd {target}", token), str(flare.sites.workspace(target)))


@pytest.mark.parametrize("target", list(ORGS))
def test_ls_lists_the_targets_workspace(flare: FakeFlareServer, token: str, target: str) -> None:
    assert_output(raw(flare, f"ls {target}", token), WORKSPACE_LISTING)
    startup = STARTUP_LISTING["server" if target == "server" else "client"]
    assert_output(raw(flare, f"ls {target} startup", token), startup)
    assert_output(raw(flare, f"ls {target} -a local", token), ".\n..\n" + LOCAL_LISTING)


@pytest.mark.parametrize("target", list(ORGS))
@pytest.mark.parametrize(
    ("args", "output"),
    [
        ("cat notes.txt", "{t}\n" + NOTES.rstrip("\n")),
        ("cat -s notes.txt", "{t}\nalpha one\nbeta two\n\ngamma three\nsay hello world"),
        ("cat -b notes.txt", CAT_B),
        ("head -n 2 notes.txt", "{t}\nalpha one"),
        ("head -c 3 notes.txt", "{t3}"),
        ("tail -n 1 notes.txt", "say hello world"),
        ("tail notes.txt", "{t}\n" + NOTES.rstrip("\n")),
        ("grep -n beta notes.txt", "3:beta two"),
        ("grep -i ALPHA notes.txt", "alpha one"),
        ("grep -b gamma notes.txt", "{gamma_offset}:gamma three"),
        ("grep nothing-matches notes.txt", ""),
    ],
)
def test_file_commands_read_the_targets_file(
    flare: FakeFlareServer, token: str, notes: dict[str, Path], target: str, args: str, output: str
) -> None:
    command, rest = args.split(" ", 1)
    gamma_offset = len(f"{target}\nalpha one\nbeta two\n\n\n")
    expected = output.format(t=target, t3=target[:3], gamma_offset=gamma_offset)
    assert_output(raw(flare, f"{command} {target} {rest}", token), expected)


def test_scoped_names_and_site_tokens_work(flare: FakeFlareServer, token: str, notes: dict[str, Path]) -> None:
    assert_output(raw(flare, "sys.head server -n 1 notes.txt", token), "server")
    site_token = flare.sites.get("site-2").token
    assert_output(raw(flare, f"sys.head {site_token} -n 1 notes.txt", token), "site-2")


@pytest.mark.parametrize(
    ("line", "output"),
    [
        ("cat server missing.txt", "cat: missing.txt: No such file or directory"),
        ("head site-1 -n 1 no.log", "head: cannot open 'no.log' for reading: No such file or directory"),
        ("cat site-2 startup/no.json", "cat: startup/no.json: No such file or directory"),
        ("ls server nothing", "ls: cannot access 'nothing': No such file or directory"),
    ],
)
def test_tool_errors_are_output_not_protocol_errors(flare: FakeFlareServer, token: str, line: str, output: str) -> None:
    """What the tool prints on stderr is part of ``getoutput``'s text: a string item, meta ``{}``."""
    assert_output(raw(flare, line, token), output)


# --- refusals -------------------------------------------------------------------------------------------------
TEXT_ONLY = msg.SHELL_TEXT_FILE_ONLY
VALIDATION_ERRORS = [
    ("pwd server extra", msg.SHELL_NO_EXTRA_ARGS),
    ("pwd server -l", msg.SHELL_NO_EXTRA_ARGS),
    ("ls server -z", "unrecognized arguments: -z"),
    ("ls server a b", "unrecognized arguments: b"),
    ("cat server", "the following arguments are required: file"),
    ("cat server -n", "the following arguments are required: file"),
    ("cat server a.txt b.txt", msg.SHELL_ONLY_ONE_FILE),
    ("cat server a.txt -z", "unrecognized arguments: -z"),
    ("head server -n x log.txt", "unrecognized arguments: -n x log.txt"),
    ("tail server -n", "unrecognized arguments: -n"),
    ("grep server", "the following arguments are required: pattern, file"),
    ("grep server -i pattern", "the following arguments are required: file"),
    ("cat server a$b.txt", msg.SHELL_UNSUPPORTED_FILE.format(file="a$b.txt")),
    ("ls server ~", msg.SHELL_UNSUPPORTED_FILE.format(file="~")),
    ("cat server /etc/passwd", msg.SHELL_ABSOLUTE_PATH),
    ("ls server /", msg.SHELL_ABSOLUTE_PATH),
    ("cat server ../log.txt", msg.SHELL_DOTDOT_IN_PATH),
    ("ls server startup/..", msg.SHELL_DOTDOT_IN_PATH),
    ("cat server startup", TEXT_ONLY.format(file="startup")),
    ("tail server log.txt.1", TEXT_ONLY.format(file="log.txt.1")),
    ("grep server x local/resources.json.default", TEXT_ONLY.format(file="local/resources.json.default")),
]


@pytest.mark.parametrize("target", ["server", "site-1", "site-9"])
@pytest.mark.parametrize(("line", "error"), VALIDATION_ERRORS)
def test_argument_errors_come_first_for_every_target(
    flare: FakeFlareServer, token: str, target: str, line: str, error: str
) -> None:
    """Checked while pre-authorizing, before the target is looked up (so ``site-9`` gets them too)."""
    assert_error(raw(flare, line.replace(" server", f" {target}", 1), token), error)


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_target(flare: FakeFlareServer, token: str, command: str) -> None:
    assert_error(raw(flare, command, token), msg.SHELL_MISSING_TARGET)


@pytest.mark.parametrize("line", ['ls server ""', 'cat server " "', 'grep server "" log.txt', 'pwd site-1 ""'])
def test_a_blank_argument_crashes_flares_join(flare: FakeFlareServer, token: str, line: str) -> None:
    assert_error(raw(flare, line, token), "Exception Occurred: IndexError: list index out of range")
    assert flare.errors == []


@pytest.mark.parametrize("target", ["site-9", "client", "all", "SITE-1", "Server"])
def test_unknown_client(flare: FakeFlareServer, token: str, target: str) -> None:
    assert_error(raw(flare, f"ls {target}", token), f"invalid client: {target}")


def test_unregistered_site_is_an_invalid_client(flare: FakeFlareServer, token: str) -> None:
    flare.sites.disconnect("site-2")
    assert_error(raw(flare, "pwd site-2", token), "invalid client: site-2")
    assert_output(raw(flare, "pwd site-1", token), str(flare.sites.workspace("site-1")))


def test_silent_site_times_out(flare: FakeFlareServer, token: str) -> None:
    flare.sites.silence("site-1")
    assert_error(raw(flare, "tail site-1 log.txt", token), msg.SHELL_NO_REPLY)
    assert_output(raw(flare, "ls site-2 startup", token), STARTUP_LISTING["client"])


def test_member_gets_argument_errors_before_any_authorization(flare: FakeFlareServer) -> None:
    member = "member@nvidia.com"
    member_token = login(flare, member)
    assert_error(raw(flare, "cat server x.bin", member_token, member), TEXT_ONLY.format(file="x.bin"))
    assert_error(raw(flare, "ls site-9", member_token, member), "invalid client: site-9")
    flare.sites.silence("site-1")
    assert_error(raw(flare, "ls site-1", member_token, member), msg.SHELL_NO_REPLY)


def test_non_utf8_output_crashes_on_the_server_and_is_reported_by_a_site(flare: FakeFlareServer, token: str) -> None:
    for target in ("server", "site-1"):
        (flare.sites.workspace(target) / "latin1.txt").write_bytes(b"caf\xe9\n")
    crash = raw(flare, "cat server latin1.txt", token)
    text = "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position 3: invalid continuation byte"
    assert_error(crash, f"Exception Occurred: {text}")
    assert_output(raw(flare, "cat site-1 latin1.txt", token), f"exception_occurred: {text}")
    assert flare.errors == []


# --- authorization (reference 10.2–10.3) ------------------------------------------------------------------------
@pytest.mark.parametrize("target", list(ORGS))
@pytest.mark.parametrize("user", USERS)
def test_default_policy_on_the_wire(flare: FakeFlareServer, user: str, target: str) -> None:
    user_token = login(flare, user)
    reply = raw(flare, f"ls {target}", user_token, user)
    if allowed(user, target):
        assert_output(reply, WORKSPACE_LISTING)
    elif target == "server":
        items, meta = server_denial(user, "ls")
        assert (wire(reply), reply.meta) == (items, meta)
    else:
        assert_output(reply, site_denial(user, "ls"))


@pytest.mark.parametrize("target", list(ORGS))
@pytest.mark.parametrize("user", USERS)
def test_default_policy_through_our_client(
    flare: FakeFlareServer, flare_session_factory: SessionFactory, user: str, target: str
) -> None:
    session = flare_session_factory(user)
    if allowed(user, target):
        assert session.ls_target(target) == WORKSPACE_LISTING
        return
    with pytest.raises(AuthorizationError) as caught:
        session.ls_target(target)
    assert f"user '{user}' is not authorized for 'ls'" in str(caught.value)


@pytest.mark.parametrize("command", COMMANDS)
def test_the_right_is_the_command_name(flare: FakeFlareServer, notes: dict[str, Path], command: str) -> None:
    user = "lead@other.org"
    user_token = login(flare, user)
    tail = {"pwd": "", "ls": "", "grep": " -n beta notes.txt"}.get(command, " notes.txt")
    items, meta = server_denial(user, command)
    reply = raw(flare, f"{command} server{tail}", user_token, user)
    assert (wire(reply), reply.meta) == (items, meta)
    assert_output(raw(flare, f"{command} site-1{tail}", user_token, user), site_denial(user, command))
    allowed_reply = raw(flare, f"{command} site-2{tail}", user_token, user)
    assert allowed_reply.meta == {} and len(allowed_reply.items) == 1
    assert "not authorized" not in allowed_reply.items[0].text


def test_denied_on_server_is_not_audited_but_a_site_denial_is(flare: FakeFlareServer) -> None:
    """The server authorizes only target ``server``; a client target passes the server and is audited."""
    user = "member@nvidia.com"
    user_token = login(flare, user)
    before = len(flare.audit)
    raw(flare, "pwd server", user_token, user)
    assert len(flare.audit) == before
    raw(flare, "pwd site-1", user_token, user)
    assert [a.command for a in list(flare.audit)[before:]] == ["pwd site-1"]


# --- confinement --------------------------------------------------------------------------------------------------
@pytest.fixture
def escape_routes(flare: FakeFlareServer, tmp_path: Path) -> str:
    """A secret outside the federation, and symlinks to it (and to other folders) inside server and site-1."""
    secret = "SECRET-" + uuid.uuid4().hex
    (tmp_path / "secret.txt").write_text(secret + "\n")
    runtime = flare.sites.workspace("server").parent
    (runtime / "between.txt").write_text(secret + "\n")
    (flare.sites.workspace("site-2") / "other.txt").write_text(secret + "\n")
    for target in ("server", "site-1"):
        folder = flare.sites.workspace(target)
        (folder / "leak.txt").symlink_to(tmp_path / "secret.txt")
        (folder / "outside").symlink_to(tmp_path)
        (folder / "up").symlink_to("..")
        (folder / "sibling").symlink_to("../site-2")
    return secret


ESCAPES = [
    "cat {t} leak.txt",
    "cat {t} outside/secret.txt",
    "cat {t} up/between.txt",
    "head {t} sibling/other.txt",
    "tail {t} -c 100 up/site-2/other.txt",
    "grep {t} -n SECRET leak.txt",
    "grep {t} SECRET up/between.txt",
    "ls {t} -laR",
    "ls {t} -l outside",
    "ls {t} -R up",
    "ls {t} sibling",
    "cat {t} ../between.txt",
    "cat {t} /etc/passwd",
    "tail {t} ./../site-2/other.txt",
]


@pytest.mark.parametrize("target", ["server", "site-1"])
@pytest.mark.parametrize("line", ESCAPES)
def test_files_outside_the_workspace_are_never_read(
    flare: FakeFlareServer, token: str, escape_routes: str, target: str, line: str
) -> None:
    line = line.format(t=target)
    text = raw(flare, line, token).to_json()
    assert escape_routes not in text
    for name in ("secret.txt", "between.txt", "other.txt", "site-2"):  # nothing outside is even listed
        assert name in line or name not in text


def test_an_escaping_symlink_reads_as_missing(flare: FakeFlareServer, token: str, escape_routes: str) -> None:
    assert_output(raw(flare, "cat server leak.txt", token), "cat: leak.txt: No such file or directory")
    assert_output(raw(flare, "ls site-1", token), WORKSPACE_LISTING)
    assert_output(raw(flare, "ls site-1 up", token), "ls: cannot access 'up': No such file or directory")


# --- a running job's log ------------------------------------------------------------------------------------------
def test_tail_and_grep_show_what_a_running_job_logged(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    job_id = flare_session.submit_job(str(example_job()))
    flare_clock.advance(15)
    assert flare_session.get_job_meta(job_id)["status"] == "RUNNING"
    log = (flare.sites.workspace("site-1") / "log.txt").read_text()
    tail = flare_session.tail_target_log("site-1")
    assert tail == "\n".join(log.splitlines()[-10:])
    token, ssid = flare.sites.get("site-1").token, service_session_id(flare.project)
    expected = [
        "site-1: created backbone external connector to grpc://localhost:8002",
        f"{participant_pid('site-1')}: Try start_listener Listener resources: {{'secure': False, 'host': 'localhost'}}",
        f"Successfully registered client:site-1 for project flare_harness. Token:{token} SSID:{ssid}",
        "Starting client app. rank: 0",
        f"[identity=site-1, run={job_id}]: client runner started",
        f"[identity=site-1, run={job_id}]: Round 0/3: got task assignment: name=train",
        f"[identity=site-1, run={job_id}]: Round 1/3: got task assignment: name=train",
    ]
    assert [line.split(" - ", 3)[3] for line in tail.splitlines()] == expected
    found = flare_session.grep_target("site-1", "-n", "Round", "log.txt")
    assert [line.split(":", 1)[0] for line in found.splitlines()] == ["6", "7"]
    assert found.splitlines()[1].endswith("Round 1/3: got task assignment: name=train")
    assert flare_session.head_target_log("site-1", "-n 1").endswith(expected[0])
    server_tail = flare_session.tail_target_log("server", "-n 1")
    assert server_tail.endswith(f"[identity=flare_harness, run={job_id}]: Round 1 started.")
    flare_clock.advance(30)
    assert flare_session.tail_target_log("site-1", "-n 1").endswith("client runner finished")


# --- our client -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", list(ORGS))
def test_get_working_directory(flare: FakeFlareServer, flare_session: Session, target: str) -> None:
    assert flare_session.get_working_directory(target) == str(flare.sites.workspace(target))


def test_client_methods_send_flares_lines_and_return_the_text(
    flare: FakeFlareServer, flare_session: Session, token: str, notes: dict[str, Path]
) -> None:
    calls: list[tuple[Callable[[], str], str]] = [
        (lambda: flare_session.ls_target("server"), "ls server"),
        (lambda: flare_session.ls_target("site-1", "-a -l", "startup"), "ls site-1 -a -l startup"),
        (lambda: flare_session.cat_target("site-2", file="notes.txt"), "cat site-2 notes.txt"),
        (lambda: flare_session.cat_target("site-2", "-n  -T", "notes.txt"), "cat site-2 -n -T notes.txt"),
        (lambda: flare_session.head_target("server", "-n 2", "notes.txt"), "head server -n 2 notes.txt"),
        (lambda: flare_session.head_target_log("site-1"), "head site-1 log.txt"),
        (lambda: flare_session.tail_target("site-1", file="notes.txt"), "tail site-1 notes.txt"),
        (lambda: flare_session.tail_target_log("server", "-c 5"), "tail server -c 5 log.txt"),
        (lambda: flare_session.grep_target("server", pattern="beta", file="notes.txt"), "grep server beta notes.txt"),
        (
            lambda: flare_session.grep_target("site-1", "-n -i", "HELLO world", "notes.txt"),
            'grep site-1 -n -i "HELLO world" notes.txt',
        ),
        (lambda: flare_session.get_working_directory("site-2"), "pwd site-2"),
    ]
    for call, line in calls:
        output = call()
        assert flare.audit[-1].command == line
        (item,) = raw(flare, line, token).items
        if not line.startswith("ls site-1 -a -l"):  # ls -l shows access times, which the first call changed
            assert output == item.data
    assert flare_session.grep_target("site-1", "-n -i", "HELLO world", "notes.txt") == "7:say hello world"


@pytest.mark.parametrize("pattern", ['say "hi"', "it's", "a\\b", "$HOME", "x y  z", "*", "#", " lead"])
def test_grep_pattern_reaches_the_server_as_one_argument(
    flare: FakeFlareServer, flare_session: Session, notes: dict[str, Path], pattern: str
) -> None:
    flare_session.grep_target("server", pattern=pattern, file="notes.txt")
    assert split_command_line(flare.audit[-1].command) == ["grep", "server", pattern, "notes.txt"]


def test_a_pattern_that_looks_like_an_option_is_refused_by_the_server(flare_session: Session) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^server refused 'grep server -v log\.txt': "):
        flare_session.grep_target("server", pattern="-v", file="log.txt")


TARGET_CHARS = "target must be a string of only valid characters and no spaces."
OPTION_CHARS = "options must be a string of only valid characters."
NO_PATTERN = "pattern is required but not specified."
NO_FILE = "file is required but not specified."
#: (method, positional args, keyword args, exception, message): FLARE 2.4+ ``cmd_arg_utils`` texts.
BAD_ARGUMENTS: list[tuple[str, tuple[Any, ...], dict[str, Any], type, str]] = [
    ("ls_target", (None,), {}, InvalidTarget, "target is required but not specified."),
    ("ls_target", ("",), {}, InvalidTarget, "target is required but not specified."),
    ("cat_target", (5,), {"file": "a.txt"}, InvalidTarget, "target is not str."),
    ("get_working_directory", ("site 1",), {}, InvalidTarget, TARGET_CHARS),
    ("tail_target_log", ("server;ls",), {}, InvalidTarget, TARGET_CHARS),
    ("ls_target", ("server\n",), {}, InvalidTarget, TARGET_CHARS),  # FLARE's re.match would let it through
    ("ls_target", ("server", "-l\n"), {}, InvalidArgumentError, OPTION_CHARS),
    ("cat_target", ("server",), {"file": "a.txt\n"}, InvalidArgumentError, "unsupported characters in path a.txt\n"),
    ("ls_target", ("server", 5), {}, InvalidArgumentError, "options is not str."),
    ("ls_target", ("server", "-l;rm"), {}, InvalidArgumentError, OPTION_CHARS),
    ("head_target_log", ("server", "-n=5"), {}, InvalidArgumentError, OPTION_CHARS),
    ("grep_target", ("server",), {"file": "log.txt"}, InvalidArgumentError, NO_PATTERN),
    ("grep_target", ("server", None, "", "log.txt"), {}, InvalidArgumentError, NO_PATTERN),
    ("grep_target", ("server", None, 5, "log.txt"), {}, InvalidArgumentError, "pattern is not str."),
    ("grep_target", ("server", None, "x"), {}, InvalidArgumentError, NO_FILE),
    ("cat_target", ("server",), {}, InvalidArgumentError, NO_FILE),
    ("tail_target", ("server", "-n 1", ""), {}, InvalidArgumentError, NO_FILE),
    ("cat_target", ("server",), {"file": 5}, InvalidArgumentError, "path is not str."),
    ("ls_target", ("server",), {"path": ["a"]}, InvalidArgumentError, "path is not str."),
    ("ls_target", ("server",), {"path": "a b"}, InvalidArgumentError, "unsupported characters in path a b"),
    ("cat_target", ("server",), {"file": "a$b.txt"}, InvalidArgumentError, "unsupported characters in path a$b.txt"),
    ("cat_target", ("server",), {"file": "/etc/x.txt"}, InvalidArgumentError, "absolute path is not allowed"),
    ("ls_target", ("server",), {"path": "/"}, InvalidArgumentError, "absolute path is not allowed"),
    ("head_target", ("server",), {"file": "../log.txt"}, InvalidArgumentError, ".. in path name is not allowed"),
    ("ls_target", ("server",), {"path": "a/.."}, InvalidArgumentError, ".. in path name is not allowed"),
    ("cat_target", ("server",), {"file": "startup"}, InvalidArgumentError, TEXT_ONLY.format(file="startup")),
    ("tail_target", ("server",), {"file": "a.bin.2"}, InvalidArgumentError, TEXT_ONLY.format(file="a.bin.2")),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "error", "message"), BAD_ARGUMENTS)
def test_client_argument_checks_come_before_any_io(
    flare: FakeFlareServer,
    flare_session: Session,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: type,
    message: str,
) -> None:
    with no_request_reaches(flare), pytest.raises(error) as caught:
        getattr(flare_session, method)(*args, **kwargs)
    assert str(caught.value) == message


def test_server_refusals_map_to_our_exceptions(flare: FakeFlareServer, flare_session: Session) -> None:
    with pytest.raises(InvalidClient) as unknown:
        flare_session.ls_target("site-9")
    assert isinstance(unknown.value, InvalidTarget) and isinstance(unknown.value, RuntimeError)
    assert str(unknown.value) == "server refused 'ls site-9': invalid client: site-9"
    with pytest.raises(InvalidArgumentError, match=r"^server refused 'tail server log.txt.1': this command cannot"):
        flare_session.tail_target("server", file="log.txt.1")  # FLARE 2.4's client allows it, a 2.3 server does not
    with pytest.raises(InvalidArgumentError, match=r"unrecognized arguments: -n x log.txt$"):
        flare_session.head_target("server", "-n x", "log.txt")
    with pytest.raises(InvalidArgumentError, match=r"unrecognized arguments: b$"):
        flare_session.ls_target("server", "a", "b")
    with pytest.raises(InvalidArgumentError, match=r"this command does not accept extra args$"):
        flare_session._shell_command_on_target("pwd", "server", "-l", None)
    flare.sites.silence("site-2")
    with pytest.raises(InternalError, match="no reply from client - timed out"):
        flare_session.get_working_directory("site-2")


def test_site_exception_raises(flare: FakeFlareServer, flare_session: Session) -> None:
    (flare.sites.workspace("site-1") / "latin1.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(InternalError, match=r"^the site failed to run 'cat site-1 latin1\.txt': exception_occurred: "):
        flare_session.cat_target("site-1", file="latin1.txt")
    (flare.sites.workspace("server") / "latin1.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(InternalError, match="Exception Occurred: UnicodeDecodeError"):
        flare_session.cat_target("server", file="latin1.txt")


def test_text_that_merely_mentions_denials_is_returned(flare: FakeFlareServer, flare_session: Session) -> None:
    """FLARE's client would raise on any "not authorized"/"invalid client" in the output; we match the exact form."""
    text = "user 'bob' is not authorized for 'submit_job'\ninvalid client: x\nsession_inactive"
    (flare.sites.workspace("server") / "messages.log").write_text(text + "\n")
    assert flare_session.cat_target("server", file="messages.log") == text
    assert flare_session.grep_target("server", pattern="bob", file="messages.log") == text.splitlines()[0]
    reply = flare_session.do_command("cat server messages.log", raise_errors=False)
    assert reply["status"] == "ERROR_INACTIVE_SESSION"


@pytest.mark.parametrize("user", ["member@nvidia.com", "lead@other.org"])
def test_site_denial_through_our_client(flare_session_factory: SessionFactory, user: str) -> None:
    with pytest.raises(AuthorizationError) as caught:
        flare_session_factory(user).tail_target_log("site-1")
    assert str(caught.value) == (
        f"user not authorized for the action 'tail site-1 log.txt': user '{user}' is not authorized for 'tail'"
    )


def test_server_denial_through_our_client(flare_session_factory: SessionFactory) -> None:
    with pytest.raises(AuthorizationError) as caught:
        flare_session_factory("member@nvidia.com").get_working_directory("server")
    assert str(caught.value) == (
        "user not authorized for the action 'pwd server: user 'member@nvidia.com' is not authorized for 'pwd''"
    )


def test_our_do_command_matches_the_wire(flare: FakeFlareServer, flare_session: Session, token: str) -> None:
    for line in ("pwd server", "ls site-1", "cat server x.bin", "ls site-9"):
        result = flare_session.do_command(line, raise_errors=False)
        reply = raw(flare, line, token)
        assert (result["data"], result["meta"]) == (wire(reply), reply.meta)


def test_closed_session(flare_session: Session) -> None:
    flare_session.close()
    with pytest.raises(SessionClosed):
        flare_session.ls_target("server")


def test_admin_reads_every_workspace_file(flare: FakeFlareServer, flare_session: Session) -> None:
    """Every file FLARE lays out is readable through the client with a text extension or listable."""
    for target in ORGS:
        folder = flare.sites.workspace(target)
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder).as_posix()
            if path.is_dir():
                assert flare_session.ls_target(target, path=relative) == "\n".join(sorted(os.listdir(path)))
            elif path.suffix in (".txt", ".json"):
                assert flare_session.cat_target(target, file=relative) == path.read_text().rstrip("\n")
