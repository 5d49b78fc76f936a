"""fakeserver.strategies produce what they say: valid jobs are accepted, each invalid kind is refused as named."""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeserver import FakeFlareServer
from fakeserver.model.project import ROLES, validate_project
from fakeserver.model.uploads import decode_upload
from fakeserver.strategies import (
    INVALID_KINDS,
    JobFolder,
    admin_users,
    command_lines,
    job_folders,
    job_metas,
    project_users,
    projects,
    raw_command_lines,
    roles,
    sites,
)
from flare_api import FlareError, Session
from flare_api.job_folder import submit_command_args

_SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeFlareServer]:
    with FakeFlareServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def session(server: FakeFlareServer) -> Iterator[Session]:
    with server.session("admin@nvidia.com", in_process=True) as admin:
        yield admin


@pytest.fixture()
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="strategies-") as folder:
        yield Path(folder)


@settings(suppress_health_check=_SUPPRESS)
@given(folder=job_folders())
def test_valid_job_folders_are_accepted(
    folder: JobFolder, server: FakeFlareServer, session: Session, scratch: Path
) -> None:
    assert folder.invalid is None and folder.refusal is None
    path = folder.write(scratch)
    decode_upload(*submit_command_args(path))
    job_id = session.submit_job(str(path))
    meta = session.get_job_meta(job_id)
    assert meta["deploy_map"] == folder.meta["deploy_map"]
    assert meta["job_folder_name"] == folder.name
    assert server.errors == []


@pytest.mark.parametrize("kind", sorted(INVALID_KINDS))
def test_each_invalid_kind_is_refused_with_its_exception(
    kind: str, server: FakeFlareServer, session: Session, scratch: Path
) -> None:
    refusal = INVALID_KINDS[kind]

    @settings(suppress_health_check=_SUPPRESS, max_examples=15)
    @given(folder=job_folders(invalid=[kind]))
    def check(folder: JobFolder) -> None:
        assert folder.invalid == kind and folder.refusal is refusal
        path = folder.write(scratch)
        with pytest.raises(refusal.server_error, match=re.escape(refusal.text)):
            decode_upload(*submit_command_args(path))
        jobs_before = len(session.list_jobs())
        with pytest.raises(refusal.client_error, match=re.escape(refusal.text)):
            session.submit_job(str(path))
        assert len(session.list_jobs()) == jobs_before
        assert server.errors == []

    check()


@given(folder=job_folders(invalid=None))
def test_any_invalid_kind_names_one_of_the_known_kinds(folder: JobFolder) -> None:
    assert folder.invalid in INVALID_KINDS
    assert "meta.json" in folder.files


@settings(max_examples=1)
@given(data=st.data())
def test_an_unknown_invalid_kind_is_an_error(data: st.DataObject) -> None:
    with pytest.raises(ValueError, match="unknown invalid kinds"):
        data.draw(job_folders(invalid=["no_such_kind"]))


@given(meta=job_metas(sites=("alpha", "beta", "gamma")))
def test_job_metas_only_name_the_given_sites(meta: dict) -> None:
    targets = {t for ts in meta["deploy_map"].values() for t in ts}
    assert targets <= {"alpha", "beta", "gamma", "server"} or targets in ({"@ALL"}, {"@all"}, {"@All"})
    assert set(meta.get("mandatory_clients", [])) <= {"alpha", "beta", "gamma"}
    assert 1 <= meta.get("min_clients", 1) <= 3


@settings(suppress_health_check=_SUPPRESS)
@given(line=command_lines())
def test_command_lines_succeed_for_a_project_admin(line: str, server: FakeFlareServer, session: Session) -> None:
    reply = session.do_command(line)
    assert reply["status"] == "SUCCESS", (line, reply)
    assert not [item for item in reply["data"] if item["type"] == "error"], (line, reply)
    assert server.errors == []


@settings(suppress_health_check=_SUPPRESS)
@given(line=raw_command_lines())
def test_raw_command_lines_never_crash_the_server(line: str, server: FakeFlareServer, session: Session) -> None:
    with contextlib.suppress(FlareError, ValueError):  # refusing a line is fine; crashing is not
        session.do_command(line)
    assert server.errors == []


@given(role=roles(), user=admin_users(), site=sites())
def test_roles_users_and_sites_are_valid(role: str, user, site) -> None:  # type: ignore[no-untyped-def]
    assert role in ROLES and user.role in ROLES
    local, _, domain = user.name.partition("@")
    assert local and "." in domain
    assert site.name.startswith("site-")


@given(project=projects())
def test_projects_pass_validation(project) -> None:  # type: ignore[no-untyped-def]
    validate_project(project)
    assert any(user.role == "project_admin" for user in project.admins)


@settings(max_examples=3, deadline=None, suppress_health_check=_SUPPRESS)
@given(data=st.data())
def test_a_generated_project_serves_and_its_users_log_in(data: st.DataObject) -> None:
    project = data.draw(projects(max_sites=2, max_admins=2))
    user = data.draw(project_users(project))
    with FakeFlareServer(project=project) as fake, fake.session(user, in_process=True) as admin:
        info = admin.get_system_info()
        assert sorted(c.name for c in info.client_info) == sorted(s.name for s in project.sites)


@given(project=projects())
def test_project_users_of_a_missing_role_is_an_error(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="no admin user with role"):
        project_users(project, role="nobody")
