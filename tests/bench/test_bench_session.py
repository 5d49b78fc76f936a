"""Session ready time and get_system_info latency: our client and the real nvflare client, same server."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer
from flare_api import new_secure_session

ADMIN = "admin@nvidia.com"


def test_ours_session_ready(benchmark, bench_server: FakeFlareServer) -> None:
    kit = bench_server.startup_kit(ADMIN)
    ready: list[bool] = []

    def login() -> None:
        session = new_secure_session(ADMIN, kit, timeout=10.0)
        ready.append(session.is_ready())
        session.close()

    benchmark(login)
    assert ready and all(ready)


def test_ours_get_system_info(benchmark, bench_server: FakeFlareServer) -> None:
    with new_secure_session(ADMIN, bench_server.startup_kit(ADMIN), timeout=10.0) as session:
        info = benchmark(session.get_system_info)
    assert info.server_info.status == "stopped"


def test_nvflare_session_ready(benchmark, bench_server: FakeFlareServer, nvflare_flare_api) -> None:
    kit = str(bench_server.startup_kit(ADMIN))

    def login() -> None:
        nvflare_flare_api.new_secure_session(ADMIN, kit, timeout=10.0).close()

    benchmark.pedantic(login, rounds=5, iterations=1)


def test_nvflare_get_system_info(benchmark, bench_server: FakeFlareServer, nvflare_flare_api) -> None:
    session = nvflare_flare_api.new_secure_session(ADMIN, str(bench_server.startup_kit(ADMIN)), timeout=10.0)
    try:
        info = benchmark(session.get_system_info)
    finally:
        session.close()
    assert info.server_info.status == "stopped"


@pytest.mark.parametrize(
    ("command", "first"), [("list_jobs", "No jobs found."), ("check_status server", "Engine status: stopped")]
)
def test_ours_raw_command(benchmark, bench_server: FakeFlareServer, command: str, first: str) -> None:
    bench_server.reset()  # no jobs left by another test of the module
    with new_secure_session(ADMIN, bench_server.startup_kit(ADMIN), timeout=10.0) as session:
        reply = benchmark(session.do_command, command)
    assert reply["status"] == "SUCCESS" and reply["meta"]["status"] == "ok"
    assert reply["data"][0] == {"type": "string", "data": first}
