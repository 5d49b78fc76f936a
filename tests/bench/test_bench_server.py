"""Server-side costs: provisioning, start-up, reset, and request throughput with concurrent clients."""

from __future__ import annotations

import threading

import pytest

from fakeserver import FakeFlareServer, provision

ADMIN = "admin@nvidia.com"


def test_provision_default_project(benchmark, tmp_path) -> None:
    counter = iter(range(10_000))
    made = benchmark.pedantic(lambda: provision(workspace=tmp_path / str(next(counter))), rounds=5, iterations=1)
    assert made.root_ca_path.is_file() and made.server_cert_path.is_file() and made.server_key_path.is_file()
    assert made.kit(ADMIN).is_dir()
    assert len(list(tmp_path.iterdir())) == next(counter)  # one project per round (1 with --benchmark-disable)


def test_server_start_stop_with_kits_provisioned(benchmark, tmp_path) -> None:
    provisioned = provision(workspace=tmp_path)
    seen: list[tuple[bool, bool]] = []

    def start_stop() -> None:
        server = FakeFlareServer(provisioned=provisioned).start()
        running = server.running and server.port > 0
        server.stop()
        seen.append((running, server.running))

    benchmark.pedantic(start_stop, rounds=10, iterations=1)
    assert seen and seen == [(True, False)] * len(seen)  # 10 rounds, or 1 with --benchmark-disable


def test_reset(benchmark, bench_server: FakeFlareServer) -> None:
    bench_server.reset()  # the module's server: other tests left sessions behind
    with bench_server.session(ADMIN) as session:
        session.get_system_info()
    assert len(bench_server.sessions) == 1 and bench_server.audit
    benchmark(bench_server.reset)
    assert len(bench_server.sessions) == 0 and not bench_server.audit


@pytest.mark.parametrize("in_process", [False, True], ids=["tls", "in_process"])
def test_throughput_8_clients(benchmark, bench_server: FakeFlareServer, in_process: bool) -> None:
    """8 threads x 25 get_system_info each; the benchmark's time is for all 200 requests."""
    sessions = [bench_server.session(ADMIN, in_process=in_process) for _ in range(8)]
    statuses: list[str] = []
    lock = threading.Lock()
    rounds = [0]

    def burst() -> None:
        rounds[0] += 1

        def work(session) -> None:
            for _ in range(25):
                status = session.get_system_info().server_info.status
                with lock:
                    statuses.append(status)

        threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
            assert not thread.is_alive()

    benchmark.pedantic(burst, rounds=3, iterations=1)
    for session in sessions:
        session.close()
    assert rounds[0] >= 1 and statuses == ["stopped"] * (rounds[0] * 8 * 25)  # every request answered
    assert bench_server.errors == []
