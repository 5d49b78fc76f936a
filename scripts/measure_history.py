"""Request costs on a server with a long history vs an empty one (docs/benchmarks.md, "Cost independent of history").

Builds an empty server and one with ``--jobs`` finished jobs and ``--sessions`` open sessions (real in-process
submissions on a virtual clock, see tests/bench/history.py), then prints the median of each request on both
and the ratio. Run ``python scripts/measure_history.py``; for the code before a change, run the same file with
``PYTHONPATH=<an older tree>`` (the helper is loaded from this tree by path, the server from the path).
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_history", HERE.parent / "tests" / "bench" / "history.py")
assert _spec is not None and _spec.loader is not None
history = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(history)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(root: Path, jobs: int, sessions: int, rounds: int, pending: bool = False) -> dict[str, float]:
    folder = history.write_job_folder(root)
    line = history.submit_line(folder)
    server = history.new_server(root / "ws").start()
    results: dict[str, float] = {}
    try:
        session = server.session(history.ADMIN, in_process=True)
        start = time.perf_counter()
        history.fill(server, session, line, jobs, sessions, pending=pending)
        results["build s"] = time.perf_counter() - start
        job_id = session.submit_job(folder)
        session.get_job_meta(job_id)
        assert len(server.jobs) == jobs + 1
        results["get_job_meta"] = history.p50(lambda: session.get_job_meta(job_id), rounds)
        results["login"] = history.p50(lambda: server.session(history.ADMIN, in_process=True), rounds)
        results["list_jobs(limit=10)"] = history.p50(lambda: session.list_jobs(limit=10), rounds)
        tls = server.session(history.ADMIN)
        results["list_jobs over TLS"] = history.p50(tls.list_jobs, max(3, rounds // 10))
        results["submit"] = history.p50(lambda: session.do_command(line), rounds)
        results["RSS MB"] = rss_mb()
        start = time.perf_counter()
        server.reset()
        results["reset"] = time.perf_counter() - start
        assert len(server.jobs) == 0
    finally:
        server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=50)
    options = parser.parse_args()
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:  # tmpfs: job folders cost less
        empty = measure(Path(tmp) / "empty", 0, 0, options.rounds)
        done = measure(Path(tmp) / "done", options.jobs, options.sessions, options.rounds)
        queued = measure(Path(tmp) / "queued", options.jobs, options.sessions, options.rounds, pending=True)
    import fakeserver

    print(f"fakeserver from {Path(fakeserver.__file__).parent}, Python {sys.version.split()[0]}")
    n, s = options.jobs, options.sessions
    print(f"| measure | empty | {n} finished jobs, {s} sessions | ratio | {n} queued jobs, {s} sessions | ratio |")
    print("|---|---|---|---|---|---|")

    def cell(key: str, value: float) -> str:
        return f"{value:.1f}" if key.endswith(("MB", " s")) else f"{value * 1000:.3f} ms"

    for key in empty:
        a = empty[key]
        row = [key, cell(key, a)]
        for other in (done, queued):
            row += [cell(key, other[key]), f"{other[key] / a:.2f}x" if a > 0 else "-"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
