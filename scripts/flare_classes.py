"""Regenerate ``fakeserver/model/flare_classes.txt``: the modules and classes FLARE 2.3.12 ships.

The fake treats these as loadable in a job's config (docs/guide.md, "The job's config"). Usage::

    pip download nvflare==2.3.12 --no-deps -d /tmp/nvflare-wheel
    python scripts/flare_classes.py /tmp/nvflare-wheel/nvflare-2.3.12-py3-none-any.whl
    # or an installed copy: python scripts/flare_classes.py /tmp/realflare/venv/lib/python3.10/site-packages

Each module is parsed with ``ast``; nothing of FLARE is imported. The file has three sections:
``[modules]`` (every importable module), ``[classes]`` (``module.Class`` for each class a module defines at
its top; FLARE's ``ModuleScanner`` finds these by bare name) and ``[aliases]`` (``module.Name``: a
class a module imports at its top, which ``getattr(module, Name)`` also finds).
"""

from __future__ import annotations

import ast
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fakeserver" / "model" / "flare_classes.txt"


def _sources(source: Path) -> Iterator[tuple[str, bytes]]:
    """(``nvflare/...py`` path, bytes) of every module in a wheel or under a site-packages folder."""
    if source.is_dir():
        for path in sorted((source / "nvflare").rglob("*.py")):
            yield path.relative_to(source).as_posix(), path.read_bytes()
        return
    with zipfile.ZipFile(source) as archive:
        for name in sorted(archive.namelist()):
            if name.startswith("nvflare/") and name.endswith(".py"):
                yield name, archive.read(name)


def _module_name(path: str) -> tuple[str, bool]:
    module = path[: -len(".py")].replace("/", ".")
    if module.endswith(".__init__"):
        return module[: -len(".__init__")], True
    return module, False


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def scan(source: Path) -> tuple[list[str], list[str], list[str]]:
    """(modules, defined classes, aliases ``module.Name`` of classes imported into a module) of nvflare."""
    modules: set[str] = set()
    classes: set[str] = set()
    imports: list[tuple[str, str]] = []  # (module.Name, imported module.Name)
    for path, data in _sources(source):
        module, is_package = _module_name(path)
        modules.add(module)
        try:
            tree = ast.parse(data)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes.add(f"{module}.{node.name}")
            elif isinstance(node, ast.ImportFrom):
                origin = _absolute(module, is_package, node)
                imports.extend(
                    (f"{module}.{alias.asname or alias.name}", f"{origin}.{alias.name}")
                    for alias in node.names
                    if alias.name != "*"
                )
    resolved: dict[str, str] = {name: name for name in classes}
    changed = True
    while changed:  # follow re-exports of re-exports
        changed = False
        for name, origin in imports:
            if name not in resolved and origin in resolved:
                resolved[name] = resolved[origin]
                changed = True
    aliases = sorted(name for name, target in resolved.items() if name != target)
    return sorted(modules), sorted(classes), aliases


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    modules, classes, aliases = scan(Path(argv[1]))
    text = [f"# nvflare modules and classes of {Path(argv[1]).name} (scripts/flare_classes.py)", "[modules]"]
    text += [*modules, "[classes]", *classes, "[aliases]", *aliases]
    OUT.write_text("\n".join(text) + "\n")
    print(f"{len(modules)} modules, {len(classes)} classes, {len(aliases)} aliases -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
