"""Mark stored mutmut 3 results as "not checked" so the next ``mutmut run`` (resume) runs those mutants again.

    python scripts/mutation_reset.py                 # survived and "no tests" results (after new tests)
    python scripts/mutation_reset.py --status timeout --status survived
    python scripts/mutation_reset.py --name 'fakeserver.pipeline.dispatch.*'   # only these (fnmatch globs)

mutmut keeps a mutant's result until its function changes; a test written later does not reset it, and a
function that was new since the last full trace of the tests ends as "no tests". Results live in
``mutants/<source>.meta`` (``exit_code_by_key``); ``null`` means not checked. Run it only while no
``mutmut run`` is running (mutmut rewrites those files). See docs/testing.md, "Mutation testing".
"""

from __future__ import annotations

import argparse
import fnmatch
import json
from pathlib import Path

#: mutmut 3's exit codes per status (``mutmut.stats.status_by_exit_code``).
EXIT_CODES = {"survived": {0}, "no tests": {5, 33}, "timeout": {-24, 24, 36, 152, 255}, "suspicious": {35}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--status", action="append", choices=sorted(EXIT_CODES), help="default: survived, no tests")
    parser.add_argument("--mutants", default="mutants", help="mutmut's directory (default: mutants)")
    parser.add_argument("--name", action="append", help="reset only mutants matching this glob (repeatable)")
    args = parser.parse_args()
    codes = set().union(*(EXIT_CODES[s] for s in args.status or ["survived", "no tests"]))
    total = 0
    for meta_path in sorted(Path(args.mutants).rglob("*.meta")):
        data = json.loads(meta_path.read_text(encoding="utf-8"))
        results = data.get("exit_code_by_key", {})
        reset = [key for key, code in results.items() if code in codes and _named(key, args.name)]
        if reset:
            for key in reset:
                results[key] = None
            meta_path.write_text(json.dumps(data, indent=4), encoding="utf-8")
            print(f"{meta_path}: {len(reset)}")
            total += len(reset)
    print(f"{total} mutants reset to not checked")
    return 0


def _named(key: str, globs: list[str] | None) -> bool:
    """True without ``--name``, else when ``key`` matches one of the globs."""
    return globs is None or any(fnmatch.fnmatchcase(key, glob) for glob in globs)


if __name__ == "__main__":
    raise SystemExit(main())
