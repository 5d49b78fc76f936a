"""Over TLS, our client tells which FLARE series a fake of each version is, and keeps working against it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakeserver import FakeFlareServer
from flare_api import FlareVersion, JobNotFound, Session, SessionClosed, new_secure_session
from tests.helpers import ADMIN

pytestmark = pytest.mark.fake_flare_only


@pytest.mark.parametrize("version", ["2.3", "2.4", "2.5", "2.6"])
def test_session_reads_the_servers_flare_version(version: str, tmp_path: Path) -> None:
    with FakeFlareServer(workspace=tmp_path, flare_version=version) as server:  # noqa: SIM117 (Python 3.9)
        with new_secure_session(ADMIN, server.startup_kit(ADMIN), timeout=10.0) as session:
            assert session.flare_version is FlareVersion.parse(version)
            assert session.list_jobs() == []
            with pytest.raises(JobNotFound):
                session.get_job_meta("no-such-job")


def test_flare_version_needs_a_login(tmp_path: Path) -> None:
    with FakeFlareServer(workspace=tmp_path) as server:
        session = Session(ADMIN, server.startup_kit(ADMIN))
        with pytest.raises(SessionClosed, match="not logged in"):
            _ = session.flare_version
