"""Our client's file transfers against a fake of every FLARE series, over TLS and in-process: 2.3/2.4 base64
submit, 2.5+ binary push, 2.3 base64 download, 2.4 chunk-stream and 2.5+ binary pulls, 2.6 components."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from fakeserver.model.uploads import MAX_ENTRIES
from flare_api import (
    AuthorizationError,
    InternalError,
    InvalidJobDefinition,
    JobNotFound,
    Session,
    new_secure_session,
)
from flare_api.errors import ConnectionLost
from flare_api.wire import join_command_line
from tests.helpers import ADMIN, login, transport
from tests.jobfolders import write_job

pytestmark = pytest.mark.fake_flare_only

FAST = JobScript(queued=Phase.after(0.05), deploying=Phase.after(0.05), running=Phase.after(0.2))
MISSING = "00000000-0000-4000-8000-000000000000"
VERSIONS = ["2.3", "2.4", "2.5", "2.6"]
MEMBER = "member@nvidia.com"


@pytest.fixture(params=VERSIONS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    """A fake of one FLARE series answering over TLS only (the client's TLS transport is what is tested)."""
    workspace = tmp_path_factory.mktemp(f"transfer-{request.param}")
    with FakeFlareServer(
        workspace=workspace, default_script=FAST, intercept=False, flare_version=request.param
    ) as fake:
        yield fake
        fake.raise_errors()


@pytest.fixture
def session(server: FakeFlareServer) -> Iterator[Session]:
    with new_secure_session(ADMIN, server.startup_kit(ADMIN), timeout=10.0) as opened:
        yield opened


def _finished_job(session: Session) -> str:
    job_id = session.submit_job(str(example_job()))
    session.wait_for_job(job_id, 30.0, 0.05)
    return job_id


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_submit_goes_as_the_series_sends_it(server: FakeFlareServer, session: Session) -> None:
    job_id = session.submit_job(str(example_job()))
    submit = [call for call in server.calls if call.command == "submit_job"][-1]
    words = submit.line.split(" ")
    if server.flare_version.value in ("2.3", "2.4"):
        assert words[:2] == ["job_mgmt.submit_job", "hello-numpy"] and words[2].startswith("UEsDB")  # base64 zip
    else:
        assert words == ["job_mgmt.submit_job", "hello-numpy"]  # the zip came as the binary body
    meta = session.get_job_meta(job_id)
    assert meta["job_folder_name"] == "hello-numpy" and meta["submitter_name"] == ADMIN


def test_download_lands_where_the_series_client_puts_it(server: FakeFlareServer, session: Session) -> None:
    job_id = _finished_job(session)
    path = Path(session.download_job_result(job_id))
    assert path == Path(session.download_dir) / job_id
    assert (path / "job" / "hello-numpy" / "meta.json").is_file()
    assert (path / "workspace" / "log.txt").is_file()
    assert not list(path.rglob("*.zip"))
    if server.flare_version.value == "2.3":
        assert not (path / "meta.json").exists()
        return
    assert json.loads((path / "meta.json").read_text())["job_id"] == job_id  # 2.4+: the job meta beside job/
    again = Path(session.download_job_result(job_id))
    assert again == Path(session.download_dir) / f"{job_id}__1"
    assert _tree(again) == _tree(path)
    assert not [p for p in Path(session.download_dir).iterdir() if "__" in p.name and not p.name.endswith("__1")]
    pulls = [call for call in server.calls if call.command == "download_job_file"]
    assert len(pulls) == 6 and all(call.status == "ok" for call in pulls)  # job.zip, meta.json, workspace.zip twice
    assert len(server._state.transfers) == 0  # every download ended with "end"


def test_a_job_that_never_ran_downloads_without_workspace(server: FakeFlareServer, session: Session) -> None:
    if server.flare_version.value == "2.3":
        pytest.skip("2.3 sends an empty workspace/ folder in its zip")
    server.jobs.script_next(JobScript(queued=Phase.after(3600)))
    job_id = session.submit_job(str(example_job()))
    path = Path(session.download_job_result(job_id))
    assert sorted(p.name for p in path.iterdir()) == ["job", "meta.json"]


def test_invalid_job_texts_per_series(server: FakeFlareServer, session: Session, tmp_path: Path) -> None:
    bad = write_job(tmp_path, "empty_deploy", deploy_map={})
    prefix = "ValueError: " if server.flare_version.value == "2.3" else ""
    with pytest.raises(InvalidJobDefinition) as caught:
        session.submit_job(str(bad))
    assert str(caught.value) == f"invalid job definition: {prefix}deploy_map is empty for job empty_deploy"
    nometa = tmp_path / "legacy"
    (nometa / "config").mkdir(parents=True)
    (nometa / "config" / "config_fed_server.json").write_text("{}")
    if server.flare_version.value == "2.3":
        return  # 2.3 converts a legacy app instead
    with pytest.raises(InvalidJobDefinition, match=r"meta\.\[json\|conf\|yml\] not existing for job legacy"):
        session.submit_job(str(nometa))
    missing_app = write_job(tmp_path, "noapp", deploy_map={"app": ["@ALL"]})
    for item in sorted((missing_app / "app").rglob("*"), reverse=True):
        item.unlink() if item.is_file() else item.rmdir()
    (missing_app / "app").rmdir()
    with pytest.raises(InvalidJobDefinition, match=r"^invalid job definition: App 'app' in deploy_map doesn't exist"):
        session.submit_job(str(missing_app))


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _upload(server: FakeFlareServer, session: Session, folder: str, data: bytes) -> None:
    """Send ``data`` as the job zip, the way the series' client carries it."""
    if server.flare_version.value in ("2.5", "2.6"):
        session._do_push(join_command_line(["job_mgmt.submit_job", folder]), data, label="submit_job")
    else:
        encoded = base64.b64encode(data).decode("ascii")
        session._do_command(join_command_line(["job_mgmt.submit_job", folder, encoded]), label="submit_job")


def test_hostile_uploads_are_refused_with_the_same_limits(server: FakeFlareServer, session: Session) -> None:
    traversal = _zip({"x/meta.json": b"{}", "x/../../evil": b"!"})
    with pytest.raises(InvalidJobDefinition, match=r"unsafe zip entry 'x/\.\./\.\./evil' \('\.\.' path segment\)"):
        _upload(server, session, "x", traversal)
    many = _zip({f"x/{i}": b"" for i in range(MAX_ENTRIES + 1)})
    with pytest.raises(InvalidJobDefinition, match=f"more than the limit of {MAX_ENTRIES}"):
        _upload(server, session, "x", many)
    if server.flare_version.value != "2.3":
        with pytest.raises(InternalError, match=r"^server internal error: exception <class 'zipfile.BadZipFile'>"):
            _upload(server, session, "x", b"not a zip")
        assert server.calls[-1].summary.startswith("Exception occurred trying to submit job: BadZipFile: ")
    assert session.list_jobs() == []


def test_an_empty_push_or_a_text_submit_to_a_binary_server(server: FakeFlareServer, session: Session) -> None:
    if server.flare_version.value not in ("2.5", "2.6"):
        pytest.skip("only 2.5+ servers read binary requests")
    with pytest.raises(InternalError, match=r"^server internal error: no data received$"):
        session._do_push("job_mgmt.submit_job x", b"", label="submit_job")
    with pytest.raises(InternalError, match=r"^server internal error: exception <class 'TypeError'> occurred$"):
        session._do_command("job_mgmt.submit_job x eA==", label="submit_job")
    assert server.calls[-1].summary == (
        "Exception occurred trying to submit job: TypeError: job_data must be bytes or str but got <class 'NoneType'>"
    )


def test_download_refusals(server: FakeFlareServer, session: Session) -> None:
    with pytest.raises(JobNotFound):
        session.download_job_result(MISSING)
    if server.flare_version.value == "2.3":
        return
    job_id = _finished_job(session)
    with pytest.raises(InternalError, match=r"^syntax error: $"):
        session._do_command("download_job_file nope")
    with pytest.raises(ConnectionLost):  # an unknown transaction: the server sends nothing, as FLARE's does
        session._do_pull(
            join_command_line(["download_job_file", MISSING, job_id, "job.zip", "end"]),
            _framing(server),
            label="pull",
        )
    member = new_secure_session(MEMBER, server.startup_kit(MEMBER), timeout=10.0)
    with member, pytest.raises(AuthorizationError, match="download_job"):
        member.download_job_result(job_id)


def _framing(server: FakeFlareServer):  # type: ignore[no-untyped-def]
    framing = server.flare_version.pull_framing
    assert framing is not None
    return framing


def test_a_pull_of_another_users_job_is_authorized_like_its_download(server: FakeFlareServer, session: Session) -> None:
    if server.flare_version.value == "2.3":
        pytest.skip("no pulls in 2.3")
    job_id = _finished_job(session)
    opened = session._do_command(join_command_line(["download_job", job_id])).meta
    with new_secure_session(MEMBER, server.startup_kit(MEMBER), timeout=10.0) as member:
        line = join_command_line(["download_job_file", opened["tx_id"], job_id, "meta.json"])
        with pytest.raises(AuthorizationError, match="download_job_file"):
            member._do_pull(line, _framing(server), label="pull")
    data = session._do_pull(line + " end", _framing(server), label="pull")
    assert json.loads(data)["job_id"] == job_id


def test_download_job_components(server: FakeFlareServer, session: Session) -> None:
    job_id = _finished_job(session)
    if server.flare_version.value != "2.6":
        with pytest.raises(InternalError, match="no download_job_components"):
            session.download_job_components(job_id)
        return
    # as a real 2.6.3 answers: a plain job has no components, an unknown id fails in the store
    with pytest.raises(InternalError, match=r"^error: No data to download$"):
        session.download_job_components(job_id)
    with pytest.raises(InternalError, match=r"^server internal error: $"):
        session.download_job_components(MISSING)
    assert not list(Path(session.download_dir).iterdir())


@pytest.mark.parametrize("version", ["2.4", "2.5", "2.6"])
def test_in_process_transfers_are_the_same(version: str, tmp_path: Path) -> None:
    with FakeFlareServer(workspace=tmp_path, default_script=FAST, flare_version=version) as server:  # noqa: SIM117
        with new_secure_session(ADMIN, server.startup_kit(ADMIN), timeout=10.0) as session:
            job_id = _finished_job(session)
            path = Path(session.download_job_result(job_id))
            assert sorted(p.name for p in path.iterdir()) == ["job", "meta.json", "workspace"]
            assert [call.transport for call in server.calls][-1] == "in_process"


def test_raw_login_then_pull_of_job_zip_is_the_stored_zip(tmp_path: Path) -> None:
    """The ``job.zip`` pulled is the zip as uploaded (2.4+ stores it unchanged)."""
    with FakeFlareServer(workspace=tmp_path, default_script=FAST, intercept=False, flare_version="2.5") as server:
        token = login(server)
        job_zip = _zip({"j/meta.json": json.dumps({"name": "j", "deploy_map": {"app": ["@ALL"]}}).encode(),
                        "j/app/config/": b"", "j/app/config/config_fed_server.json": b"{}",
                        "j/app/config/config_fed_client.json": b"{}"})  # fmt: skip
        reply = transport(server).push("job_mgmt.submit_job j", token, job_zip)
        assert reply is not None and reply.meta["status"] == "ok", reply
        job_id = reply.meta["job_id"]
        opened = transport(server).request(f"download_job {job_id}", token)
        assert opened is not None and opened.meta["files"] == ["job.zip", "meta.json"]
        pulled = transport(server).pull(
            f"download_job_file {opened.meta['tx_id']} {job_id} job.zip end", token, _framing(server)
        )
        assert pulled == job_zip
