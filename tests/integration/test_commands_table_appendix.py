"""The `_commands` table equals a FLARE 2.3.12 server's: appendix A of the reference plus 2.3.12's sys.dead row.

The shell commands' usages embed argparse help, whose wording depends on the Python version
(``options:`` from 3.10, ``optional arguments:`` before), exactly as on a real server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer
from tests.helpers import login, raw

pytestmark = pytest.mark.fake_flare_only

APPENDIX_A = Path(__file__).resolve().parent.parent / "data" / "commands_2_3_8_py310.json"
DEAD_ROW = ["sys", "dead", "send dead client msg to SJ", "dead <client-name>", "none", None, "False"]


def expected_table() -> list[list]:
    rows = json.loads(APPENDIX_A.read_text())
    position = next(i for i, row in enumerate(rows) if row[:2] == ["sys", "cat"]) + 1
    rows.insert(position, DEAD_ROW)  # 2.3.12 inserts sys.dead between sys.cat and sys.grep
    if sys.version_info < (3, 10):
        rows = [[cell.replace("\noptions:\n", "\noptional arguments:\n") if isinstance(cell, str) else cell
                 for cell in row] for row in rows]  # fmt: skip
    return rows


def test_commands_table_is_a_2_3_12_servers(flare: FakeFlareServer) -> None:
    (table,) = raw(flare, "_commands", login(flare)).items
    expected = expected_table()
    got = table.rows
    assert [r[:2] for r in got] == [r[:2] for r in expected]
    for mine, theirs in zip(got, expected):
        assert mine == theirs, mine[:2]
