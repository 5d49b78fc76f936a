"""Benchmarks: one fake server per module; the real nvflare client where it is installed (tox -e bench)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakeserver import FakeFlareServer


@pytest.fixture(scope="module")
def bench_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    # intercept=False: the session benchmarks compare clients over TLS, so no in-process shortcut
    with FakeFlareServer(workspace=tmp_path_factory.mktemp("bench-kits"), intercept=False) as server:
        yield server
        server.raise_errors()


@pytest.fixture(scope="session")
def nvflare_flare_api():
    """The real FLARE API module, or a skip."""
    try:
        from nvflare.fuel.flare_api import flare_api
    except ImportError as exc:
        pytest.skip(f"nvflare 2.3 client not installed ({exc}); run `tox -e bench`")
    return flare_api


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The history benchmarks side by side: min and median on the empty and the 10k server, their ratio,
    and the absolute target where there is one (what docs/benchmarks.md reports)."""
    from .test_bench_history import RESULTS, TARGETS

    if not RESULTS:
        return
    write = terminalreporter.write_line
    write("")
    write("history benchmarks (ms): empty min/median | 10k min/median | ratio of medians | target on 10k min")
    for group in sorted({group for group, _ in RESULTS}):
        empty, full = RESULTS.get((group, "empty")), RESULTS.get((group, "10k"))
        cells = [f"{group:<45}"]
        for pair in (empty, full):
            cells.append(f"{pair[0] * 1000:8.2f} / {pair[1] * 1000:8.2f}" if pair else f"{'-':>19}")
        cells.append(f"{full[1] / empty[1]:6.2f}x" if empty and full and empty[1] else f"{'-':>7}")
        target = TARGETS.get(group)
        if target is not None and full:
            met = "met" if full[0] <= target else "NOT met"
            cells.append(f"<= {target * 1000:.0f} ms: {met}")
        write(" | ".join(cells))
