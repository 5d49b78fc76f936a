"""Regenerate ``fakeserver/model/flare_classes.txt``: every top-level class FLARE 2.3.12 ships.

The fake treats these dotted class paths as loadable in a job's config (docs/job-config.md). Usage::

    pip download nvflare==2.3.12 --no-deps -d /tmp/nvflare-wheel
    python scripts/flare_classes.py /tmp/nvflare-wheel/nvflare-2.3.12-py3-none-any.whl

The wheel is read with ``zipfile`` and each module parsed with ``ast``; nothing of FLARE is imported.
"""

from __future__ import annotations

import ast
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fakeserver" / "model" / "flare_classes.txt"


def classes_in_wheel(wheel: Path) -> list[str]:
    """``module.Class`` for every class defined at the top of a module under ``nvflare/``."""
    found: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.startswith("nvflare/") or not name.endswith(".py"):
                continue
            try:
                tree = ast.parse(archive.read(name))
            except SyntaxError:
                continue
            module = name[: -len(".py")].replace("/", ".")
            if module.endswith(".__init__"):
                module = module[: -len(".__init__")]
            found.update(f"{module}.{node.name}" for node in tree.body if isinstance(node, ast.ClassDef))
    return sorted(found)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    names = classes_in_wheel(Path(argv[1]))
    OUT.write_text(f"# Top-level classes of {Path(argv[1]).name} (scripts/flare_classes.py)\n" + "\n".join(names) + "\n")
    print(f"{len(names)} classes -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
