"""Every reply case of every job command, exactly as it goes on the wire, and what our client makes of it.

Reference sections 3.4 (meta), 4 (pipeline), 6.0/6.1 (job commands), 7.4/7.5 (upload, validation),
8.4–8.6 (client mapping) and appendix B; where the reference is silent, nvflare 2.3.12's
``private/fed/server/job_cmds.py`` and ``job_meta_validator.py``.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import time
import zipfile
from pathlib import Path
from typing import Any, Optional

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from fakeserver.protocol import messages
from flare_api import (
    InternalError,
    InvalidJobDefinition,
    JobInfo,
    JobNotDone,
    JobNotFound,
    Session,
    VirtualClock,
)
from flare_api.job_folder import submit_command_args
from flare_api.wire import Document
from tests.helpers import ADMIN, login, raw, wire
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

HELLO = example_job()
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_SERVER_CONFIG = b'{"format_version": 2, "workflows": [], "components": []}'
_CLIENT_CONFIG = b'{"format_version": 2, "executors": [], "components": []}'


# ------------------------------------------------------------------------------------------- helpers
def submit(server: FakeFlareServer, token: str, folder: Path = HELLO, user: str = ADMIN) -> str:
    """Upload ``folder`` over the raw protocol (as FLARE's client zips it) and return the new job id."""
    name, payload = submit_command_args(Path(folder))
    reply = raw(server, f"submit_job {name} {payload}", token, user)
    assert reply.meta.get("status") == "ok", wire(reply)
    return str(reply.meta["job_id"])


def assert_error(reply: Document, text: str, status: str = "error", info: Optional[str] = None) -> None:
    """One error item and meta ``{"status", "info"}`` in that order (info defaults to the text)."""
    assert wire(reply) == [{"type": "error", "data": text}]
    assert reply.meta == {"status": status, "info": text if info is None else info}
    assert list(reply.meta) == ["status", "info"]


def zip_b64(entries: list[tuple[str, bytes]], *, directories: bool = True) -> str:
    """A hand-built STORED zip; names ending in ``/`` are directory entries (left out if ``directories`` is
    False)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            if name.endswith("/"):
                if directories:
                    archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, data)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def job_entries(
    meta: Any,
    apps: tuple[str, ...] = ("app",),
    *,
    top: str = "j",
    server_config: bool = True,
    client_config: bool = True,
) -> list[tuple[str, bytes]]:
    """Entries of a job ``top``: ``meta.json`` (a dict, or raw bytes) and per app ``config/`` with configs."""
    text = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    entries = [(f"{top}/meta.json", text)]
    for app in apps:
        entries += [(f"{top}/{app}/", b""), (f"{top}/{app}/config/", b"")]
        if server_config:
            entries.append((f"{top}/{app}/config/config_fed_server.json", _SERVER_CONFIG))
        if client_config:
            entries.append((f"{top}/{app}/config/config_fed_client.json", _CLIENT_CONFIG))
    return entries


def crash_text(call: Any) -> str:
    """``Exception Occurred: <Type>: <msg>`` for what ``call()`` raises here (the server runs the same stdlib)."""
    try:
        call()
    except Exception as exc:
        return f"Exception Occurred: {type(exc).__name__}: {exc}"
    raise AssertionError("the call was expected to raise")


def list_jobs_help() -> str:
    """The help FLARE appends to list_jobs parse errors: its ``SafeArgumentParser`` (no -h), printed."""
    parser = argparse.ArgumentParser(prog="list_jobs", add_help=False)
    parser.add_argument("job_id", nargs="?", help="Job ID prefix")
    parser.add_argument("-d", action="store_true", help="Show detailed list")
    parser.add_argument("-u", action="store_true", help="List jobs submitted by the same user")
    parser.add_argument("-r", action="store_true", help="List jobs in reverse order of submission time")
    parser.add_argument("-n", help="Filter by job name prefix")
    parser.add_argument("-m", type=int, help="Maximum number of jobs that will be listed")
    out = io.StringIO()
    parser.print_help(out)
    return out.getvalue()


def summary_row(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "job_id": meta["job_id"],
        "job_name": meta.get("name") or meta.get("job_folder_name", "No name"),
        "status": meta["status"],
        "submit_time": meta["submit_time_iso"],
        "duration": str(meta["duration"]),
    }


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ============================================================================================ submit_job
def test_submit_success_on_the_wire(flare: FakeFlareServer) -> None:
    token = login(flare)
    name, payload = submit_command_args(HELLO)
    reply = raw(flare, f"submit_job {name} {payload}", token)
    job_id = reply.meta.get("job_id")
    assert isinstance(job_id, str) and UUID4.match(job_id)
    assert wire(reply) == [{"type": "string", "data": f"Submitted job: {job_id}"}, {"type": "success", "data": ""}]
    assert reply.meta == {"status": "ok", "info": "", "job_id": job_id}
    assert list(reply.meta) == ["status", "info", "job_id"]
    assert flare.jobs.ids() == [job_id]
    # the scoped name (what FLARE's client really sends) answers the same way
    scoped = raw(flare, f"job_mgmt.submit_job {name} {payload}", token)
    second = scoped.meta["job_id"]
    assert wire(scoped) == [{"type": "string", "data": f"Submitted job: {second}"}, {"type": "success", "data": ""}]
    assert flare.jobs.ids() == [job_id, second]


def test_submit_success_through_the_client(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = flare_session.submit_job(str(HELLO))
    assert UUID4.match(job_id)
    assert flare.jobs.ids() == [job_id]
    name, payload = submit_command_args(HELLO)
    assert flare.audit[-1].command == f"job_mgmt.submit_job {name} {payload}"[:100]
    meta = flare.jobs.meta(job_id)
    assert (meta["submitter_name"], meta["submitter_org"], meta["submitter_role"]) == (
        "admin@nvidia.com",
        "nvidia",
        "project_admin",
    )
    assert meta["job_folder_name"] == "hello-numpy" and meta["status"] == "SUBMITTED"


@pytest.mark.parametrize("line", ["submit_job", "submit_job hello-numpy", "job_mgmt.submit_job hello-numpy"])
def test_submit_with_fewer_than_three_args(flare: FakeFlareServer, flare_session: Session, line: str) -> None:
    text = "Exception Occurred: IndexError: list index out of range"
    assert_error(raw(flare, line, login(flare)), text)
    with pytest.raises(InternalError) as caught:
        flare_session.do_command(line)
    assert str(caught.value) == f"server internal error (error): {text}"
    assert len(flare.jobs) == 0


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param("abc", lambda: crash_text(lambda: base64.b64decode(b"abc")), id="bad-padding"),
        pytest.param("a", lambda: crash_text(lambda: base64.b64decode(b"a")), id="one-char"),
        pytest.param("\u00e9t\u00e9", lambda: crash_text(lambda: "\u00e9t\u00e9".encode("ascii")), id="non-ascii"),
        pytest.param(
            base64.b64encode(b"hello").decode(),
            lambda: "Exception Occurred: BadZipFile: File is not a zip file",
            id="not-a-zip",
        ),
        pytest.param("!!!!", lambda: "Exception Occurred: BadZipFile: File is not a zip file", id="decodes-to-nothing"),
        pytest.param(zip_b64([]), lambda: "Exception Occurred: IndexError: list index out of range", id="empty-zip"),
    ],
)
def test_submit_undecodable_upload(flare: FakeFlareServer, flare_session: Session, payload: str, expected) -> None:
    text = expected()
    assert_error(raw(flare, f"submit_job hello {payload}", login(flare)), text)
    with pytest.raises(InternalError) as caught:
        flare_session.do_command(f"job_mgmt.submit_job hello {payload}")
    assert str(caught.value) == f"server internal error (error): {text}"
    assert len(flare.jobs) == 0


def test_bad_padding_text_on_this_python() -> None:
    """Pin the stdlib text the parametrized case computes, so a wrong computation cannot hide."""
    assert crash_text(lambda: base64.b64decode(b"abc")) == "Exception Occurred: Error: Incorrect padding"


@pytest.mark.parametrize(
    ("meta_text", "text"),
    [
        pytest.param(
            b"{bad",
            "Exception Occurred: JSONDecodeError: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
            id="invalid-json",
        ),
        pytest.param(b"", "Exception Occurred: JSONDecodeError: Expecting value: line 1 column 1 (char 0)", id="empty"),
        pytest.param(b"null", "Exception Occurred: TypeError: argument of type 'NoneType' is not iterable", id="null"),
        pytest.param(
            b"[]", "Exception Occurred: TypeError: list indices must be integers or slices, not str", id="list"
        ),
    ],
)
def test_submit_meta_json_that_breaks_the_conversion(
    flare: FakeFlareServer, flare_session: Session, meta_text: bytes, text: str
) -> None:
    """7.4: the legacy conversion parses ``F/meta.json`` first; its crash is ``Exception Occurred`` (status error)."""
    payload = zip_b64(job_entries(meta_text))
    assert_error(raw(flare, f"submit_job j {payload}", login(flare)), text)
    with pytest.raises(InternalError) as caught:
        flare_session.do_command(f"job_mgmt.submit_job j {payload}")
    assert str(caught.value) == f"server internal error (error): {text}"


def test_submit_invalid_json_read_by_the_validator_is_an_invalid_job_def(
    flare: FakeFlareServer, flare_session: Session
) -> None:
    """The validator reads ``<arg>/meta.json`` itself; a JSONDecodeError there is a ValueError (job_meta_validator)."""
    entries = job_entries({"name": "a", "job_folder_name": "a", "deploy_map": {"app": ["@ALL"]}}, top="a")
    entries.append(("b/meta.json", b"{bad"))
    payload = zip_b64(entries)
    text = "JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert_error(raw(flare, f"submit_job b {payload}", login(flare)), text, "invalid_job_def")
    with pytest.raises(InvalidJobDefinition) as caught:
        flare_session.do_command(f"job_mgmt.submit_job b {payload}")
    assert str(caught.value) == f"invalid job definition: {text}"


ALL = {"app": ["@ALL"]}
MIN_CLIENTS_TEXT = "min_clients {} must be positive for job j"


def _int_failure(value: Any) -> str:
    try:
        int(value)
    except (TypeError, ValueError) as exc:
        return str((f"invalid data type for {value},can't not convert to Int", f"{type(exc).__name__}: {exc}"))
    raise AssertionError(value)


#: (id, meta, apps, server config present, client config present, message) — the zip's top folder and the
#: command argument are both ``j``.
VALIDATION_RULES = [
    ("meta-empty-dict", {}, ("app",), True, True, "deploy_map is empty for job j"),
    ("no-deploy-map", {"name": "j"}, ("app",), True, True, "deploy_map is empty for job j"),
    ("deploy-map-empty", {"deploy_map": {}}, ("app",), True, True, "deploy_map is empty for job j"),
    ("deploy-map-null", {"deploy_map": None}, ("app",), True, True, "deploy_map is empty for job j"),
    ("no-site", {"deploy_map": {"app": []}}, ("app",), True, True, "No site is specified in deploy_map for job j"),
    ("all-with-other-site", {"deploy_map": {"app": ["@ALL", "site-1"]}}, ("app",), True, True,
     "No other site can be specified if @ALL is used for job j"),
    ("all-any-case-in-another-app", {"deploy_map": {"app": ["server"], "app2": ["@all"]}}, ("app", "app2"), True,
     True, "No other site can be specified if @ALL is used for job j"),
    ("missing-server", {"deploy_map": {"app": ["site-1", "site-2"]}}, ("app",), True, True,
     "Missing server site in deploy_map for job j"),
    ("server-is-case-sensitive", {"deploy_map": {"app": ["SERVER", "site-1"]}}, ("app",), True, True,
     "Missing server site in deploy_map for job j"),
    ("site-twice", {"deploy_map": {"app": ["server", "site-1"], "app2": ["site-1"]}}, ("app", "app2"), True, True,
     "Multiple apps to be deployed to following sites ['site-1'] for job j"),
    ("app-folder-missing", {"deploy_map": {"nope": ["@ALL"]}}, ("app",), True, True,
     "App nope in deploy_map doesn't exist for job j"),
    ("server-config-missing-all", {"deploy_map": ALL}, ("app",), False, True,
     "App app will be deployed to server but server config is missing"),
    ("server-config-missing", {"deploy_map": {"app": ["server", "site-1"]}}, ("app",), False, True,
     "App app will be deployed to server but server config is missing"),
    ("client-config-missing-all", {"deploy_map": ALL}, ("app",), True, False,
     "App app will be deployed to client but client config is missing"),
    ("client-config-missing", {"deploy_map": {"app": ["server", "site-1"]}}, ("app",), True, False,
     "App app will be deployed to client but client config is missing"),
    ("min-clients-not-a-number", {"deploy_map": ALL, "min_clients": "abc"}, ("app",), True, True,
     _int_failure("abc")),
    ("min-clients-a-list", {"deploy_map": ALL, "min_clients": [1]}, ("app",), True, True, _int_failure([1])),
    ("min-clients-zero", {"deploy_map": ALL, "min_clients": 0}, ("app",), True, True, MIN_CLIENTS_TEXT.format(0)),
    ("min-clients-negative-str", {"deploy_map": ALL, "min_clients": "-2"}, ("app",), True, True,
     MIN_CLIENTS_TEXT.format(-2)),
    ("min-clients-too-many", {"deploy_map": ALL, "min_clients": 1000001}, ("app",), True, True,
     "min_clients 1000001 must be less than 1000000  for job j"),
    ("min-clients-above-sites", {"deploy_map": {"app": ["server", "site-1", "site-2"]}, "min_clients": 3},
     ("app",), True, True, "min 3 clients required for job j, found 2."),
    ("resource-spec-not-a-dict", {"deploy_map": ALL, "resource_spec": "gpu"}, ("app",), True, True,
     "Invalid resource_spec for job j"),
    ("resource-spec-value-not-a-dict", {"deploy_map": ALL, "resource_spec": {"site-1": {}, "site-2": "gpu"}},
     ("app",), True, True, "value for key site-2 in resource spec is expecting a dictionary"),
    ("mandatory-client-not-deployed", {"deploy_map": {"app": ["server", "site-1"]}, "mandatory_clients": ["site-2"]},
     ("app",), True, True, "Mandatory clients {'site-2'} are not in the deploy_map for job j"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("meta", "apps", "server_config", "client_config", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in VALIDATION_RULES],
)
def test_submit_validation_rules_on_the_wire(
    flare: FakeFlareServer,
    flare_session: Session,
    meta: dict,
    apps: tuple[str, ...],
    server_config: bool,
    client_config: bool,
    message: str,
) -> None:
    entries = job_entries(meta, apps, server_config=server_config, client_config=client_config)
    payload = zip_b64(entries)
    text = f"ValueError: {message}"
    assert_error(raw(flare, f"submit_job j {payload}", login(flare)), text, "invalid_job_def")
    with pytest.raises(InvalidJobDefinition) as caught:
        flare_session.do_command(f"job_mgmt.submit_job j {payload}")
    assert str(caught.value) == f"invalid job definition: {text}"
    assert len(flare.jobs) == 0


def test_submit_folder_argument_differs_from_the_zip(flare: FakeFlareServer) -> None:
    """The only way to get ``meta.json is empty``: the argument names a folder the zip does not have."""
    payload = zip_b64(job_entries({"deploy_map": ALL}))
    assert_error(
        raw(flare, f"submit_job other {payload}", login(flare)),
        "ValueError: meta.json is empty for job other",
        "invalid_job_def",
    )


def test_submit_deploy_map_without_clients_crashes_the_validator(
    flare: FakeFlareServer, flare_session: Session
) -> None:
    """Reference silent; job_meta_validator ``next(iter(set()))`` raises StopIteration, which submit_job catches."""
    payload = zip_b64(job_entries({"deploy_map": {"app": ["server"]}}))
    reply = raw(flare, f"submit_job j {payload}", login(flare))
    assert_error(
        reply, "Exception occurred trying to submit job: StopIteration: ", "internal_error",
        "exception <class 'StopIteration'> occurred",
    )  # fmt: skip
    with pytest.raises(InternalError) as caught:
        flare_session.do_command(f"job_mgmt.submit_job j {payload}")
    assert str(caught.value) == "server internal error (internal_error): exception <class 'StopIteration'> occurred"


@pytest.mark.parametrize(
    ("meta", "text"),
    [
        pytest.param({"deploy_map": ["server"]}, "AttributeError: 'list' object has no attribute 'values'",
                     id="map-list"),
        pytest.param({"deploy_map": {"app": None}}, "TypeError: 'NoneType' object is not iterable", id="sites-null"),
        pytest.param({"deploy_map": {"app": [1]}}, "AttributeError: 'int' object has no attribute 'casefold'",
                     id="site-not-str"),
        pytest.param(["job_folder_name"], "AttributeError: 'list' object has no attribute 'get'", id="meta-list"),
        pytest.param({"deploy_map": ALL, "min_clients": float("inf")},
                     "OverflowError: cannot convert float infinity to integer", id="min-clients-infinity"),
        pytest.param({"deploy_map": {"app": ["server", "site-1"]}, "mandatory_clients": [["site-1"]]},
                     "TypeError: unhashable type: 'list'", id="mandatory-unhashable"),
    ],
)  # fmt: skip
def test_submit_validator_crashes_are_internal_errors(
    flare: FakeFlareServer, flare_session: Session, meta: Any, text: str
) -> None:
    """Reference 6.1 "other exceptions"; job_meta_validator only turns ValueError into invalid_job_def."""
    payload = zip_b64(job_entries(meta))
    info = f"exception <class '{text.split(':')[0]}'> occurred"
    assert_error(raw(flare, f"submit_job j {payload}", login(flare)),
                 f"Exception occurred trying to submit job: {text}", "internal_error", info)  # fmt: skip
    with pytest.raises(InternalError) as caught:
        flare_session.do_command(f"job_mgmt.submit_job j {payload}")
    assert str(caught.value) == f"server internal error (internal_error): {info}"
    assert len(flare.jobs) == 0


def test_submit_ignores_extra_args(flare: FakeFlareServer) -> None:
    name, payload = submit_command_args(HELLO)
    reply = raw(flare, f"submit_job {name} {payload} extra args", login(flare))
    assert wire(reply) == [{"type": "string", "data": f"Submitted job: {reply.meta['job_id']}"},
                           {"type": "success", "data": ""}]  # fmt: skip


def test_submit_zip_with_and_without_directory_entries(flare: FakeFlareServer) -> None:
    token = login(flare)
    entries = job_entries({"name": "j", "deploy_map": ALL})
    assert_error(
        raw(flare, f"submit_job j {zip_b64(entries, directories=False)}", token),
        "ValueError: App app in deploy_map doesn't exist for job j",
        "invalid_job_def",
    )
    # only the config directory entry is needed
    only_config_dir = [e for e in entries if e[0] != "j/app/"]
    reply = raw(flare, f"submit_job j {zip_b64(only_config_dir)}", token)
    assert reply.meta["status"] == "ok", wire(reply)
    reply = raw(flare, f"submit_job j {zip_b64(entries)}", token)
    assert wire(reply)[0] == {"type": "string", "data": f"Submitted job: {reply.meta['job_id']}"}


def test_submit_accepted_edge_values(flare: FakeFlareServer) -> None:
    token = login(flare)
    for meta in (
        {"deploy_map": {"app": ["@all"]}, "min_clients": "2", "mandatory_clients": ["site-9"]},
        {"deploy_map": {"app": ["server", "site-1"]}, "min_clients": 1, "resource_spec": {"site-1": {}, "x": None}},
        {"deploy_map": {"app": ["server", "site-1"]}, "mandatory_clients": ["site-1"], "min_clients": True},
    ):
        reply = raw(flare, f"submit_job j {zip_b64(job_entries(meta))}", token)
        assert reply.meta["status"] == "ok", (meta, wire(reply))


def test_submit_stores_meta_with_job_folder_name_added(flare: FakeFlareServer) -> None:
    token = login(flare)
    payload = zip_b64(job_entries({"name": "n", "deploy_map": ALL, "custom": [1, 2]}))
    job_id = raw(flare, f"submit_job j {payload}", token).meta["job_id"]
    meta = raw(flare, f"get_job_meta {job_id}", token).meta["job_meta"]
    assert list(meta)[:4] == ["name", "deploy_map", "custom", "job_folder_name"]
    assert meta["job_folder_name"] == "j" and meta["custom"] == [1, 2]


def test_submit_legacy_app_gets_a_generated_meta(flare: FakeFlareServer) -> None:
    """7.4: no ``F/meta.json`` → the server writes one and moves everything under ``F/``."""
    token = login(flare)
    entries = [
        ("legacy/config/", b""),
        ("legacy/config/config_fed_server.json", _SERVER_CONFIG),
        ("legacy/config/config_fed_client.json", _CLIENT_CONFIG),
    ]
    job_id = raw(flare, f"submit_job legacy {zip_b64(entries)}", token).meta["job_id"]
    meta = raw(flare, f"get_job_meta {job_id}", token).meta["job_meta"]
    assert {k: meta[k] for k in list(meta)[:5]} == {
        "name": "legacy",
        "job_folder_name": "legacy",
        "resource_spec": {},
        "deploy_map": {"legacy": ["@ALL"]},
        "min_clients": 1,
    }


def _without(folder: Path, relative: str) -> Path:
    (folder / relative).unlink()
    return folder


#: Rules a job folder can express, as (id, builder(tmp) -> folder, message with F = folder name).
FOLDER_RULES = [
    ("meta-empty", lambda t: write_job(t, "f1", meta={}), "deploy_map is empty for job f1"),
    ("no-site", lambda t: write_job(t, "f2", deploy_map={"app": []}), "No site is specified in deploy_map for job f2"),
    ("all-with-other", lambda t: write_job(t, "f3", deploy_map={"app": ["@ALL", "site-2"]}),
     "No other site can be specified if @ALL is used for job f3"),
    ("missing-server", lambda t: write_job(t, "f4", deploy_map={"app": ["site-1"]}),
     "Missing server site in deploy_map for job f4"),
    ("site-twice", lambda t: write_job(t, "f5", deploy_map={"a1": ["server", "site-1"], "a2": ["site-1"]}),
     "Multiple apps to be deployed to following sites ['site-1'] for job f5"),
    ("app-missing", lambda t: write_job(t, "f6", meta={"name": "f6", "deploy_map": {"other": ["@ALL"]}}),
     "App other in deploy_map doesn't exist for job f6"),
    ("server-config-missing", lambda t: _without(write_job(t, "f7"), "app/config/config_fed_server.json"),
     "App app will be deployed to server but server config is missing"),
    ("client-config-missing", lambda t: _without(write_job(t, "f8"), "app/config/config_fed_client.json"),
     "App app will be deployed to client but client config is missing"),
    ("min-clients-text", lambda t: write_job(t, "f9", min_clients="many"), _int_failure("many")),
    ("min-clients-zero", lambda t: write_job(t, "f10", min_clients=0), "min_clients 0 must be positive for job f10"),
    ("min-clients-huge", lambda t: write_job(t, "f11", min_clients=10**7),
     "min_clients 10000000 must be less than 1000000  for job f11"),
    ("min-clients-above-sites",
     lambda t: write_job(t, "f12", deploy_map={"app": ["server", "site-1"]}, min_clients=2),
     "min 2 clients required for job f12, found 1."),
    ("resource-spec", lambda t: write_job(t, "f13", resource_spec=["gpu"]), "Invalid resource_spec for job f13"),
    ("resource-spec-value", lambda t: write_job(t, "f14", resource_spec={"site-1": 2}),
     "value for key site-1 in resource spec is expecting a dictionary"),
    ("mandatory",
     lambda t: write_job(t, "f15", deploy_map={"app": ["server", "site-1"]}, mandatory_clients=["site-2"]),
     "Mandatory clients {'site-2'} are not in the deploy_map for job f15"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "message"), [pytest.param(*case[1:], id=case[0]) for case in FOLDER_RULES])
def test_submit_validation_rules_through_the_client(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path, build, message: str
) -> None:
    folder = build(tmp_path)
    with pytest.raises(InvalidJobDefinition) as caught:
        flare_session.submit_job(str(folder))
    assert str(caught.value) == f"invalid job definition: ValueError: {message}"
    assert len(flare.jobs) == 0


# ============================================================================================= list_jobs
def test_list_jobs_store_empty(flare: FakeFlareServer, flare_session: Session) -> None:
    reply = raw(flare, "list_jobs", login(flare))
    assert wire(reply) == [{"type": "string", "data": "No jobs found."}, {"type": "success", "data": ""}]
    assert reply.meta == {"status": "ok", "info": "", "jobs": []}
    assert list(reply.meta) == ["status", "info", "jobs"]
    assert flare_session.list_jobs() == []
    assert flare_session.list_jobs(detailed=True, id_prefix="x", name_prefix="y", limit=3, reverse=True) == []


@pytest.mark.parametrize("args", ["zzz", "-n nomatch", "-u", "-d -r -m 2 zzz"])
def test_list_jobs_nothing_matches_has_no_success_item(
    flare: FakeFlareServer, flare_session_factory, args: str
) -> None:
    submit(flare, login(flare))
    lead = "lead@nvidia.com"
    reply = raw(flare, f"list_jobs {args}", login(flare, lead), lead)
    assert wire(reply) == [{"type": "string", "data": "No jobs matching the specified criteria."}]
    assert reply.meta == {"status": "ok", "info": "", "jobs": []}
    assert list(reply.meta) == ["status", "info", "jobs"]
    assert flare_session_factory(lead).do_command(f"list_jobs {args}")["meta"] == reply.meta


@pytest.fixture
def three_jobs(flare: FakeFlareServer, flare_clock: VirtualClock, tmp_path: Path) -> list[str]:
    """Jobs A (admin, hello-numpy), B (lead@nvidia.com, "bravo"), C (admin, "Charlie"), 10 s apart, all queued."""
    flare.jobs.script(JobScript(queued=1e6))
    ids = [submit(flare, login(flare))]
    flare_clock.advance(10)
    lead = "lead@nvidia.com"
    ids.append(submit(flare, login(flare, lead), write_job(tmp_path, "bravo"), lead))
    flare_clock.advance(10)
    ids.append(submit(flare, login(flare), write_job(tmp_path, "charlie", meta={"name": "Charlie", "deploy_map": ALL})))
    return ids


def test_list_jobs_summary(flare: FakeFlareServer, flare_session: Session, three_jobs: list[str]) -> None:
    reply = raw(flare, "list_jobs", login(flare))
    metas = [flare.jobs.meta(i) for i in three_jobs]
    assert wire(reply) == [
        {
            "type": "table",
            "rows": [["JOB ID", "NAME", "STATUS", "SUBMIT TIME", "RUN DURATION"]]
            + [[m["job_id"], m["name"], "SUBMITTED", m["submit_time_iso"], "N/A"] for m in metas],
        },
        {"type": "success", "data": ""},
    ]
    assert [m["name"] for m in metas] == ["hello-numpy", "bravo", "Charlie"]
    assert reply.meta == {"jobs": [summary_row(m) for m in metas], "status": "ok", "info": ""}
    assert list(reply.meta) == ["jobs", "status", "info"]
    assert [list(row) for row in reply.meta["jobs"]] == [
        ["job_id", "job_name", "status", "submit_time", "duration"]
    ] * 3
    assert flare_session.list_jobs() == reply.meta["jobs"]


def test_list_jobs_detailed(flare: FakeFlareServer, flare_session: Session, three_jobs: list[str]) -> None:
    reply = raw(flare, "list_jobs -d", login(flare))
    metas = [flare.jobs.meta(i) for i in three_jobs]
    assert wire(reply) == [{"type": "string", "data": json.dumps(m, indent=4)} for m in metas] + [
        {"type": "string", "data": ""},
        {"type": "success", "data": ""},
    ]
    assert reply.meta == {"status": "ok", "info": "", "jobs": metas}
    assert list(reply.meta) == ["status", "info", "jobs"]
    assert flare_session.list_jobs(detailed=True) == metas


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", [0, 1, 2]),
        ("-r", [2, 1, 0]),
        ("-m 1", [2]),
        ("-r -m 1", [2]),
        ("-m 2", [1, 2]),
        ("-r -m 2", [2, 1]),
        ("-m 0", [0, 1, 2]),
        ("-m 9", [0, 1, 2]),
        ("-m -1", [1, 2]),
        ("-r -m -1", [2, 1]),
        ("-m -2", [2]),
        ("-n h", [0]),
        ("-n HELLO", [0]),
        ("-n c", [2]),
        ("-n bravo -r", [1]),
    ],
)
def test_list_jobs_order_limit_and_name(
    flare: FakeFlareServer, flare_session: Session, three_jobs: list[str], args: str, expected: list[int]
) -> None:
    reply = raw(flare, f"list_jobs {args}".strip(), login(flare))
    assert [row["job_id"] for row in reply.meta["jobs"]] == [three_jobs[i] for i in expected]
    assert [row[0] for row in reply.items[0].rows[1:]] == [three_jobs[i] for i in expected]
    assert wire(reply)[-1] == {"type": "success", "data": ""}
    assert [row["job_id"] for row in flare_session.do_command(f"list_jobs {args}".strip())["meta"]["jobs"]] == [
        three_jobs[i] for i in expected
    ]


def test_list_jobs_limit_through_the_client(flare_session: Session, three_jobs: list[str]) -> None:
    assert [j["job_id"] for j in flare_session.list_jobs(limit=1)] == [three_jobs[2]]
    assert [j["job_id"] for j in flare_session.list_jobs(limit=2, reverse=True)] == [three_jobs[2], three_jobs[1]]
    assert [j["job_id"] for j in flare_session.list_jobs(limit=0)] == three_jobs
    assert [j["job_id"] for j in flare_session.list_jobs(limit=-1)] == three_jobs[1:]
    assert [j["job_id"] for j in flare_session.list_jobs(name_prefix="CHAR")] == [three_jobs[2]]


def test_list_jobs_id_prefix_is_case_insensitive(
    flare: FakeFlareServer, flare_session: Session, three_jobs: list[str]
) -> None:
    token = login(flare)
    target = three_jobs[1]
    for prefix in (target[:6], target[:6].upper(), target.upper()):
        reply = raw(flare, f"list_jobs {prefix}", token)
        assert [row["job_id"] for row in reply.meta["jobs"]] == [target], prefix
        assert [j["job_id"] for j in flare_session.list_jobs(id_prefix=prefix)] == [target]


def test_list_jobs_only_mine(flare: FakeFlareServer, flare_session_factory, three_jobs: list[str]) -> None:
    lead = "lead@nvidia.com"
    reply = raw(flare, "list_jobs -u", login(flare, lead), lead)
    assert [row["job_id"] for row in reply.meta["jobs"]] == [three_jobs[1]]
    admin = raw(flare, "list_jobs -u -r", login(flare))
    assert [row["job_id"] for row in admin.meta["jobs"]] == [three_jobs[2], three_jobs[0]]
    member = "member@nvidia.com"
    assert wire(raw(flare, "list_jobs -u", login(flare, member), member)) == [
        {"type": "string", "data": "No jobs matching the specified criteria."}
    ]
    assert [j["job_id"] for j in flare_session_factory(lead).do_command("list_jobs -u")["meta"]["jobs"]] == [
        three_jobs[1]
    ]


def test_list_jobs_name_filter_crashes_on_a_job_without_name(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path
) -> None:
    token = login(flare)
    named = submit(flare, token)
    nameless = submit(flare, token, write_job(tmp_path, "nameless", meta={"deploy_map": ALL}))
    # the NAME column falls back to the folder name
    rows = raw(flare, "list_jobs", token).items[0].rows
    assert [r[1] for r in rows[1:]] == ["hello-numpy", "nameless"]
    text = "AttributeError: 'NoneType' object has no attribute 'lower'"
    assert_error(raw(flare, "list_jobs -n hello", token), text, "internal_error")
    with pytest.raises(InternalError) as caught:
        flare_session.list_jobs(name_prefix="hello")
    assert str(caught.value) == f"server internal error (internal_error): {text}"
    # the id prefix is tested first, so a prefix that excludes the nameless job avoids the crash
    assert not nameless.startswith(named[:8])
    reply = raw(flare, f"list_jobs -n hello {named[:8]}", token)
    assert [row["job_id"] for row in reply.meta["jobs"]] == [named]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("-x", "unrecognized arguments: -x"),
        ("-m abc", "argument -m: invalid int value: 'abc'"),
        ("a b", "unrecognized arguments: b"),
        ("-m", "argument -m: expected one argument"),
    ],
)
def test_list_jobs_argparse_errors(flare: FakeFlareServer, flare_session: Session, args: str, message: str) -> None:
    submit(flare, login(flare))  # the parse error comes first, whatever the store holds
    text = f"ValueError: {message}\n{list_jobs_help()}"
    assert_error(raw(flare, f"list_jobs {args}", login(flare)), text, "internal_error")
    with pytest.raises(InternalError) as caught:
        flare_session.do_command(f"list_jobs {args}")
    assert str(caught.value) == f"server internal error (internal_error): {text}"


def test_list_jobs_help_text_shape() -> None:
    """Sanity check of the computed help (its ``options:`` heading is ``optional arguments:`` before 3.10)."""
    text = list_jobs_help()
    assert text.startswith("usage: list_jobs [-d] [-u] [-r] [-n N] [-m M] [job_id]\n")
    assert "  -m M    Maximum number of jobs that will be listed\n" in text


def test_list_jobs_running_duration_is_live(
    flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock
) -> None:
    flare.jobs.script_next(JobScript.hangs())
    token = login(flare)
    job_id = submit(flare, token)
    flare.jobs.advance_to(job_id, "RUNNING")
    flare_clock.advance(5)
    assert raw(flare, "list_jobs", token).items[0].rows[1][3:] == [
        flare.jobs.meta(job_id)["submit_time_iso"],
        "0:00:05",
    ]
    flare_clock.advance(2.5)
    reply = raw(flare, "list_jobs", token)
    assert reply.items[0].rows[1][2:] == ["RUNNING", flare.jobs.meta(job_id)["submit_time_iso"], "0:00:07.500000"]
    assert reply.meta["jobs"][0]["duration"] == "0:00:07.500000"
    detailed = raw(flare, "list_jobs -d", token)
    assert json.loads(detailed.items[0].data)["duration"] == "0:00:07.500000"
    assert detailed.meta["jobs"][0]["duration"] == "0:00:07.500000"
    # the stored meta keeps "N/A" until the job ends; only list_jobs computes it
    assert raw(flare, f"get_job_meta {job_id}", token).meta["job_meta"]["duration"] == "N/A"
    assert flare_session.list_jobs()[0]["duration"] == "0:00:07.500000"
    raw(flare, f"abort_job {job_id}", token)
    flare_clock.advance(100)
    assert raw(flare, "list_jobs", token).meta["jobs"][0]["duration"] == "0:00:07.500000"


# =========================================================================================== get_job_meta
def test_get_job_meta_success(flare: FakeFlareServer, flare_session: Session) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    reply = raw(flare, f"get_job_meta {job_id}", token)
    meta = flare.jobs.meta(job_id)
    assert wire(reply) == [{"type": "dict", "data": meta}]
    assert reply.meta == {"status": "ok", "info": "", "job_meta": meta}
    assert list(reply.meta) == ["status", "info", "job_meta"]
    assert flare_session.get_job_meta(job_id) == meta
    assert flare_session.get_job_status(job_id) == "SUBMITTED"


def test_get_job_meta_upper_case_id_works(flare: FakeFlareServer, flare_session: Session) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    reply = raw(flare, f"get_job_meta {job_id.upper()}", token)
    assert reply.meta["job_meta"]["job_id"] == job_id
    assert flare_session.get_job_meta(job_id.upper())["job_id"] == job_id


def test_get_job_meta_missing_job_id(flare: FakeFlareServer, flare_session: Session) -> None:
    assert_error(
        raw(flare, "get_job_meta", login(flare)), "syntax error: missing job_id", "syntax_error", "missing job_id"
    )
    with pytest.raises(InternalError) as caught:
        flare_session.do_command("get_job_meta")
    assert str(caught.value) == "protocol error: missing job_id"


@pytest.mark.parametrize("job_id", ["nonexistent-id", "NoSuch-ID", "0" * 36])
def test_get_job_meta_unknown_id(flare: FakeFlareServer, flare_session: Session, job_id: str) -> None:
    submit(flare, login(flare))
    lowered = job_id.lower()
    assert_error(
        raw(flare, f"get_job_meta {job_id}", login(flare)),
        f"Job with ID {lowered} doesn't exist",
        "invalid_job_id",
        lowered,
    )
    with pytest.raises(JobNotFound) as caught:
        flare_session.get_job_meta(job_id)
    assert str(caught.value) == f"no such job: {lowered}"


# ============================================================================= extra target args (6.0)
JOB_COMMANDS = ["get_job_meta", "clone_job", "abort_job", "delete_job", "download_job", "job_mgmt.download_job"]


@pytest.mark.parametrize("command", JOB_COMMANDS)
@pytest.mark.parametrize(
    ("extra", "text"),
    [
        ("client nope", "invalid client(s): nope"),
        ("client site-1 nope site-9", "invalid client(s): nope site-9"),
        ("bogus", "unknown target type bogus"),
    ],
)
def test_extra_target_args_on_job_commands(
    flare: FakeFlareServer, flare_session: Session, command: str, extra: str, text: str
) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    assert_error(raw(flare, f"{command} {job_id} {extra}", token), text, "syntax_error")
    with pytest.raises(InternalError) as caught:
        flare_session.do_command(f"{command} {job_id} {extra}")
    assert str(caught.value) == f"protocol error: {text}"
    assert flare.jobs.status(job_id).value == "SUBMITTED" and len(flare.jobs) == 1


def test_extra_target_args_no_clients_available(flare: FakeFlareServer) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    flare.sites.disconnect()
    assert_error(raw(flare, f"get_job_meta {job_id} client", token), "no clients available", "syntax_error")


@pytest.mark.parametrize("extra", ["server", "client", "client site-2", "all"])
def test_valid_extra_target_args_are_accepted(flare: FakeFlareServer, extra: str) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    reply = raw(flare, f"get_job_meta {job_id} {extra}", token)
    assert reply.meta["status"] == "ok" and reply.meta["job_meta"]["job_id"] == job_id


def test_unknown_job_is_reported_before_bad_targets(flare: FakeFlareServer) -> None:
    assert_error(raw(flare, "clone_job nope bogus", login(flare)), "Job with ID nope doesn't exist", "invalid_job_id",
                 "nope")  # fmt: skip


# ============================================================================================== clone_job
def test_clone_job_success(flare: FakeFlareServer, flare_session: Session, tmp_path: Path) -> None:
    lead = "lead@nvidia.com"
    folder = write_job(
        tmp_path, "src", deploy_map={"app": ["server", "site-1", "site-2"]}, min_clients=2,
        mandatory_clients=["site-1"], custom_key={"a": 1}, resource_spec={"site-1": {}},
    )  # fmt: skip
    source = submit(flare, login(flare, lead), folder, lead)
    flare.jobs.run_to_completion(source)
    reply = raw(flare, f"clone_job {source}", login(flare))
    new = reply.meta.get("job_id")
    assert isinstance(new, str) and UUID4.match(new) and new != source
    assert wire(reply) == [
        {"type": "string", "data": f"Cloned job {source} as: {new}"},
        {"type": "success", "data": ""},
    ]
    assert reply.meta == {"status": "ok", "info": "", "job_id": new}
    assert list(reply.meta) == ["status", "info", "job_id"]
    original = flare.jobs.meta(source)
    clone = flare.jobs.meta(new)
    copied = ["name", "job_folder_name", "deploy_map", "resource_spec", "min_clients", "mandatory_clients"]
    assert {k: clone[k] for k in copied} == {k: original[k] for k in copied}
    assert "custom_key" in original and "custom_key" not in clone
    assert set(clone) == {
        *copied, "submitter_name", "submitter_org", "submitter_role", "cloned_from",
        "job_id", "submit_time", "submit_time_iso", "start_time", "duration", "status",
    }  # fmt: skip
    assert (clone["submitter_name"], clone["submitter_org"], clone["submitter_role"]) == (
        "admin@nvidia.com",
        "nvidia",
        "project_admin",
    )
    assert original["submitter_name"] == lead
    assert clone["cloned_from"] == source
    assert (clone["status"], clone["start_time"], clone["duration"]) == ("SUBMITTED", "", "N/A")
    assert "job_deploy_detail" not in clone and "schedule_history" not in clone
    # through the client, with an upper-case source id (cloned_from is the lowercased id)
    third = flare_session.clone_job(source.upper())
    assert flare.jobs.meta(third)["cloned_from"] == source
    assert flare.jobs.ids() == [source, new, third]


def test_clone_job_unknown_id(flare: FakeFlareServer, flare_session: Session) -> None:
    assert_error(raw(flare, "clone_job NOPE", login(flare)), "Job with ID nope doesn't exist", "invalid_job_id", "nope")
    with pytest.raises(JobNotFound, match=r"^no such job: nope$"):
        flare_session.clone_job("NOPE")


# ============================================================================================== abort_job
def _abort_ok(reply: Document, text: str) -> None:
    assert wire(reply) == [{"type": "string", "data": text}, {"type": "success", "data": ""}]
    assert reply.meta == {"status": "ok", "info": text}
    assert list(reply.meta) == ["status", "info"]


@pytest.mark.parametrize("status", ["SUBMITTED", "DISPATCHED"])
def test_abort_job_before_it_runs(flare: FakeFlareServer, flare_session: Session, status: str) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    flare.jobs.advance_to(job_id, status)
    _abort_ok(raw(flare, f"abort_job {job_id}", token), f"Aborted the job {job_id} before running it.")
    assert flare.jobs.status(job_id).value == "FINISHED:ABORTED"
    other = submit(flare, token)
    flare.jobs.advance_to(other, status)
    assert flare_session.abort_job(other) is None
    assert flare.jobs.status(other).value == "FINISHED:ABORTED"


def test_abort_job_running(flare: FakeFlareServer, flare_session: Session, flare_clock: VirtualClock) -> None:
    flare.jobs.script_next(JobScript.hangs(), count=2)
    token = login(flare)
    job_id, other = submit(flare, token), submit(flare, token)
    flare.jobs.advance_to(job_id, "RUNNING")
    flare.jobs.advance_to(other, "RUNNING")
    flare_clock.advance(3)
    _abort_ok(raw(flare, f"abort_job {job_id.upper()}", token), "Abort signal has been sent to the server app.")
    meta = flare.jobs.meta(job_id)
    assert (meta["status"], meta["duration"]) == ("FINISHED:ABORTED", "0:00:03")  # set before the reply
    assert flare_session.abort_job(other) is None
    assert flare.jobs.status(other).value == "FINISHED:ABORTED"


@pytest.mark.parametrize("outcome", ["COMPLETED", "ABORTED", "EXECUTION_EXCEPTION", "FAILED_TO_RUN"])
def test_abort_job_already_finished(flare: FakeFlareServer, flare_session: Session, outcome: str) -> None:
    flare.jobs.script_next(JobScript.ends(outcome, after=1))
    token = login(flare)
    job_id = submit(flare, token)
    final = flare.jobs.run_to_completion(job_id)[0]
    _abort_ok(raw(flare, f"abort_job {job_id}", token), f"Job for {job_id} is already completed.")
    assert flare_session.abort_job(job_id) is None
    assert flare.jobs.status(job_id) is final


def test_abort_job_not_in_the_runner(flare: FakeFlareServer, flare_session: Session) -> None:
    flare.jobs.script_next(JobScript.hangs())
    token = login(flare)
    job_id = submit(flare, token)
    flare.jobs.advance_to(job_id, "RUNNING")
    flare.jobs.orphan(job_id)
    text = f"Job {job_id} is not running."
    assert_error(raw(flare, f"abort_job {job_id}", token), text, "internal_error")
    with pytest.raises(InternalError) as caught:
        flare_session.abort_job(job_id)
    assert str(caught.value) == f"server internal error (internal_error): {text}"
    assert flare.jobs.status(job_id).value == "RUNNING"


# ============================================================================================= delete_job
@pytest.mark.parametrize("status", ["DISPATCHED", "RUNNING"])
def test_delete_job_refused_while_running(flare: FakeFlareServer, flare_session: Session, status: str) -> None:
    flare.jobs.script_next(JobScript.hangs())
    token = login(flare)
    job_id = submit(flare, token)
    flare.jobs.advance_to(job_id, status)
    text = f"job: {job_id} is running, could not be deleted at this time."
    assert_error(raw(flare, f"delete_job {job_id.upper()}", token), text, "job_running", job_id)
    with pytest.raises(JobNotDone) as caught:
        flare_session.delete_job(job_id)
    assert str(caught.value) == f"job {job_id} is still running"
    assert flare.jobs.ids() == [job_id]


@pytest.mark.parametrize("finish", [False, True])
def test_delete_job_success(flare: FakeFlareServer, flare_session: Session, finish: bool) -> None:
    token = login(flare)
    job_id, other = submit(flare, token), submit(flare, token)
    if finish:
        flare.jobs.run_to_completion()
    reply = raw(flare, f"delete_job {job_id.upper()}", token)
    assert wire(reply) == [{"type": "string", "data": f"Job {job_id} deleted."}, {"type": "success", "data": ""}]
    assert reply.meta == {"status": "ok", "info": ""}
    assert list(reply.meta) == ["status", "info"]
    assert_error(raw(flare, f"get_job_meta {job_id}", token), f"Job with ID {job_id} doesn't exist", "invalid_job_id",
                 job_id)  # fmt: skip
    assert_error(raw(flare, f"delete_job {job_id}", token), f"Job with ID {job_id} doesn't exist", "invalid_job_id",
                 job_id)  # fmt: skip
    assert flare_session.delete_job(other) is None
    with pytest.raises(JobNotFound, match=f"^no such job: {other}$"):
        flare_session.get_job_meta(other)
    assert wire(raw(flare, "list_jobs", token))[0] == {"type": "string", "data": "No jobs found."}


# =========================================================================================== download_job
def _download_zip(reply: Document) -> zipfile.ZipFile:
    assert len(reply.items) == 1 and reply.items[0].type.value == "string"
    return zipfile.ZipFile(io.BytesIO(base64.b64decode(reply.items[0].data, validate=True)))


def test_download_job_before_it_ran(flare: FakeFlareServer) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    for command in ("download_job", "job_mgmt.download_job"):
        reply = raw(flare, f"{command} {job_id}", token)
        assert reply.meta == {"status": "ok", "info": "", "job_id": job_id}
        assert list(reply.meta) == ["status", "info", "job_id"]
        archive = _download_zip(reply)
        names = archive.namelist()
        assert all(n.startswith(f"{job_id}/") for n in names)
        assert f"{job_id}/" not in names  # no entry for the top folder itself
        assert names[:2] == [f"{job_id}/job/", f"{job_id}/workspace/"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        assert [n for n in names if n.startswith(f"{job_id}/workspace/")] == [f"{job_id}/workspace/"]
        prefix = f"{job_id}/job/hello-numpy/"
        files = {n[len(prefix) :]: archive.read(n) for n in names if n.startswith(prefix) and not n.endswith("/")}
        source = folder_files(HELLO)
        assert set(files) == set(source)
        assert json.loads(files.pop("meta.json")) == {
            **json.loads(source.pop("meta.json")),
            "job_folder_name": "hello-numpy",
        }
        assert files == source
        for directory in ("app/", "app/config/", "app/custom/"):
            assert prefix + directory in names


def test_download_job_after_it_ran(flare: FakeFlareServer) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    flare.jobs.run_to_completion(job_id)
    archive = _download_zip(raw(flare, f"download_job {job_id}", token))
    prefix = f"{job_id}/workspace/"
    names = archive.namelist()
    files = sorted(n[len(prefix) :] for n in names if n.startswith(prefix) and not n.endswith("/"))
    assert files == [
        "app_server/config/config_fed_client.json",
        "app_server/config/config_fed_server.json",
        "app_server/custom/README.txt",
        "fl_app.txt",
        "log.txt",
        "meta.json",
        "models/server.npy",  # NPModelPersistor's default file; real 2.3.12 results hold no site logs
    ]
    for directory in ("app_server/", "models/"):
        assert prefix + directory in names
    assert not any(name.startswith((prefix + "site-1", prefix + "site-2")) for name in names)
    assert archive.read(prefix + "fl_app.txt") == b"app"
    assert json.loads(archive.read(prefix + "meta.json"))["job_id"] == job_id
    assert archive.read(prefix + "app_server/custom/README.txt") == (HELLO / "app/custom/README.txt").read_bytes()
    assert archive.read(prefix + "log.txt")
    assert all(n.startswith(f"{job_id}/") for n in names)


def test_download_job_upper_case_id_fails_in_the_store(flare: FakeFlareServer, flare_session: Session) -> None:
    """The handler uses the raw argument (reference 6.0), after the lowercased pre-check passed."""
    token = login(flare)
    job_id = submit(flare, token).upper()
    text = (
        "Exception occurred trying to get job from store: StorageException: "
        f"object /tmp/nvflare/jobs-storage/{job_id} does not exist"
    )
    assert text == messages.DOWNLOAD_STORE_ERROR.format(job_id=job_id)
    assert_error(raw(flare, f"download_job {job_id}", token), text)
    with pytest.raises(InternalError) as caught:
        flare_session.download_job_result(job_id)
    assert str(caught.value) == f"server internal error (error): {text}"


def test_download_job_unknown_and_missing_id(flare: FakeFlareServer, flare_session: Session) -> None:
    token = login(flare)
    assert_error(raw(flare, "download_job", token), "syntax error: missing job_id", "syntax_error", "missing job_id")
    assert_error(raw(flare, "download_job nope", token), "Job with ID nope doesn't exist", "invalid_job_id", "nope")
    with pytest.raises(JobNotFound, match=r"^no such job: nope$"):
        flare_session.download_job_result("nope")


def test_download_job_url_for_a_large_job(
    flare: FakeFlareServer, flare_session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(flare._state.config, "max_download_bytes", 1)
    monkeypatch.setattr(flare_session, "download_dir", str(tmp_path / "downloads"))
    token = login(flare)
    job_id = submit(flare, token)
    url = f"http://download.server.com/{job_id}"
    reply = raw(flare, f"download_job {job_id}", token)
    assert wire(reply) == [{"type": "string", "data": f"Download_URL:{url}"}]
    assert reply.meta == {"status": "ok", "info": "", "job_id": job_id, "job_download_url": url}
    assert list(reply.meta) == ["status", "info", "job_id", "job_download_url"]
    assert flare_session.download_job_result(job_id) == url
    assert not (tmp_path / "downloads" / job_id).exists()


def test_download_job_through_the_client(
    flare: FakeFlareServer, flare_session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "downloads"
    monkeypatch.setattr(flare_session, "download_dir", str(target))
    job_id = flare_session.submit_job(str(HELLO))
    flare.jobs.run_to_completion(job_id)
    path = flare_session.download_job_result(job_id)
    assert path == os.path.join(str(target), job_id)
    assert (Path(path) / "job/hello-numpy/app/custom/README.txt").read_bytes() == (
        HELLO / "app/custom/README.txt"
    ).read_bytes()
    assert (Path(path) / "workspace/models/server.npy").is_file()
    assert flare.audit[-1].command == f"job_mgmt.download_job {job_id}"


# ============================================================================================= abort_task
def test_abort_task_missing_job_id(flare: FakeFlareServer, flare_session: Session) -> None:
    text = "missing job_id (syntax is: abort_task job_id <client-name>)"
    assert_error(raw(flare, "abort_task", login(flare)), text)
    with pytest.raises(InternalError) as caught:
        flare_session.do_command("abort_task")
    assert str(caught.value) == f"server internal error (error): {text}"


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        ("nope", "invalid client(s): nope"),
        ("server", "invalid client(s): server"),
        ("client site-1", "invalid client(s): client"),
        ("site-1 site-7 x", "invalid client(s): site-7 x"),
    ],
)
def test_abort_task_target_errors(flare: FakeFlareServer, flare_session: Session, extra: str, text: str) -> None:
    token = login(flare)
    job_id = submit(flare, token)
    assert_error(raw(flare, f"abort_task {job_id} {extra}", token), text)
    with pytest.raises(InternalError) as caught:
        flare_session.do_command(f"abort_task {job_id} {extra}")
    assert str(caught.value) == f"server internal error (error): {text}"


def test_abort_task_without_clients(flare: FakeFlareServer) -> None:
    token = login(flare)
    flare.sites.disconnect()
    assert_error(raw(flare, "abort_task anything", token), "no clients available")


def test_abort_task_when_no_client_runs_the_job(flare: FakeFlareServer, flare_session: Session) -> None:
    """Real 2.3.12 sites answer "sent" for a job they run no process for (finished, submitted, unknown)."""
    token = login(flare)
    job_id = submit(flare, token)
    sent = "Abort signal has been sent to the current task."
    expected = [{"type": "table", "rows": [["CLIENT", "RESPONSE"], ["site-1", sent], ["site-2", sent]]}]
    for line in (f"abort_task {job_id}", "abort_task no-such-job", f"job_mgmt.abort_task {job_id} site-1 site-2"):
        reply = raw(flare, line, token)
        assert wire(reply) == expected, line
        assert reply.meta == {}
    result = flare_session.do_command(f"abort_task {job_id}")
    assert (result["data"], result["meta"], result["status"]) == (expected, {}, "SUCCESS")


def test_abort_task_while_the_job_runs(flare: FakeFlareServer, flare_session: Session, tmp_path: Path) -> None:
    flare.jobs.script_next(JobScript.hangs(), count=2)
    token = login(flare)
    job_id = submit(flare, token)
    only_site1 = submit(flare, token, write_job(tmp_path, "one", deploy_map={"app": ["server", "site-1"]}))
    flare.jobs.advance_to(job_id, "RUNNING")
    flare.jobs.advance_to(only_site1, "RUNNING")
    sent = "Abort signal has been sent to the current task."
    reply = raw(flare, f"abort_task {job_id.upper()}", token)
    assert wire(reply) == [{"type": "table", "rows": [["CLIENT", "RESPONSE"], ["site-1", sent], ["site-2", sent]]}]
    assert reply.meta == {}
    reply = raw(flare, f"abort_task {job_id} site-2", token)
    assert wire(reply) == [{"type": "table", "rows": [["CLIENT", "RESPONSE"], ["site-2", sent]]}]
    rows = [["CLIENT", "RESPONSE"], ["site-1", sent], ["site-2", sent]]
    assert wire(raw(flare, f"abort_task {only_site1}", token)) == [{"type": "table", "rows": rows}]
    assert flare_session.do_command(f"abort_task {only_site1}")["data"] == [{"type": "table", "rows": rows}]
    # abort_task leaves the job running
    assert flare.jobs.status(job_id).value == "RUNNING"


# ================================================================================= check_status, running
def test_check_status_while_a_job_runs(flare: FakeFlareServer, flare_session: Session, flare_clock) -> None:
    flare.jobs.script_next(JobScript.hangs())
    token = login(flare)
    job_id = submit(flare, token)
    flare.jobs.advance_to(job_id, "RUNNING")
    flare_clock.advance(12)
    reply = raw(flare, "check_status server", token)
    sites = [flare.sites.get(name) for name in flare.sites.connected()]
    last = [flare.sites.last_connect_time(s.name) for s in sites]
    assert wire(reply) == [
        {"type": "string", "data": "Engine status: started"},
        {"type": "table", "rows": [["JOB_ID", "APP NAME"], [job_id, "app"]]},
        {"type": "string", "data": "Registered clients: 2 "},
        {
            "type": "table",
            "rows": [["CLIENT", "TOKEN", "LAST CONNECT TIME"]]
            + [[s.name, s.token, time.asctime(time.localtime(t))] for s, t in zip(sites, last)],
        },
    ]
    assert reply.meta == {
        "status": "ok",
        "info": "",
        "server_status": "started",
        "server_start_time": flare.start_time,
        "jobs": [{"app_name": "app", "job_id": job_id}],
        "clients": [{"client_name": s.name, "client_last_conn_time": t} for s, t in zip(sites, last)],
    }
    assert list(reply.meta) == ["status", "info", "server_status", "server_start_time", "jobs", "clients"]
    assert [list(row) for row in reply.meta["jobs"]] == [["app_name", "job_id"]]
    client = raw(flare, "check_status client", token)
    assert wire(client) == [
        {
            "type": "table",
            "rows": [["CLIENT", "APP_NAME", "JOB_ID", "STATUS"], ["site-1", "app", job_id, "started"],
                     ["site-2", "app", job_id, "started"]],
        }
    ]  # fmt: skip
    assert client.meta == {}
    info = flare_session.get_system_info()
    assert info.server_info.status == "started"
    assert info.job_info == [JobInfo(app_name="app", job_id=job_id)]
    # after the job ends the engine is stopped again
    raw(flare, f"abort_job {job_id}", token)
    after = raw(flare, "check_status server", token)
    assert wire(after)[:2] == [
        {"type": "string", "data": "Engine status: stopped"},
        {"type": "table", "rows": [["JOB_ID", "APP NAME"]]},
    ]
    assert after.meta["jobs"] == []


def test_abort_task_on_a_finished_job(flare: FakeFlareServer, flare_session: Session) -> None:
    """A real 2.3.12 site has no run process for a finished job: get_status says STOPPED, so the signal is "sent"."""
    token = login(flare)
    job_id = submit(flare, token)
    flare.jobs.advance_to(job_id, "FINISHED:COMPLETED")
    sent = "Abort signal has been sent to the current task."
    reply = raw(flare, f"abort_task {job_id}", token)
    assert wire(reply) == [{"type": "table", "rows": [["CLIENT", "RESPONSE"], ["site-1", sent], ["site-2", sent]]}]
    assert flare_session.do_command(f"abort_task {job_id} site-1")["data"] == [
        {"type": "table", "rows": [["CLIENT", "RESPONSE"], ["site-1", sent]]}
    ]
    assert flare.jobs.status(job_id).value == "FINISHED:COMPLETED"


def test_check_status_client_while_a_job_is_dispatched(flare: FakeFlareServer, flare_session: Session) -> None:
    """A 2.3.12 site's job process says ``starting`` until it has synced with its parent, then ``started``."""
    flare.jobs.script_next(JobScript.hangs())
    token = login(flare)
    job_id = submit(flare, token)
    flare.jobs.advance_to(job_id, "DISPATCHED")
    header = ["CLIENT", "APP_NAME", "JOB_ID", "STATUS"]
    rows = [header, ["site-1", "app", job_id, "starting"], ["site-2", "app", job_id, "starting"]]
    assert wire(raw(flare, "check_status client", token)) == [{"type": "table", "rows": rows}]
    flare.jobs.advance_to(job_id, "RUNNING")
    statuses = flare_session.get_client_job_status()
    assert [(s["client_name"], s["status"]) for s in statuses] == [("site-1", "started"), ("site-2", "started")]
