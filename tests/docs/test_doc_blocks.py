"""Every fenced code block of README.md and docs/guide.md runs, so the docs cannot rot.

``python`` blocks run as scripts in a fresh interpreter in a temporary folder; a block that defines
``test_*`` functions is written to a file and run by pytest in a subprocess (the plugin's fixtures are
available, as for a downstream project). ``bash`` blocks run with ``bash -euo pipefail`` in a temporary
folder with this interpreter's scripts first on PATH. Other languages (``text``, ``json``) are shown, not run.

A block that cannot run here (it needs a real deployment, installs packages, or serves forever) says so
with a marker comment on the line before its fence: ``<!-- doc-test: skip (reason) -->``. A block may also
pass pytest arguments: ``<!-- doc-test: pytest-args --flare-transport tls -->``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/guide.md")
RUN_LANGUAGES = {"python", "bash"}
#: The most blocks the docs may leave unrun; keep it small (each needs a reason).
MAX_SKIPPED = 6

_FENCE = re.compile(r"^```([\w-]*)\s*$")
_MARKER = re.compile(r"^<!-- doc-test: (skip|pytest-args)\b\s*(.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    language: str
    code: str
    skip: Optional[str] = None
    pytest_args: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def extract_blocks(doc: str) -> list[Block]:
    """The fenced blocks of ``doc`` (relative to the repository root), with their marker comments."""
    lines = (ROOT / doc).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        if index == len(lines):
            raise AssertionError(f"{doc}:{start + 1}: unclosed code fence")
        index += 1
        skip: Optional[str] = None
        args: tuple[str, ...] = ()
        marker = _MARKER.match(lines[start - 1].strip()) if start > 0 else None
        if marker and marker.group(1) == "skip":
            skip = marker.group(2).strip("() ") or ""
        elif marker:
            args = tuple(marker.group(2).split())
        blocks.append(Block(doc, start + 1, opening.group(1) or "", "\n".join(body) + "\n", skip, args))
    return blocks


ALL_BLOCKS = [block for doc in DOCS for block in extract_blocks(doc)]
RUNNABLE = [block for block in ALL_BLOCKS if block.language in RUN_LANGUAGES]


def _env() -> dict[str, str]:
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return dict(os.environ, PATH=f"{scripts}{os.pathsep}{path}", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")


def test_every_runnable_language_is_known_and_skips_are_few_and_explained() -> None:
    languages = {block.language for block in ALL_BLOCKS}
    assert languages <= RUN_LANGUAGES | {"text", "json", "ini", "toml"}, languages
    skipped = [block for block in RUNNABLE if block.skip is not None]
    assert all(block.skip for block in skipped), [b.id for b in skipped if not b.skip]
    assert len(skipped) <= MAX_SKIPPED, [b.id for b in skipped]
    assert len(RUNNABLE) - len(skipped) >= 15  # the docs are mostly runnable code


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.id for block in RUNNABLE])
def test_doc_block_runs(block: Block, tmp_path: Path) -> None:
    if block.skip is not None:
        pytest.skip(f"marked in the docs: {block.skip}")
    if block.language == "bash":
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.code],
            cwd=tmp_path,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{block.id} failed:\n{block.code}\n{done.stdout}\n{done.stderr}"
    elif re.search(r"^def test_", block.code, re.MULTILINE):
        (tmp_path / "test_doc_block.py").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
        command += [*block.pytest_args, "test_doc_block.py"]
        done = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{block.id} failed:\n{block.code}\n{done.stdout}\n{done.stderr}"
        assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout
    else:
        (tmp_path / "doc_block.py").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "doc_block.py"]
        done = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{block.id} failed:\n{block.code}\n{done.stdout}\n{done.stderr}"
