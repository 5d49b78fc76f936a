"""Contract tests drive the fake server with the real ``nvflare==2.3.12`` client.

They need the ``contract`` tox env (nvflare installed with ``--no-deps`` plus its client's imports).
Outside it they are skipped; with ``FLARE_HARNESS_CONTRACT=1`` (set by tox) a missing nvflare fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from fakeserver import FakeFlareServer
from flare_api import Session, new_secure_session

ADMIN = "admin@nvidia.com"

REQUIRED = os.environ.get("FLARE_HARNESS_CONTRACT") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/contract/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.contract)


@pytest.fixture(scope="session")
def nvflare_api():
    """The real FLARE API module, or a skip (a failure when the contract env demands it)."""
    try:
        from nvflare.fuel.flare_api import flare_api
    except ImportError as exc:
        if REQUIRED:
            pytest.fail(f"the contract env must provide nvflare==2.3.12: {exc}")
        pytest.skip(f"nvflare 2.3 client not installed ({exc}); run `tox -e contract`")
    import nvflare

    assert nvflare.__version__.startswith("2.3."), nvflare.__version__
    return flare_api


@pytest.fixture(scope="module")
def contract_server(real_clock_server: FakeFlareServer) -> FakeFlareServer:
    """The server ``real``/``ours`` talk to; a module overrides it to use another one."""
    return real_clock_server


@pytest.fixture(scope="module")
def real(nvflare_api: Any, contract_server: FakeFlareServer) -> Iterator[Any]:
    """The real nvflare client, logged in as the project admin."""
    session = nvflare_api.new_secure_session(ADMIN, str(contract_server.startup_kit(ADMIN)), timeout=15.0)
    yield session
    session.close()


@pytest.fixture(scope="module")
def ours(contract_server: FakeFlareServer) -> Iterator[Session]:
    """Our client, logged in as the project admin on the same server."""
    with new_secure_session(ADMIN, contract_server.startup_kit(ADMIN), timeout=15.0) as session:
        yield session


@pytest.fixture(scope="module")
def real_clock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    """A fake server on the real clock: the real client runs its own threads and timers.

    ``intercept=False``: our client talks TLS here too, like the real one it is compared with.
    """
    with FakeFlareServer(workspace=tmp_path_factory.mktemp("contract-kits"), intercept=False) as server:
        yield server
        server.raise_errors()
