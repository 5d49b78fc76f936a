"""The import-linter contracts in pyproject.toml hold, and actually catch an import against the layering.

Each check copies fakeserver/ and flare_api/ to a temporary directory, optionally plants one forbidden import,
and runs ``lint-imports`` there in a subprocess (in this process the packages are already imported from the
worktree, and grimp would find those instead of the copy).
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

pytest.importorskip("importlinter")

from importlinter.api import read_configuration

import flare_api

ROOT = Path(__file__).resolve().parents[2]
FLARE_API_ONLY = "flare_api imports nothing of fakeserver"
LAYERS = "fakeserver layers: top level > serving > commands > pipeline > model | shell > protocol"
CORE = "the server core imports from flare_api only flare_api.wire and flare_api.clock"
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def copy_tree(destination: Path) -> Path:
    """Copy both packages and the project's configuration to ``destination``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("fakeserver", "flare_api"):
        shutil.copytree(ROOT / package, destination / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def plant(tree: Path, module: str, line: str) -> None:
    """Append one import statement to ``module`` (a path relative to the tree)."""
    path = tree / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # deliberate violation\n", encoding="utf-8")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the copy, with the copy first on the import path."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    return subprocess.run(
        [sys.executable, "-c", LINT, "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def contract_line(output: str, name: str) -> Optional[str]:
    """The summary line lint-imports printed for contract ``name`` (its name may wrap onto the next line)."""
    flat = " ".join(output.split())
    for verdict in ("KEPT", "BROKEN"):
        if f"{name} {verdict}" in flat or f"{name} ({verdict}" in flat:
            return verdict
    return None


def test_contracts_are_kept_on_the_untouched_tree(tmp_path: Path) -> None:
    result = lint(copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (FLARE_API_ONLY, LAYERS, CORE):
        assert contract_line(result.stdout, name) == "KEPT", result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken", "edge"),
    [
        # a model module reaching up to the top level
        (
            "fakeserver/model/jobs.py",
            "from fakeserver import server",
            LAYERS,
            "fakeserver.model.jobs -> fakeserver.server",
        ),
        # model and shell are independent of each other
        (
            "fakeserver/shell/ls.py",
            "from fakeserver.model import state",
            LAYERS,
            "fakeserver.shell.ls -> fakeserver.model",
        ),
        # the pipeline reaching up to a command module
        (
            "fakeserver/pipeline/reply.py",
            "from fakeserver.commands import info",
            LAYERS,
            "fakeserver.pipeline.reply -> fakeserver.commands",
        ),
        # the core taking more than wire and clock from the client
        (
            "fakeserver/pipeline/targets.py",
            "from flare_api.errors import ProtocolError",
            CORE,
            "fakeserver.pipeline.targets -> flare_api.errors",
        ),
        # ... or importing the client's package root, which imports the session (an indirect import)
        ("fakeserver/protocol/messages.py", "import flare_api", CORE, "fakeserver.protocol.messages -> flare_api"),
        # the client importing the fake
        ("flare_api/clock.py", "import fakeserver.protocol", FLARE_API_ONLY, "flare_api.clock -> fakeserver.protocol"),
    ],
)
def test_a_planted_import_breaks_its_contract(tmp_path: Path, module: str, line: str, broken: str, edge: str) -> None:
    tree = copy_tree(tmp_path)
    plant(tree, module, line)
    result = lint(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert contract_line(result.stdout, broken) == "BROKEN", result.stdout
    assert edge in result.stdout


def test_an_unlayered_top_level_module_is_reported(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    (tree / "fakeserver" / "newcomer.py").write_text('"""A module nobody gave a layer."""\n', encoding="utf-8")
    result = lint(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert contract_line(result.stdout, LAYERS) == "BROKEN", result.stdout
    assert "fakeserver.newcomer" in result.stdout


def test_the_core_contract_forbids_every_client_module_but_wire_and_clock() -> None:
    """A new flare_api module must be added to the core contract's forbidden list (or argued into the core)."""
    contracts = read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]
    (core,) = (contract for contract in contracts if contract["name"] == CORE)
    client_modules = {f"flare_api.{info.name}" for info in pkgutil.iter_modules(flare_api.__path__)}
    assert set(core["forbidden_modules"]) == client_modules - {"flare_api.wire", "flare_api.clock"}
