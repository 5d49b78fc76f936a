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
