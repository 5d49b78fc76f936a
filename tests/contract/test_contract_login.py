"""The real nvflare 2.3.12 FLARE API logs in to the fake server as every role (issue: walking skeleton)."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer
from flare_api import new_secure_session
from tests.helpers import USERS


def _system_info_fields(info) -> tuple:
    return (
        info.server_info.status,
        info.server_info.start_time,
        [(c.name, c.last_connect_time) for c in info.client_info],
        [(j.job_id, j.app_name) for j in info.job_info],
    )


@pytest.mark.parametrize("user", USERS)
def test_real_client_logs_in_and_reads_system_info(nvflare_api, real_clock_server: FakeFlareServer, user: str) -> None:
    kit = str(real_clock_server.startup_kit(user))
    session = nvflare_api.new_secure_session(user, kit, timeout=15.0)
    try:
        real_info = session.get_system_info()
    finally:
        session.close()
    with new_secure_session(user, kit, timeout=15.0) as ours:
        our_info = ours.get_system_info()
    assert real_info.server_info.status == "stopped"
    assert [c.name for c in real_info.client_info] == ["site-1", "site-2"]
    # both clients read the same reply into the same values (the heartbeat time may tick in between)
    assert _system_info_fields(real_info)[:2] == _system_info_fields(our_info)[:2]
    assert [c.name for c in our_info.client_info] == [c.name for c in real_info.client_info]
    assert str(real_info).splitlines()[:3] == str(our_info).splitlines()[:3]


def test_real_client_wrong_user_is_rejected(nvflare_api, real_clock_server: FakeFlareServer) -> None:
    kit = str(real_clock_server.startup_kit("admin@nvidia.com"))
    before = len(real_clock_server.sessions)
    with pytest.raises(nvflare_api.NoConnection, match="cannot connect to FLARE in 3 seconds"):
        nvflare_api.new_secure_session("lead@nvidia.com", kit, timeout=3)
    assert len(real_clock_server.sessions) == before  # REJECT: no session was created


def test_real_client_sees_target_errors_exactly(nvflare_api, real_clock_server: FakeFlareServer) -> None:
    kit = str(real_clock_server.startup_kit("admin@nvidia.com"))
    session = nvflare_api.new_secure_session("admin@nvidia.com", kit, timeout=15.0)
    try:
        raw = session.api.do_command("check_status bogus")
        assert raw["data"] == [{"type": "error", "data": "unknown target type bogus"}]
        assert raw["meta"] == {"status": "error", "info": "unknown target type bogus"}
    finally:
        session.close()
