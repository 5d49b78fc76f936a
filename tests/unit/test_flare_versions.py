"""The fake's ``_commands`` table per FLARE version against the real servers' tables (dumped from nvflare 2.4.2,
2.5.2 and 2.6.3 by scripts/flare_tables/dump_commands.py on Python 3.11), and the version registry itself.

``NOT_YET`` lists, per version, the real rows the fake does not serve yet (their wire behaviour, e.g. the 2.4
pull download, is not built): the test fails if the list is wrong in either direction, so it shrinks as the
commands land.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from fakeserver import FakeFlareServer
from fakeserver.commands import build_registry
from fakeserver.pipeline.registry import CommandSpec
from fakeserver.protocol.versions import FlareVersion
from flare_api.wire.transfer import TransferFraming

TABLES = Path(__file__).resolve().parent.parent / "data" / "flare_tables"
DUMPS = {
    FlareVersion.V2_4: TABLES / "commands_2_4_2_py311.json",
    FlareVersion.V2_5: TABLES / "commands_2_5_2_py311.json",
    FlareVersion.V2_6: TABLES / "commands_2_6_3_py311.json",
}
ROW_COUNTS = {FlareVersion.V2_4: 40, FlareVersion.V2_5: 42, FlareVersion.V2_6: 45}

_24: set[tuple[str, str]] = set()
_25 = set(_24)
_26 = set(_25)
#: Real rows (scope, command) the fake does not have, or has with 2.3's transfer (client command, usage), yet.
NOT_YET = {FlareVersion.V2_4: _24, FlareVersion.V2_5: _25, FlareVersion.V2_6: _26}


def _dump(version: FlareVersion) -> list[list[Optional[str]]]:
    rows: list[list[Optional[str]]] = json.loads(DUMPS[version].read_text())
    if sys.version_info < (3, 10):
        rows = [[c.replace("\noptions:\n", "\noptional arguments:\n") if isinstance(c, str) else c for c in r]
                for r in rows]  # fmt: skip
    return rows


@pytest.mark.parametrize("version", list(DUMPS))
def test_real_tables_have_the_known_row_counts(version: FlareVersion) -> None:
    assert len(_dump(version)) - 1 == ROW_COUNTS[version]


@pytest.mark.parametrize("version", list(DUMPS))
def test_table_equals_the_real_servers_but_for_the_rows_not_built_yet(version: FlareVersion) -> None:
    mine = build_registry(version).commands_table()
    real = _dump(version)
    assert mine[0] == real[0]
    mine_rows = {tuple(r[:2]): r for r in mine[1:]}
    real_rows = {tuple(r[:2]): r for r in real[1:]}
    differing = {k for k in mine_rows.keys() | real_rows.keys() if mine_rows.get(k) != real_rows.get(k)}
    assert differing == NOT_YET[version]
    # and the order is the real server's (scope, then name)
    assert [k for k in (tuple(r[:2]) for r in mine[1:])] == sorted(mine_rows)


def test_23_is_the_default_and_unchanged() -> None:
    assert build_registry().commands_table() == build_registry(FlareVersion.V2_3).commands_table()
    assert [r[:2] for r in build_registry().commands_table()[1:]].count(["training", "set_timeout"]) == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2.3", FlareVersion.V2_3),
        ("2.4.2", FlareVersion.V2_4),
        (2.5, FlareVersion.V2_5),
        (FlareVersion.V2_6, FlareVersion.V2_6),
    ],
)
def test_parse_accepts_series_and_patch_releases(given: Any, expected: FlareVersion) -> None:
    assert FlareVersion.parse(given) is expected


@pytest.mark.parametrize("bad", ["2.7", "3", "", "latest"])
def test_parse_refuses_other_versions_naming_the_choices(bad: str) -> None:
    with pytest.raises(ValueError, match=r"unsupported FLARE version .*2\.3, 2\.4, 2\.5, 2\.6"):
        FlareVersion.parse(bad)


def test_each_version_names_its_download_framing() -> None:
    assert FlareVersion.V2_3.pull_framing is None
    assert FlareVersion.V2_4.pull_framing is TransferFraming.CHUNK_STREAM
    assert FlareVersion.V2_5.pull_framing is FlareVersion.V2_6.pull_framing is TransferFraming.BINARY_EXCHANGE
    assert [v.accepts_binary_requests for v in FlareVersion] == [False, False, True, True]


def test_a_spec_applies_its_changes_in_version_order_and_refuses_unknown_fields() -> None:
    def handler(request: object, reply: object) -> None:
        pass

    spec = CommandSpec("s", "c", "d", "u", handler, since=FlareVersion.V2_4, until=FlareVersion.V2_6,
                       changes={FlareVersion.V2_5: {"usage": "u5"}, FlareVersion.V2_4: {"usage": "u4"}})  # fmt: skip
    assert spec.at(FlareVersion.V2_3) is None and spec.at(FlareVersion.V2_6) is None
    assert spec.at(FlareVersion.V2_4).usage == "u4"  # type: ignore[union-attr]
    assert spec.at(FlareVersion.V2_5).usage == "u5"  # type: ignore[union-attr]
    bad = CommandSpec("s", "c", "d", "u", handler, changes={FlareVersion.V2_4: {"until": FlareVersion.V2_5}})
    with pytest.raises(ValueError, match="cannot change"):
        bad.at(FlareVersion.V2_4)


def test_the_server_takes_its_version_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    assert FakeFlareServer(workspace=tmp_path / "a", flare_version="2.5").flare_version is FlareVersion.V2_5
    assert FakeFlareServer(workspace=tmp_path / "b").flare_version is FlareVersion.V2_3
    with pytest.raises(ValueError, match=r"unsupported FLARE version '2\.7'"):
        FakeFlareServer(workspace=tmp_path / "c", flare_version="2.7")
