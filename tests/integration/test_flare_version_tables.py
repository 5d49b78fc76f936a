"""Over TLS, a fake of each FLARE version serves that version's ``_commands`` rows and refuses what it removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakeserver import FakeFlareServer
from fakeserver.commands import build_registry
from fakeserver.protocol import messages as msg
from fakeserver.protocol.versions import FlareVersion
from tests.helpers import login, raw

pytestmark = pytest.mark.fake_flare_only


@pytest.mark.parametrize("version", list(FlareVersion))
def test_the_served_table_is_the_versions_registry(version: FlareVersion, tmp_path: Path) -> None:
    with FakeFlareServer(workspace=tmp_path, flare_version=version.value) as server:
        (table,) = raw(server, "_commands", login(server)).items
        assert table.rows == build_registry(version).commands_table()


@pytest.mark.parametrize(
    ("version", "line", "gone"),
    [
        (FlareVersion.V2_3, "set_timeout 5", False),
        (FlareVersion.V2_4, "set_timeout 5", True),
        (FlareVersion.V2_4, "abort_task 1 site-1", True),
        (FlareVersion.V2_5, "abort_task 1 site-1", True),
        (FlareVersion.V2_6, "start_app 1 all", True),
        (FlareVersion.V2_5, "start_app 1 all", False),
    ],
)
def test_removed_commands_are_unknown(version: FlareVersion, line: str, gone: bool, tmp_path: Path) -> None:
    with FakeFlareServer(workspace=tmp_path, flare_version=version) as server:
        reply = raw(server, line, login(server))
        name = line.split()[0]
        texts = [item.text for item in reply.items]
        assert (msg.UNKNOWN_COMMAND.format(name=name) in texts) is gone, texts
