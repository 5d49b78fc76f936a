"""The public surface: one advertised name per exception, compatibility twins still importable, server
internals private."""

from __future__ import annotations

import flare_api
import flare_api.errors as errors
from fakeserver import FakeFlareServer

#: Compatibility twin -> the canonical name (FLARE 2.4-2.6's own).
TWINS = {
    "InvalidTargetError": "InvalidTarget",
    "NoClientsAvailableError": "NoClientsAvailable",
    "ClientsStillRunningError": "ClientsStillRunning",
}


def test_twins_still_import_from_flare_api_and_are_caught_by_the_canonical_name() -> None:
    from flare_api import ClientsStillRunningError, InvalidTargetError, NoClientsAvailableError

    for twin in (ClientsStillRunningError, InvalidTargetError, NoClientsAvailableError):
        canonical = getattr(flare_api, TWINS[twin.__name__])
        assert twin is getattr(errors, twin.__name__)
        assert issubclass(twin, canonical) and issubclass(twin, flare_api.InternalError)


def test_all_advertises_one_name_per_exception() -> None:
    advertised = set(flare_api.__all__)
    assert not advertised & set(TWINS), "a compatibility twin is advertised"
    assert set(TWINS.values()) <= advertised
    exceptions = {name for name in advertised if isinstance(getattr(flare_api, name), type)}
    exceptions = {name for name in exceptions if issubclass(getattr(flare_api, name), BaseException)}
    twins = {name for name in exceptions if name.endswith("Error") and name[: -len("Error")] in exceptions}
    assert twins == set(), twins
    assert all(hasattr(flare_api, name) for name in flare_api.__all__)


def test_every_exception_of_errors_is_reachable_from_flare_api() -> None:
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert getattr(flare_api, name) is value


def test_server_internals_are_private() -> None:
    for name in ("state", "registry", "dispatcher", "respond", "responder", "listener"):
        assert not hasattr(FakeFlareServer, name), name
    server = FakeFlareServer()
    for name in ("state", "registry", "dispatcher", "respond"):
        assert not hasattr(server, name), name
