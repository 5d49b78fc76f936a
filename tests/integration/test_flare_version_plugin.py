"""The ``flare_version`` marker, ``--flare-version`` option and ini key pick the FLARE series of the flare fixture."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer
from fakeserver.cli import _parser
from fakeserver.protocol.versions import FlareVersion
from fakeserver.pytest_plugin import configured_flare_version
from tests.helpers import login, raw

pytestmark = pytest.mark.fake_flare_only


@pytest.mark.flare_version("2.6")
def test_a_marker_gives_a_fake_of_that_series_over_tls(flare: FakeFlareServer) -> None:
    assert flare.flare_version is FlareVersion.V2_6
    (table,) = raw(flare, "_commands", login(flare)).items
    assert table.rows is not None
    names = [row[1] for row in table.rows[1:]]
    assert "start_app" not in names and "set_timeout" not in names


def test_without_a_marker_the_session_server_is_the_configured_series(
    flare: FakeFlareServer, pytestconfig: pytest.Config
) -> None:
    wanted = pytestconfig.getoption("--flare-version") or pytestconfig.getini("flare_version")
    assert flare.flare_version is FlareVersion.parse(wanted)


class _Config:
    """The two lookups configured_flare_version makes of a pytest.Config."""

    def __init__(self, option: object, ini: str) -> None:
        self.option, self.ini = option, ini

    def getoption(self, name: str, default: object = None) -> object:
        assert name == "--flare-version"
        return self.option

    def getini(self, name: str) -> str:
        assert name == "flare_version"
        return self.ini


@pytest.mark.parametrize(
    ("option", "ini", "expected"),
    [(None, "2.3", FlareVersion.V2_3), (None, "2.4", FlareVersion.V2_4), ("2.5", "2.4", FlareVersion.V2_5)],
)
def test_the_option_wins_over_the_ini_key(option: object, ini: str, expected: FlareVersion) -> None:
    assert configured_flare_version(_Config(option, ini)) is expected  # type: ignore[arg-type]


def test_serve_takes_a_flare_version() -> None:
    assert _parser().parse_args(["serve", "--flare-version", "2.5"]).flare_version == "2.5"
    assert _parser().parse_args(["serve"]).flare_version == "2.3"
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--flare-version", "2.7"])
