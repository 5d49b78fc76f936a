"""pytest fixtures for code that automates NVIDIA FLARE: a fake server per test session, reset per test.

Three tiers, like pytest-httpserver: ``flare_server_options`` (override it to configure), ``flare_server``
(one server per session / xdist worker, on a virtual clock) and ``flare`` (the same server, reset for
each test; unexpected server-side errors fail the test at teardown). ``flare_session`` and
``flare_session_factory`` log in. With ``--flare-kit PATH`` the sessions go to a real deployment
instead, and tests that need the fake server's handle are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from flare_api import Session, VirtualClock, new_secure_session

from .server import FakeFlareServer

DEFAULT_USER = "admin@nvidia.com"

SessionFactory = Callable[..., Session]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flare-harness", "FLARE fake server and sessions")
    group.addoption(
        "--flare-kit",
        action="store",
        default=None,
        metavar="PATH",
        help="run flare_session tests against the real FLARE deployment of this admin startup kit",
    )
    group.addoption(
        "--flare-transport",
        action="store",
        default=None,
        choices=("tls", "in_process"),
        help="how fake-server sessions connect: tls (default, real sockets) or in_process (no sockets, fast)",
    )
    parser.addini("flare_transport", "default transport of fake-server sessions: tls or in_process", default="tls")
    group.addoption(
        "--flare-user",
        action="store",
        default=None,
        metavar="NAME",
        help="user name for --flare-kit (default: the kit's folder name)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flare_user(name): log flare_session in as this user of the fake project")
    config.addinivalue_line("markers", "fake_flare_only: needs the fake server; skipped with --flare-kit")
    config.addinivalue_line(
        "markers", "flare_in_process: sessions of this test talk to the fake server in-process (no sockets)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _real_kit(config) is None:
        return
    skip = pytest.mark.skip(reason="needs the fake FLARE server (running against a real deployment)")
    for item in items:
        if item.get_closest_marker("fake_flare_only"):
            item.add_marker(skip)


def _real_kit(config: pytest.Config) -> Optional[Path]:
    value = config.getoption("--flare-kit", default=None)
    return Path(value) if value else None


@pytest.fixture(scope="session")
def flare_server_options() -> dict[str, Any]:
    """Keyword arguments for :class:`FakeFlareServer`; override this fixture to change them."""
    return {}


@pytest.fixture(scope="session")
def flare_server(
    flare_server_options: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeFlareServer]:
    """One running fake server per test session (per xdist worker), provisioned in a temp folder."""
    options = dict(flare_server_options)
    options.setdefault("clock", VirtualClock())
    options.setdefault("workspace", tmp_path_factory.mktemp("flare-kits"))
    server = FakeFlareServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def flare(request: pytest.FixtureRequest) -> Iterator[FakeFlareServer]:
    """The session's fake server, reset for this test; fails the test if the server hit a bug."""
    if _real_kit(request.config) is not None:
        pytest.skip("needs the fake FLARE server (running against a real deployment with --flare-kit)")
    server: FakeFlareServer = request.getfixturevalue("flare_server")
    server.reset()
    yield server
    server.raise_errors()


@pytest.fixture
def flare_clock(flare: FakeFlareServer) -> VirtualClock:
    """The virtual clock the fake server runs on (and that flare_session sleeps on)."""
    clock = flare.clock
    if not isinstance(clock, VirtualClock):
        pytest.skip("the fake server of this test session runs on a real clock")
    return clock


@pytest.fixture
def flare_session_factory(request: pytest.FixtureRequest) -> Iterator[SessionFactory]:
    """Make sessions: ``factory(user)`` logs in to the fake server (or the real one with --flare-kit)."""
    opened: list[Session] = []
    real_kit = _real_kit(request.config)
    server: Optional[FakeFlareServer] = None if real_kit else request.getfixturevalue("flare")
    default_in_process = _in_process_default(request)

    def factory(user: Optional[str] = None, *, in_process: Optional[bool] = None, **kwargs: Any) -> Session:
        if real_kit is not None:
            name = user or request.config.getoption("--flare-user") or real_kit.name
            session = new_secure_session(name, str(real_kit), **kwargs)
        else:
            assert server is not None
            fast = default_in_process if in_process is None else in_process
            session = server.session(user or DEFAULT_USER, in_process=fast, **kwargs)
        opened.append(session)
        return session

    yield factory
    for session in opened:
        session.close()


def _in_process_default(request: pytest.FixtureRequest) -> bool:
    if request.node.get_closest_marker("flare_in_process"):
        return True
    choice = request.config.getoption("--flare-transport", default=None) or request.config.getini("flare_transport")
    if choice not in ("tls", "in_process"):
        raise pytest.UsageError(f"flare_transport must be 'tls' or 'in_process', got {choice!r}")
    return choice == "in_process"


@pytest.fixture
def flare_session(request: pytest.FixtureRequest, flare_session_factory: SessionFactory) -> Session:
    """A logged-in session (default user ``admin@nvidia.com``; pick another with ``@pytest.mark.flare_user``)."""
    marker = request.node.get_closest_marker("flare_user")
    user = marker.args[0] if marker and marker.args else None
    return flare_session_factory(user)
