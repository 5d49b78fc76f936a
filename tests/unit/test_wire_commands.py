"""Unit tests for flare_api.wire.commands: FLARE's server-side split (quirks included) and our safe join.

Reference: flare-2.3-admin-protocol.md section 3.6 (command-line tokenizing).
"""

from __future__ import annotations

from typing import Any

import pytest

from flare_api.wire.commands import join_command_line, split_command_line

# --- split: the no-quote path (collapse runs of spaces, split on " ") ------------------------------


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ("list_jobs", ["list_jobs"]),
        ("list_jobs -r -m 1 -n hello 7653", ["list_jobs", "-r", "-m", "1", "-n", "hello", "7653"]),
        ("job_mgmt.list_jobs", ["job_mgmt.list_jobs"]),
        ("check_status   server", ["check_status", "server"]),
        ("a  b   c    d", ["a", "b", "c", "d"]),
    ],
)
def test_split_plain_lines(line: str, args: list[str]) -> None:
    assert split_command_line(line) == args


def test_split_leading_space_gives_empty_first_arg() -> None:
    assert split_command_line(" list_jobs") == ["", "list_jobs"]
    assert split_command_line("   list_jobs") == ["", "list_jobs"]


def test_split_trailing_space_gives_empty_last_arg() -> None:
    assert split_command_line("list_jobs ") == ["list_jobs", ""]
    assert split_command_line("list_jobs    ") == ["list_jobs", ""]
    assert split_command_line(" a ") == ["", "a", ""]


def test_split_empty_and_blank_lines() -> None:
    assert split_command_line("") == [""]
    assert split_command_line(" ") == ["", ""]
    assert split_command_line("     ") == ["", ""]


def test_split_tabs_are_not_separators() -> None:
    assert split_command_line("list_jobs\t-r") == ["list_jobs\t-r"]
    assert split_command_line("a\t\tb c") == ["a\t\tb", "c"]
    assert split_command_line("\tlist_jobs") == ["\tlist_jobs"]


def test_split_newlines_and_other_whitespace_are_not_separators() -> None:
    assert split_command_line("a\nb c\r\nd") == ["a\nb", "c\r\nd"]
    assert split_command_line("a\u00a0b") == ["a\u00a0b"]


def test_split_single_quotes_without_double_quote_are_literal() -> None:
    # Only a '"' switches to shlex; single quotes and backslashes stay as typed.
    assert split_command_line("cat 'my file'") == ["cat", "'my", "file'"]
    assert split_command_line("cat a\\ b") == ["cat", "a\\", "b"]


# --- split: the shlex path (the line contains a '"') ------------------------------------------------


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ('submit_job "my job"', ["submit_job", "my job"]),
        ('a "b" c', ["a", "b", "c"]),
        ('a "" c', ["a", "", "c"]),
        ('a"b c"d', ["ab cd"]),
        ('grep "x y" log.txt', ["grep", "x y", "log.txt"]),
        ("a 'b c' \"d\"", ["a", "b c", "d"]),
        ('a "b\\"c"', ["a", 'b"c']),
        ('a "b\\\\c"', ["a", "b\\c"]),
        ('a "b\\nc"', ["a", "b\\nc"]),
        ('a \\"b', ["a", '"b']),
    ],
)
def test_split_with_double_quote_uses_posix_shlex(line: str, args: list[str]) -> None:
    assert split_command_line(line) == args


def test_split_shlex_path_treats_tabs_and_newlines_as_separators() -> None:
    assert split_command_line('a\t"b"\nc') == ["a", "b", "c"]


def test_split_shlex_path_has_no_empty_args_for_edge_spaces() -> None:
    assert split_command_line(' "list_jobs" ') == ["list_jobs"]


def test_split_shlex_path_hash_is_not_a_comment() -> None:
    assert split_command_line('a #b "c"') == ["a", "#b", "c"]


def test_split_empty_quotes() -> None:
    # shlex.split('""') gives one empty arg: the command name "" (then: Unknown command "").
    assert split_command_line('""') == [""]
    assert split_command_line('"" ""') == ["", ""]


@pytest.mark.parametrize("line", ['a "b', '"', 'submit_job "my job', 'a \'b "c"', 'a "b\\"'])
def test_split_unclosed_quote_raises(line: str) -> None:
    with pytest.raises(ValueError, match="No closing quotation"):
        split_command_line(line)


def test_split_trailing_backslash_in_shlex_path_raises() -> None:
    with pytest.raises(ValueError, match="No escaped character"):
        split_command_line('"a" \\')


# --- join ---------------------------------------------------------------------------------------------


def test_join_plain_args_like_flare() -> None:
    args = ["list_jobs", "-r", "-m", "1", "-n", "hello", "7653"]
    assert join_command_line(args) == "list_jobs -r -m 1 -n hello 7653"
    assert split_command_line(join_command_line(args)) == args


@pytest.mark.parametrize(
    "args",
    [
        ["list_jobs"],
        ["get_job_meta", "e5a7b4c2-1f3e-4f61-9c1b-0a8d7b6c5e4f"],
        ["check_status", "client", "site-1", "site-2"],
        ["cat", "server", "log.txt"],
        ["grep", "server", "-i", "error|warn", "log.txt"],
        ["tail", "server", "-n", "5", "a\\b", "'q'", "#x"],
        ["a\tb", "c\nd"],
    ],
)
def test_join_without_spaces_or_double_quotes_is_a_single_space_join(args: list[str]) -> None:
    assert join_command_line(args) == " ".join(args)
    assert split_command_line(join_command_line(args)) == args


def test_join_accepts_any_sequence() -> None:
    assert join_command_line(("a", "b")) == "a b"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["submit_job", "my job"], 'submit_job "my job"'),
        (["grep", "server", "x y", "log.txt"], 'grep server "x y" log.txt'),
        (["a", 'say "hi"'], 'a "say \\"hi\\""'),
        (["a", '"'], 'a "\\""'),
        (["a b", "c\\d"], '"a b" "c\\\\d"'),
        (["a b", "c\td"], '"a b" "c\td"'),
        (["a b", "it's"], '"a b" "it\'s"'),
        (["a b", "$HOME", "`x`"], '"a b" "$HOME" "`x`"'),
        (["a b", "-n", "x/y.z", "k=v", "u@h:1,2%+"], '"a b" -n x/y.z k=v u@h:1,2%+'),
    ],
)
def test_join_quotes_when_needed(args: list[str], line: str) -> None:
    assert join_command_line(args) == line
    assert split_command_line(line) == args


def test_join_round_trips_tricky_args() -> None:
    args = ["cmd", " ", "  lead", "trail  ", 'a"b', "\\", '\\"', "\n", "\t x", "caf\u00e9 \u4e2d", "'", "''"]
    assert split_command_line(join_command_line(args)) == args


def test_join_refuses_no_args() -> None:
    with pytest.raises(ValueError, match=r"needs at least one argument \(the command name\)"):
        join_command_line([])


@pytest.mark.parametrize(("args", "index"), [([""], 0), (["list_jobs", ""], 1), (["a", "b", "", "d"], 2)])
def test_join_refuses_empty_args(args: list[str], index: int) -> None:
    with pytest.raises(ValueError, match=rf"command argument {index} is empty"):
        join_command_line(args)


@pytest.mark.parametrize(
    ("args", "index", "type_name"),
    [
        ([1], 0, "int"),
        (["list_jobs", None], 1, "NoneType"),
        (["cat", b"log.txt"], 1, "bytes"),
        (["a", "b", 2.5], 2, "float"),
        (["a", ["b"]], 1, "list"),
    ],
)
def test_join_refuses_non_str_args(args: list[Any], index: int, type_name: str) -> None:
    with pytest.raises(TypeError, match=rf"command argument {index} must be str, got {type_name}"):
        join_command_line(args)
