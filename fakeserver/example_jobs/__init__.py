"""Example job folders bundled with flare-harness (used by the demo, the docs and the tests)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def example_job(name: str = "hello-numpy") -> Path:
    """The folder of a bundled example job."""
    folder = HERE / name
    if not (folder / "meta.json").is_file():
        known = sorted(p.name for p in HERE.iterdir() if (p / "meta.json").is_file())
        raise ValueError(f"no example job {name!r}; bundled: {', '.join(known)}")
    return folder
