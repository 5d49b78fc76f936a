"""Server-side costs: provisioning, start-up, reset, and request throughput with concurrent clients."""

from __future__ import annotations

import threading

import pytest

from fakeserver import FakeFlareServer, provision

ADMIN = "admin@nvidia.com"


def test_provision_default_project(benchmark, tmp_path) -> None:
    counter = iter(range(10_000))
    benchmark.pedantic(lambda: provision(workspace=tmp_path / str(next(counter))), rounds=5, iterations=1)


def test_server_start_stop_with_kits_provisioned(benchmark, tmp_path) -> None:
    provisioned = provision(workspace=tmp_path)

    def start_stop() -> None:
        FakeFlareServer(provisioned=provisioned).start().stop()

    benchmark.pedantic(start_stop, rounds=10, iterations=1)


def test_reset(benchmark, bench_server: FakeFlareServer) -> None:
    benchmark(bench_server.reset)


@pytest.mark.parametrize("in_process", [False, True], ids=["tls", "in_process"])
def test_throughput_8_clients(benchmark, bench_server: FakeFlareServer, in_process: bool) -> None:
    """8 threads x 25 get_system_info each; the benchmark's time is for all 200 requests."""
    sessions = [bench_server.session(ADMIN, in_process=in_process) for _ in range(8)]

    def burst() -> None:
        def work(session) -> None:
            for _ in range(25):
                session.get_system_info()

        threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    benchmark.pedantic(burst, rounds=3, iterations=1)
    for session in sessions:
        session.close()
    assert bench_server.errors == []
