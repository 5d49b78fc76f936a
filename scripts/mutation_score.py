"""Print the mutation score per module from mutmut 3's results (run after ``mutmut run``; see docs/testing.md).

Killed = ``killed`` + ``timeout`` (+ caught by the type checker). Score = killed / (all mutants that were run),
so a mutant no test reaches (``no tests``) counts against the score, like a survivor.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict

_LINE = re.compile(r"^\s*(?P<name>\S+?)__mutmut_\d+: (?P<status>.+)$")
_KILLED = {"killed", "timeout", "caught by type check"}


def module_of(name: str) -> str:
    """``flare_api.session.xǁSessionǁ_login`` → ``flare_api.session``."""
    return re.split(r"\.x[_ǁ]", name, maxsplit=1)[0]


def main(argv: list[str]) -> int:
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for line in out.splitlines():
        match = _LINE.match(line)
        if not match or match["status"] == "not checked":
            continue
        by_module[module_of(match["name"])][match["status"]] += 1
        if match["status"] not in _KILLED:
            survivors.append(f"{line.strip()}")
    total = Counter[str]()
    print(f"{'module':40} {'killed':>7} {'survived':>8} {'no tests':>8} {'total':>6} {'score':>7}")
    for module in sorted(by_module):
        counts = by_module[module]
        total.update(counts)
        _print_row(module, counts)
    _print_row("all", total)
    if "--survivors" in argv:
        print("\n".join(survivors))
    return 0


def _print_row(label: str, counts: Counter[str]) -> None:
    killed = sum(counts[s] for s in _KILLED)
    runs = sum(counts.values())
    score = f"{100 * killed / runs:.1f}%" if runs else "-"
    print(f"{label:40} {killed:>7} {counts['survived']:>8} {counts['no tests']:>8} {runs:>6} {score:>7}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
