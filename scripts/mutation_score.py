"""Print the mutation score per area and per module from mutmut 3's results (run after ``mutmut run``; see
docs/testing.md), and with ``--survivors`` every mutant that was run and not killed.

Killed = ``killed`` + ``timeout`` (+ caught by the type checker). Score = killed / (all mutants that were run),
so a mutant no test reaches (``no tests``) counts against the score, like a survivor. Mutants not yet run
(``not checked``) are counted apart, so a partial run shows how far it got.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict

_LINE = re.compile(r"^\s*(?P<name>\S+?)__mutmut_\d+: (?P<status>.+)$")
_KILLED = {"killed", "timeout", "caught by type check"}
_PENDING = "not checked"

#: The areas of issue 9, as module-name prefixes (first match wins).
AREAS: list[tuple[str, tuple[str, ...]]] = [
    ("client wire", ("flare_api.wire.",)),
    ("client transport", ("flare_api.transport",)),
    ("client errors", ("flare_api.errors",)),
    ("client monitor", ("flare_api.monitor",)),
    ("client session", ("flare_api.session",)),
    ("server authorization", ("fakeserver.pipeline.authorization", "fakeserver.model.policy")),
    ("server pipeline", ("fakeserver.pipeline.",)),
    ("server sessions", ("fakeserver.model.sessions",)),
    ("server jobs", ("fakeserver.model.jobs",)),
    ("server upload validation", ("fakeserver.model.uploads",)),
]


def module_of(name: str) -> str:
    """``flare_api.session.xǁSessionǁ_login`` → ``flare_api.session``."""
    return re.split(r"\.x[_ǁ]", name, maxsplit=1)[0]


def area_of(module: str) -> str:
    """The issue's area a module belongs to (``other`` for modules outside them)."""
    for area, prefixes in AREAS:
        if any(module == p.rstrip(".") or module.startswith(p) for p in prefixes):
            return area
    return "other"


def main(argv: list[str]) -> int:
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for line in out.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        by_module[module_of(match["name"])][match["status"]] += 1
        if match["status"] not in _KILLED and match["status"] != _PENDING:
            survivors.append(line.strip())
    by_area: dict[str, Counter[str]] = defaultdict(Counter)
    for module, counts in by_module.items():
        by_area[area_of(module)].update(counts)
    _header("area")
    total = Counter[str]()
    for area in [a for a, _ in AREAS] + ["other"]:
        if area in by_area:
            total.update(by_area[area])
            _print_row(area, by_area[area])
    _print_row("all", total)
    print()
    _header("module")
    for module in sorted(by_module):
        _print_row(module, by_module[module])
    if "--survivors" in argv:
        print()
        print("\n".join(survivors))
    return 0


def _header(label: str) -> None:
    print(f"{label:40} {'killed':>7} {'survived':>8} {'no tests':>8} {'run':>6} {'not run':>7} {'score':>7}")


def _print_row(label: str, counts: Counter[str]) -> None:
    killed = sum(counts[s] for s in _KILLED)
    runs = sum(n for status, n in counts.items() if status != _PENDING)
    score = f"{100 * killed / runs:.1f}%" if runs else "-"
    print(
        f"{label:40} {killed:>7} {counts['survived']:>8} {counts['no tests']:>8} {runs:>6} {counts[_PENDING]:>7}"
        f" {score:>7}"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
