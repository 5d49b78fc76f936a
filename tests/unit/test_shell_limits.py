"""The shell's bounds: grep runs in steps linear in its input, argument handling is linear and capped."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakeserver.protocol.refusals import FlareCrash
from fakeserver.shell import runner
from fakeserver.shell.grep import BUDGET_MESSAGE, _Bre
from fakeserver.shell.nfa import MAX_STEPS, Budget
from fakeserver.shell.validation import MAX_SHELL_ARGS, _fold_repeated_flags, _parser, validate

CATASTROPHIC = [b"\\(a*\\)*b", b"\\(a\\|aa\\)*b", b"a*a*a*a*a*a*b", b"\\(\\(a*\\)*\\)*c", b"\\(.*\\)*x\\{3\\}"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_take_linear_steps(pattern: bytes) -> None:
    program = _Bre(pattern, icase=False).compile()
    line = b"a" * 20_000
    budget = Budget()
    assert program.search(line, budget) is False
    spent = MAX_STEPS - budget.left
    assert spent <= 2 * (len(line) + 1) * len(program.code)


def test_backreference_blowup_stops_at_the_budget(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a" * 5_000 + b"\nafter\n")
    out = runner.run("grep", ["'\\(a*\\)*\\1b'", "a.txt"], tmp_path, display_root="/ws")
    assert out == "grep: a.txt" + BUDGET_MESSAGE.decode().rstrip("\n")


def test_matches_found_before_the_budget_runs_out_are_kept(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"aab\n" + b"a" * 5_000 + b"\n")
    out = runner.run("grep", ["'\\(a*\\)*\\1b'", "a.txt"], tmp_path, display_root="/ws")
    assert out.splitlines()[0] == "aab"
    assert out.splitlines()[1].endswith("(the fake server's limit)")


def test_repeated_flags_cost_linear_time(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hi\n")
    error, rest = validate("ls", ["ls", "server", *["-l"] * 10_000, "x.txt"])
    assert error is None and len(rest) == 10_001
    assert _fold_repeated_flags("ls", rest) == ["-l", "x.txt"]


def test_too_many_arguments_is_flares_e2big_crash() -> None:
    with pytest.raises(FlareCrash, match="Argument list too long"):
        validate("ls", ["ls", "server", *[f"f{i}.txt" for i in range(MAX_SHELL_ARGS + 1)]])
    with pytest.raises(FlareCrash, match="Argument list too long"):
        validate("cat", ["cat", "server", "x" * (128 * 1024) + ".txt"])


_TOKENS = st.sampled_from(["-l", "-a", "-la", "-al", "-z", "--", "x.txt", "y.txt", "-n", "-i", "pat", "-5"])


@given(command=st.sampled_from(["ls", "cat", "grep"]), args=st.lists(_TOKENS, max_size=12))
def test_folding_flags_never_changes_argparse_answer(command: str, args: list[str]) -> None:
    def answer(tokens: list[str]) -> tuple[object, str]:
        parser = _parser(command)
        try:
            parsed = vars(parser.parse_args(tokens))
        except Exception as exc:  # the answer, whatever it is, must be the same
            parsed = {"crash": type(exc).__name__}
        return parsed, parser.err

    assert answer(_fold_repeated_flags(command, args)) == answer(args)
