"""pytest fixtures for code that automates NVIDIA FLARE: a fake server per test session, reset per test.

Three tiers, like pytest-httpserver: ``flare_server_options`` (override it to configure), ``flare_server``
(one server per session / xdist worker, on a virtual clock) and ``flare`` (the same server, reset for
each test; unexpected server-side errors fail the test at teardown). ``flare_session`` and
``flare_session_factory`` log in.

Transport modes (``--flare-transport``, ini ``flare_transport``, or a marker per test):

* ``in_process`` (the default; marker ``flare_in_process``): sessions skip TCP and TLS and hand the
  request bytes straight to the server's respond path, on its virtual clock. While the test runs,
  sessions the code under test opens itself with ``flare_api.new_secure_session(user, kit)`` from the
  fake's kits are intercepted the same way, so a one-hour ``monitor_job`` takes milliseconds. This
  exercises everything above the socket: framing, the protocol, sessions, authorization, jobs, faults.
* ``tls`` (marker ``flare_tls``): every session, including the code under test's, connects over real
  mutual TLS with the kit's certificates, one connection per command as FLARE does, and waits on the
  real clock. This also exercises certificates, handshakes, sockets and timeouts; it is slower.

Contract mode: ``--flare-kit PATH`` (or ``--flare-kit=PATH``) points the sessions at a real deployment
instead, and tests that need the fake server's handle are skipped. The deployment is checked once per
test session (connect and log in within ``--flare-kit-timeout`` seconds); if that fails, every test
that needs a session fails at once with the reason instead of waiting for its own timeout.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from flare_api import FlareError, Session, VirtualClock, new_secure_session

from .protocol.versions import FlareVersion
from .server import FakeFlareServer

DEFAULT_USER = "admin@nvidia.com"
TRANSPORTS = ("in_process", "tls")
DEFAULT_TRANSPORT = "in_process"
#: How long the one reachability check of ``--flare-kit`` may take, by default.
DEFAULT_KIT_TIMEOUT = 10.0

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
        "--flare-kit-timeout",
        action="store",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"how long the one reachability check of --flare-kit may take (default {DEFAULT_KIT_TIMEOUT:g})",
    )
    group.addoption(
        "--flare-transport",
        action="store",
        default=None,
        choices=TRANSPORTS,
        help="how fake-server sessions connect: in_process (default: no sockets, virtual clock, code under "
        "test intercepted) or tls (real mutual TLS and clock)",
    )
    group.addoption(
        "--flare-version",
        action="store",
        default=None,
        choices=[v.value for v in FlareVersion],
        help="the FLARE series the fake server emulates: 2.3 (default), 2.4, 2.5 or 2.6",
    )
    parser.addini("flare_version", "default FLARE series of the fake server (2.3, 2.4, 2.5, 2.6)", default="2.3")
    parser.addini(
        "flare_transport", "default transport of fake-server sessions: in_process or tls", default=DEFAULT_TRANSPORT
    )
    group.addoption(
        "--flare-user",
        action="store",
        default=None,
        metavar="NAME",
        help="user name for --flare-kit (default: the kit's folder name)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Keep ``--flare-kit PATH`` from moving pytest's rootdir and ini file.

    pytest finds its rootdir and ini file before any plugin's options are known, so it takes the
    PATH of ``--flare-kit PATH`` for a test path (``--flare-kit=PATH`` is one token and does not
    suffer). Plugin options are known now: find them again without the kit and adopt the result.
    """
    if "--flare-kit" not in args[:-1]:
        return
    try:
        _redo_setup_without_kit(early_config, args)
    except (AttributeError, TypeError, ValueError) as exc:  # a pytest whose internals differ
        raise pytest.UsageError(
            f"write --flare-kit=PATH (with '='): this pytest cannot be kept from reading PATH as a test path ({exc})"
        ) from None


def _redo_setup_without_kit(config: pytest.Config, args: list[str]) -> None:
    from _pytest.config.findpaths import determine_setup

    ns = config.known_args_namespace  # parsed with the plugins' options: file_or_dir lacks the kit
    where = {
        "inifile": ns.inifilename,
        "args": list(ns.file_or_dir),
        "rootdir_cmd_arg": ns.rootdir or None,
        "invocation_dir": config.invocation_params.dir,
    }
    try:
        found = determine_setup(override_ini=ns.override_ini, **where)
    except TypeError:  # pytest < 9 has no override_ini here
        found = determine_setup(**where)
    rootpath, inipath, inicfg = found[0], found[1], found[2]
    if (rootpath, inipath) == (config.rootpath, config.inipath):
        return
    old_addopts = list(config.getini("addopts"))
    if old_addopts and args[: len(old_addopts)] == old_addopts:
        del args[: len(old_addopts)]
    config._rootpath = rootpath  # type: ignore[attr-defined]
    config._inipath = inipath  # type: ignore[attr-defined]
    config._inicfg = inicfg  # type: ignore[attr-defined]
    config._inicache.clear()  # type: ignore[attr-defined]
    config._parser.extra_info["rootdir"] = str(rootpath)  # type: ignore[attr-defined]
    config._parser.extra_info["inifile"] = str(inipath)  # type: ignore[attr-defined]
    args[:0] = list(config.getini("addopts"))
    confcutdir_given = any(a == "--confcutdir" or a.startswith("--confcutdir=") for a in args)
    config.known_args_namespace = config._parser.parse_known_args(args, namespace=copy.copy(config.option))  # type: ignore[attr-defined]
    if not confcutdir_given:
        config.known_args_namespace.confcutdir = str(inipath.parent if inipath is not None else rootpath)
    config.pluginmanager.consider_preparse(args, exclude_only=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flare_user(name): log flare_session in as this user of the fake project")
    config.addinivalue_line(
        "markers",
        "flare_version(version): the flare fixture of this test is a fake of this FLARE series (a "
        "dedicated server when it differs from the session's)",
    )
    config.addinivalue_line("markers", "fake_flare_only: needs the fake server; skipped with --flare-kit")
    config.addinivalue_line(
        "markers", "flare_in_process: sessions of this test talk to the fake server in-process (no sockets)"
    )
    config.addinivalue_line(
        "markers", "flare_tls: sessions of this test (and of the code under test) use real TLS, not in-process"
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


_probe_key = pytest.StashKey[Optional[str]]()


def _deployment_problem(config: pytest.Config, kit: Path, user: str) -> Optional[str]:
    """Why the ``--flare-kit`` deployment is unusable (None: it is fine); checked once per test session."""
    if _probe_key in config.stash:
        return config.stash[_probe_key]
    timeout = config.getoption("--flare-kit-timeout", default=None) or DEFAULT_KIT_TIMEOUT
    problem: Optional[str] = None
    try:
        probe = new_secure_session(user, str(kit), timeout=timeout, request_timeout=timeout)
    except FlareError as exc:
        problem = f"{type(exc).__name__}: {exc}"
    else:
        probe.close()
    config.stash[_probe_key] = problem
    return problem


@pytest.fixture(scope="session")
def flare_server_options() -> dict[str, Any]:
    """Keyword arguments for :class:`FakeFlareServer`; override this fixture to change them."""
    return {}


@pytest.fixture(scope="session")
def flare_server(
    request: pytest.FixtureRequest, flare_server_options: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeFlareServer]:
    """One running fake server per test session (per xdist worker), provisioned in a temp folder."""
    options = dict(flare_server_options)
    options.setdefault("clock", VirtualClock())
    options.setdefault("workspace", tmp_path_factory.mktemp("flare-kits"))
    options.setdefault("flare_version", configured_flare_version(request.config))
    server = FakeFlareServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def flare(request: pytest.FixtureRequest) -> Iterator[FakeFlareServer]:
    """The session's fake server, reset for this test; fails the test if the server hit a bug.

    In the in-process mode, sessions the code under test opens from the fake's kits are intercepted.
    """
    if _real_kit(request.config) is not None:
        pytest.skip("needs the fake FLARE server (running against a real deployment with --flare-kit)")
    marker = request.node.get_closest_marker("flare_version")
    wanted = FlareVersion.parse(marker.args[0]) if marker and marker.args else configured_flare_version(request.config)
    if wanted is not FlareVersion.parse(
        request.getfixturevalue("flare_server_options").get("flare_version", configured_flare_version(request.config))
    ):
        yield from _dedicated_server(request, wanted)
        return
    server: FakeFlareServer = request.getfixturevalue("flare_server")
    server.reset()
    server.intercept = _in_process_default(request)
    yield server
    server.raise_errors()


def configured_flare_version(config: pytest.Config) -> FlareVersion:
    """The session's FLARE series: ``--flare-version``, else the ini ``flare_version`` (2.3)."""
    return FlareVersion.parse(config.getoption("--flare-version", default=None) or config.getini("flare_version"))


def _dedicated_server(request: pytest.FixtureRequest, version: FlareVersion) -> Iterator[FakeFlareServer]:
    """A fake of another FLARE series for one test (a ``flare_version`` marker), with the session's options."""
    options = dict(request.getfixturevalue("flare_server_options"))
    options.setdefault("clock", VirtualClock())
    options["workspace"] = request.getfixturevalue("tmp_path_factory").mktemp(f"flare-kits-{version.value}")
    options["flare_version"] = version
    server = FakeFlareServer(**options)
    server.start()
    try:
        server.intercept = _in_process_default(request)
        yield server
        server.raise_errors()
    finally:
        server.stop()


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
            problem = _deployment_problem(request.config, real_kit, name)
            if problem is not None:
                pytest.fail(f"the FLARE deployment of --flare-kit {real_kit} is unreachable: {problem}", pytrace=False)
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
    """This test's mode: a marker, else ``--flare-transport``, else the ini ``flare_transport`` (in_process)."""
    in_process = request.node.get_closest_marker("flare_in_process") is not None
    tls = request.node.get_closest_marker("flare_tls") is not None
    if in_process and tls:
        raise pytest.UsageError(f"{request.node.nodeid}: marked both flare_in_process and flare_tls")
    if in_process or tls:
        return in_process
    choice = request.config.getoption("--flare-transport", default=None) or request.config.getini("flare_transport")
    if choice not in TRANSPORTS:
        raise pytest.UsageError(f"flare_transport must be 'in_process' or 'tls', got {choice!r}")
    return choice == "in_process"


@pytest.fixture
def flare_session(request: pytest.FixtureRequest, flare_session_factory: SessionFactory) -> Session:
    """A logged-in session (default user ``admin@nvidia.com``; pick another with ``@pytest.mark.flare_user``)."""
    marker = request.node.get_closest_marker("flare_user")
    user = marker.args[0] if marker and marker.args else None
    return flare_session_factory(user)
