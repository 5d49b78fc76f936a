"""Our client's job methods: argument checks before any I/O, command building, paths, downloads, do_command.

Reference 8.4–8.6 (FLARE API semantics) and 6.1 (the client side of submit_job and download_job).
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from flare_api import (
    InternalError,
    InvalidArgumentError,
    InvalidJobDefinition,
    JobNotFound,
    Session,
)
from flare_api.job_folder import submit_command_args
from flare_api.wire import split_command_line
from tests.helpers import login, raw, wire
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

HELLO = example_job()


@contextmanager
def no_request_reaches(server: FakeFlareServer) -> Iterator[None]:
    """Fail if anything reaches the server (read or audited) inside the block."""
    requests, audited, accepted = server.stats.requests, len(server.audit), server.stats.accepted
    yield
    assert server.stats.requests == requests
    assert server.stats.accepted == accepted
    assert len(server.audit) == audited


def last_command(server: FakeFlareServer) -> str:
    return server.audit[-1].command


def tree_snapshot(root: Path) -> dict[str, Any]:
    """Everything under ``root`` (and ``root`` itself): kind, mode, mtime, and file content."""
    snapshot: dict[str, Any] = {}
    for path in [root, *sorted(root.rglob("*"))]:
        info = os.lstat(path)
        content = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
        snapshot[path.relative_to(root).as_posix()] = (stat.S_IFMT(info.st_mode), info.st_mode, info.st_mtime_ns,
                                                       content)  # fmt: skip
    return snapshot


# ===================================================================================== _validate_job_id
JOB_ID_METHODS: dict[str, Callable[[Session, Any], Any]] = {
    "clone_job": lambda s, j: s.clone_job(j),
    "get_job_meta": lambda s, j: s.get_job_meta(j),
    "get_job_status": lambda s, j: s.get_job_status(j),
    "download_job_result": lambda s, j: s.download_job_result(j),
    "abort_job": lambda s, j: s.abort_job(j),
    "delete_job": lambda s, j: s.delete_job(j),
    "monitor_job": lambda s, j: s.monitor_job(j, timeout=5, poll_interval=1),
    "monitor_job_and_return_job_meta": lambda s, j: s.monitor_job_and_return_job_meta(j),
    "wait_for_job": lambda s, j: s.wait_for_job(j, timeout=5),
}
BAD_JOB_IDS = [
    (None, "job_id is required but not specified."),
    ("", "job_id is required but not specified."),
    (0, "job_id is required but not specified."),
    ([], "job_id is required but not specified."),
    (5, "invalid job_id 5"),
    (1.5, "invalid job_id 1.5"),
    (b"abc", "invalid job_id b'abc'"),
    (["x"], "invalid job_id ['x']"),
    (uuid.UUID(int=1), "invalid job_id 00000000-0000-0000-0000-000000000001"),
]


@pytest.mark.parametrize("method", list(JOB_ID_METHODS))
@pytest.mark.parametrize(("job_id", "message"), BAD_JOB_IDS, ids=[repr(v) for v, _ in BAD_JOB_IDS])
def test_job_id_is_checked_before_any_io(
    flare: FakeFlareServer, flare_session: Session, method: str, job_id: Any, message: str
) -> None:
    with no_request_reaches(flare), pytest.raises(JobNotFound) as caught:
        JOB_ID_METHODS[method](flare_session, job_id)
    assert str(caught.value) == message
    assert type(caught.value) is JobNotFound


def test_monitor_job_with_a_bad_id_does_not_sleep(flare_session: Session, flare_clock) -> None:
    now = flare_clock.time()
    with pytest.raises(JobNotFound):
        flare_session.monitor_job(None, poll_interval=10)
    assert flare_clock.time() == now


# ========================================================================================= list_jobs args
LIST_ARG_ERRORS = [
    ({"detailed": "yes"}, "detailed must be bool but got <class 'str'>"),
    ({"detailed": 1}, "detailed must be bool but got <class 'int'>"),
    ({"detailed": None}, "detailed must be bool but got <class 'NoneType'>"),
    ({"reverse": 0}, "reverse must be bool but got <class 'int'>"),
    ({"reverse": "no"}, "reverse must be bool but got <class 'str'>"),
    ({"limit": "1"}, "limit must be None or int but got <class 'str'>"),
    ({"limit": 1.0}, "limit must be None or int but got <class 'float'>"),
    ({"id_prefix": 5}, "id_prefix must be None or str but got <class 'int'>"),
    ({"id_prefix": b"ab"}, "id_prefix must be None or str but got <class 'bytes'>"),
    ({"name_prefix": ["x"]}, "name_prefix must be None or str but got <class 'list'>"),
    # FLARE's order of checks: detailed, reverse, limit, id_prefix, name_prefix
    ({"detailed": "x", "reverse": "y"}, "detailed must be bool but got <class 'str'>"),
    (
        {"name_prefix": 1, "id_prefix": 2, "limit": "3", "reverse": None},
        "reverse must be bool but got <class 'NoneType'>",
    ),
    ({"name_prefix": 1, "id_prefix": 2, "limit": "3"}, "limit must be None or int but got <class 'str'>"),
    ({"name_prefix": 1, "id_prefix": 2}, "id_prefix must be None or str but got <class 'int'>"),
]


@pytest.mark.parametrize(("kwargs", "message"), LIST_ARG_ERRORS)
def test_list_jobs_argument_errors(flare: FakeFlareServer, flare_session: Session, kwargs: dict, message: str) -> None:
    with no_request_reaches(flare), pytest.raises(ValueError) as caught:
        flare_session.list_jobs(**kwargs)
    assert str(caught.value) == message
    assert isinstance(caught.value, InvalidArgumentError)


@pytest.mark.parametrize("kwargs", [{"id_prefix": "-d"}, {"name_prefix": "-x"}])
def test_list_jobs_refuses_prefixes_the_server_would_read_as_options(
    flare: FakeFlareServer, flare_session: Session, kwargs: dict
) -> None:
    """Ours, not FLARE's (FLARE would send them and get an argparse error or a wrong listing)."""
    (label,) = kwargs
    with no_request_reaches(flare), pytest.raises(InvalidArgumentError) as caught:
        flare_session.list_jobs(**kwargs)
    assert str(caught.value) == f"{label} must not start with '-' (the server would read it as an option)"


def test_list_jobs_bool_limit_is_refused(flare: FakeFlareServer, flare_session: Session) -> None:
    """Ours is stricter than FLARE here: FLARE's ``isinstance(limit, int)`` lets bools through."""
    with no_request_reaches(flare), pytest.raises(InvalidArgumentError) as caught:
        flare_session.list_jobs(limit=True)
    assert str(caught.value) == "limit must be None or int but got <class 'bool'>"


@pytest.mark.parametrize(
    ("kwargs", "line"),
    [
        ({}, "list_jobs"),
        ({"limit": 0, "id_prefix": "", "name_prefix": "", "detailed": False, "reverse": False}, "list_jobs"),
        ({"limit": None, "id_prefix": None, "name_prefix": None}, "list_jobs"),
        ({"reverse": True}, "list_jobs -r"),
        ({"limit": 3, "detailed": True}, "list_jobs -d -m 3"),
        ({"limit": -2}, "list_jobs -m -2"),
        ({"id_prefix": "ab", "name_prefix": "x"}, "list_jobs -n x ab"),
        ({"id_prefix": "7653", "name_prefix": "hello", "limit": 1, "reverse": True, "detailed": True},
         "list_jobs -d -r -m 1 -n hello 7653"),
    ],
)  # fmt: skip
def test_list_jobs_command_building(flare: FakeFlareServer, flare_session: Session, kwargs: dict, line: str) -> None:
    assert flare_session.list_jobs(**kwargs) == []
    assert last_command(flare) == line


def test_list_jobs_all_options_against_a_matching_job(
    flare: FakeFlareServer, flare_session: Session, flare_clock
) -> None:
    flare.jobs.script(JobScript(queued=1e6))
    flare_session.submit_job(str(HELLO))
    flare_clock.advance(1)
    job_id = flare_session.submit_job(str(HELLO))
    prefix = job_id[:4]
    result = flare_session.list_jobs(detailed=True, limit=1, id_prefix=prefix, name_prefix="hello", reverse=True)
    assert last_command(flare) == f"list_jobs -d -r -m 1 -n hello {prefix}"
    assert result == [flare.jobs.meta(job_id)]  # the newest match, as the full meta (-d)


def test_list_jobs_quotes_prefixes_with_spaces(flare: FakeFlareServer, flare_session: Session, tmp_path: Path) -> None:
    spaced = flare_session.submit_job(
        str(write_job(tmp_path, "spaced", meta={"name": "hello world", "deploy_map": {"app": ["@ALL"]}}))
    )
    flare_session.submit_job(str(write_job(tmp_path, "hello-worlds")))
    quoted = flare_session.submit_job(
        str(write_job(tmp_path, "quoted", meta={"name": 'say "hi" twice', "deploy_map": {"app": ["@ALL"]}}))
    )
    assert [j["job_id"] for j in flare_session.list_jobs(name_prefix="Hello World")] == [spaced]
    assert last_command(flare) == 'list_jobs -n "Hello World"'
    assert split_command_line(last_command(flare)) == ["list_jobs", "-n", "Hello World"]
    assert [j["job_id"] for j in flare_session.list_jobs(name_prefix='say "hi')] == [quoted]
    assert last_command(flare) == 'list_jobs -n "say \\"hi"'
    assert split_command_line(last_command(flare)) == ["list_jobs", "-n", 'say "hi']
    assert flare_session.list_jobs(id_prefix=spaced[:4] + " x", reverse=True) == []
    assert last_command(flare) == f'list_jobs -r "{spaced[:4]} x"'


# ========================================================================================= submit_job path
def test_submit_absolute_path(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = flare_session.submit_job(str(HELLO))
    name, payload = submit_command_args(HELLO)
    assert last_command(flare) == f"job_mgmt.submit_job {name} {payload}"[:100]
    assert flare.jobs.meta(job_id)["job_folder_name"] == "hello-numpy"


@pytest.mark.parametrize("suffix", ["/", "//"])
def test_submit_path_with_trailing_slash(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path, suffix: str
) -> None:
    folder = write_job(tmp_path, "slashed")
    job_id = flare_session.submit_job(str(folder) + suffix)
    assert last_command(flare).startswith("job_mgmt.submit_job slashed UEsDB")
    assert flare.jobs.meta(job_id)["job_folder_name"] == "slashed"


def test_submit_path_object(flare: FakeFlareServer, flare_session: Session, tmp_path: Path) -> None:
    job_id = flare_session.submit_job(write_job(tmp_path, "as-path"))
    assert flare.jobs.meta(job_id)["name"] == "as-path"


@pytest.mark.parametrize("relative", ["cwd-job", "./cwd-job", "cwd-job/", "nested/../cwd-job"])
def test_submit_path_relative_to_the_cwd(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: str
) -> None:
    write_job(tmp_path, "cwd-job")
    (tmp_path / "nested").mkdir()
    monkeypatch.chdir(tmp_path)
    job_id = flare_session.submit_job(relative)
    assert flare.jobs.meta(job_id)["name"] == "cwd-job"
    assert last_command(flare).startswith("job_mgmt.submit_job cwd-job ")


@pytest.fixture
def in_upload_dir(flare_session: Session) -> Iterator[Path]:
    """A uniquely named scratch folder inside the session's (shared) upload_dir, removed afterwards."""
    scratch = Path(flare_session.upload_dir) / f"scratch-{uuid.uuid4().hex}"
    scratch.mkdir(parents=True)
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_submit_path_relative_to_upload_dir(
    flare: FakeFlareServer,
    flare_session: Session,
    in_upload_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_job(in_upload_dir, "up-job")
    monkeypatch.chdir(tmp_path)  # nothing of that name here
    relative = f"{in_upload_dir.name}/up-job"
    job_id = flare_session.submit_job(relative)
    assert flare.jobs.meta(job_id)["name"] == "up-job"
    # with the same relative path under the CWD as well, upload_dir wins (what FLARE's upload step sends)
    write_job(tmp_path / in_upload_dir.name, "up-job", meta={"name": "from-cwd", "deploy_map": {"app": ["@ALL"]}})
    second = flare_session.submit_job(relative + "/")
    assert flare.jobs.meta(second)["name"] == "up-job"


@pytest.mark.parametrize(
    ("path", "exc", "message"),
    [
        (None, InvalidJobDefinition, "job_definition_path is required but not specified."),
        ("", InvalidJobDefinition, "job_definition_path is required but not specified."),
        (5, InvalidJobDefinition, "job_definition_path must be str but got <class 'int'>."),
        (b"/tmp", InvalidJobDefinition, "job_definition_path must be str but got <class 'bytes'>."),
        (["a"], InvalidJobDefinition, "job_definition_path must be str but got <class 'list'>."),
        ("no-such-folder-anywhere", InvalidJobDefinition,
         "job_definition_path 'no-such-folder-anywhere' is not a valid folder"),
        ("/no/such/abs/folder/", InvalidJobDefinition,
         "job_definition_path '/no/such/abs/folder/' is not a valid folder"),
    ],
)  # fmt: skip
def test_submit_path_errors_before_any_io(
    flare: FakeFlareServer,
    flare_session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: Any,
    exc: type,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with no_request_reaches(flare), pytest.raises(exc) as caught:
        flare_session.submit_job(path)
    assert str(caught.value) == message


def test_submit_a_file_is_not_a_valid_folder(flare: FakeFlareServer, flare_session: Session, tmp_path: Path) -> None:
    file = tmp_path / "meta.json"
    file.write_text("{}")
    with no_request_reaches(flare), pytest.raises(InvalidJobDefinition) as caught:
        flare_session.submit_job(str(file))
    assert str(caught.value) == f"job_definition_path '{file}' is not a valid folder"


def test_submit_writes_nothing_into_the_folder(flare: FakeFlareServer, flare_session: Session, tmp_path: Path) -> None:
    folder = write_job(tmp_path / "parent", "untouched", deploy_map={"a": ["server", "site-1"], "b": ["site-2"]})
    (folder / "a" / "custom").mkdir()
    (folder / "a" / "custom" / "code.py").write_text("print('hi')\n")
    (folder / "empty-dir").mkdir()
    os.chmod(folder / "a" / "custom" / "code.py", 0o444)
    before_parent = tree_snapshot(tmp_path)
    job_id = flare_session.submit_job(str(folder))
    assert flare.jobs.meta(job_id)["status"] == "SUBMITTED"
    assert tree_snapshot(tmp_path) == before_parent
    # a failing submission leaves it alone too
    (folder / "meta.json").write_text('{"deploy_map": {}}')
    before = tree_snapshot(tmp_path)
    with pytest.raises(InvalidJobDefinition):
        flare_session.submit_job(str(folder))
    assert tree_snapshot(tmp_path) == before


def test_submit_read_only_folder(flare: FakeFlareServer, flare_session: Session, tmp_path: Path) -> None:
    """FLARE signs in place and fails on a read-only folder (8.5); ours only reads."""
    folder = write_job(tmp_path, "readonly")
    modes = {}
    for path in [folder, *folder.rglob("*")]:
        modes[path] = path.stat().st_mode
    try:
        for path in sorted(modes, key=lambda p: len(p.parts), reverse=True):
            path.chmod(modes[path] & ~0o222)
        assert flare.jobs.meta(flare_session.submit_job(str(folder)))["name"] == "readonly"
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


# ===================================================================================== download_job_result
def test_download_job_result_layout_and_overwrite(
    flare: FakeFlareServer, flare_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "not-yet" / "downloads"
    monkeypatch.setattr(flare_session, "download_dir", str(target))
    job_id = flare_session.submit_job(str(HELLO))
    first = Path(flare_session.download_job_result(job_id))
    assert first == target / job_id
    assert sorted(p.name for p in first.iterdir()) == ["job", "workspace"]
    assert list((first / "workspace").iterdir()) == []  # before the job ran
    assert (first / "job/hello-numpy/app/config/config_fed_server.json").read_bytes() == (
        HELLO / "app/config/config_fed_server.json"
    ).read_bytes()
    assert sorted(p.name for p in target.iterdir()) == [job_id]
    flare.jobs.run_to_completion(job_id)
    # an earlier download is overwritten in place; files the server does not send stay (nothing is cleaned)
    (first / "job/hello-numpy/app/custom/README.txt").write_text("changed locally")
    (first / "job/hello-numpy/meta.json").unlink()
    (first / "stray.txt").write_text("mine")
    second = Path(flare_session.download_job_result(job_id))
    assert second == first
    assert (first / "job/hello-numpy/app/custom/README.txt").read_bytes() == (
        HELLO / "app/custom/README.txt"
    ).read_bytes()
    assert (first / "job/hello-numpy/meta.json").is_file()
    assert (first / "stray.txt").read_text() == "mine"
    workspace = sorted(p.relative_to(first / "workspace").as_posix() for p in (first / "workspace").rglob("*")
                       if p.is_file())  # fmt: skip
    assert workspace == [
        "app_server/config/config_fed_client.json",
        "app_server/config/config_fed_server.json",
        "app_server/custom/README.txt",
        "fl_app.txt",
        "log.txt",
        "meta.json",
        "models/server.npy",  # NPModelPersistor's default file; real 2.3.12 results hold no site logs
    ]
    assert last_command(flare) == f"job_mgmt.download_job {job_id}"


def test_download_job_result_into_the_kits_download_dir(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = flare_session.submit_job(str(HELLO))
    path = os.path.join(flare_session.download_dir, job_id)
    shutil.rmtree(path, ignore_errors=True)  # job ids repeat after each reset of the per-worker server
    try:
        assert flare_session.download_job_result(job_id) == path
        assert os.path.isfile(os.path.join(path, "job", "hello-numpy", "meta.json"))
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ============================================================================================= do_command
def test_do_command_returns_the_reply_as_a_dict(flare: FakeFlareServer, flare_session: Session) -> None:
    job_id = flare_session.submit_job(str(HELLO))
    expected = raw(flare, f"get_job_meta {job_id}", login(flare))
    result = flare_session.do_command(f"get_job_meta {job_id}")
    assert set(result) == {"time", "data", "meta", "status"}
    assert isinstance(result["time"], str)
    assert result["data"] == wire(expected) == [{"type": "dict", "data": flare.jobs.meta(job_id)}]
    assert result["meta"] == expected.meta
    assert result["status"] == "SUCCESS"
    scoped = flare_session.do_command("job_mgmt.list_jobs")
    assert scoped["meta"]["jobs"][0]["job_id"] == job_id and scoped["status"] == "SUCCESS"


def test_do_command_accepts_replies_without_meta(flare: FakeFlareServer, flare_session: Session) -> None:
    result = flare_session.do_command("check_status client")
    assert result["meta"] == {} and result["status"] == "SUCCESS"
    assert result["data"][0]["rows"][0] == ["CLIENT", "APP_NAME", "JOB_ID", "STATUS"]


def test_do_command_maps_errors_or_returns_them(flare: FakeFlareServer, flare_session: Session) -> None:
    with pytest.raises(JobNotFound, match=r"^no such job: nope$"):
        flare_session.do_command("get_job_meta nope")
    result = flare_session.do_command("get_job_meta nope", raise_errors=False)
    assert result["data"] == [{"type": "error", "data": "Job with ID nope doesn't exist"}]
    assert result["meta"] == {"status": "invalid_job_id", "info": "nope"}
    assert result["status"] == "SUCCESS"  # FLARE's client status: no tell-tale substring in the text
    invalid = flare_session.do_command("check_status client nope", raise_errors=False)
    assert invalid["meta"] == {"status": "error", "info": "invalid client(s): nope"}
    assert invalid["status"] == "ERROR_INVALID_CLIENT"


@pytest.mark.parametrize(
    ("command", "exc", "message"),
    [
        ("", InvalidArgumentError, "command must be a non-empty str, got ''"),
        ("   ", InvalidArgumentError, "command must be a non-empty str, got '   '"),
        (None, InvalidArgumentError, "command must be a non-empty str, got None"),
        ("nope", InternalError, "protocol error: ERROR_SYNTAX: Command nope not found"),
        ("job_mgmt.nope 1", InternalError, "protocol error: ERROR_SYNTAX: Command job_mgmt.nope not found"),
    ],
)
def test_do_command_refuses_locally(
    flare: FakeFlareServer, flare_session: Session, command: Any, exc: type, message: str
) -> None:
    with no_request_reaches(flare), pytest.raises(exc) as caught:
        flare_session.do_command(command)
    assert str(caught.value) == message
