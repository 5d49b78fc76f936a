"""Folding list_jobs' repeated options (linear time) gives argparse's exact answer: same options or same error."""

from __future__ import annotations

import argparse

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fakeserver.commands.job_mgmt import fold_list_jobs_args, list_jobs_parser

#: Words that exercise every branch: switches and clusters, valued options with good, bad and missing
#: values, negative numbers (argparse reads them as values), "--", unknown options, positionals.
WORDS = st.sampled_from(
    ["-d", "-u", "-r", "-du", "-rdu", "-dd", "-m", "-n", "--", "x", "ab", "5", "0", "-5", "-1.5", "1.5", "",
     "-", "-x", "-m3", "-nab", "-dm", "-dn", "-mx", "-d5", "a b", "--d", "-m=4", "7"]
)  # fmt: skip


def outcome(words: list[str]) -> tuple[str, object]:
    try:
        return "ok", vars(list_jobs_parser().parse_args(words))
    except ValueError as exc:
        return "error", str(exc)


@settings(max_examples=2500, deadline=None)
@given(st.lists(WORDS, max_size=14))
@example(["-n", "-d", "-d"])
@example(["-m", "1", "-m", "x", "-m", "2"])
@example(["-d", "x", "-d", "y"])
@example(["-m", "-d", "-m", "3"])
def test_folding_keeps_argparse_answer(words: list[str]) -> None:
    folded = fold_list_jobs_args(words)
    assert outcome(folded) == outcome(words)
    assert len(folded) <= len(words)


def test_repeated_switches_and_pairs_fold_to_a_few_words() -> None:
    words = ["-d"] * 20_000 + ["-m", "3"] * 5_000 + ["-n", "job"] * 5_000 + ["abc"]
    folded = fold_list_jobs_args(words)
    assert folded == ["-d", "-m", "3", "-n", "job", "abc"]
    assert vars(list_jobs_parser().parse_args(folded)) == {
        "job_id": "abc",
        "d": True,
        "u": False,
        "r": False,
        "n": "job",
        "m": 3,
    }


def test_parser_is_flare_shape() -> None:
    assert isinstance(list_jobs_parser(), argparse.ArgumentParser)
