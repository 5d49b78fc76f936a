"""Tests for fakeserver.shell: FLARE's validation texts, usage strings, and output compared with real GNU tools.

Reference: flare-2.3-admin-protocol.md section 6.4 (shell commands) and appendix A (usage strings); nvflare
2.3 ``private/fed/server/shell_cmd.py``, ``fuel/hci/shell_cmd_val.py`` and ``fuel/hci/cmd_arg_utils.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import pytest

from fakeserver.protocol.refusals import FlareCrash
from fakeserver.shell import (
    ABSOLUTE_PATH,
    DOTDOT_IN_PATH,
    MISSING_TARGET,
    NO_EXTRA_ARGS,
    ONLY_ONE_FILE,
    SHELL_COMMANDS,
    TEXT_FILE_ONLY,
    ShellResult,
    execute,
    run,
    usage,
    validate,
)

EXTENSIONS = ".txt, .log, .json, .csv, .sh, .config, .py"
OPTIONS = "options:" if sys.version_info >= (3, 10) else "optional arguments:"
TARGET = 'where target is "server" or client name\n'

# --- usage strings (appendix A, Python 3.10+ wording; "optional arguments:" before 3.10) -------------------


def expected_usage(head: str, positionals: str, options: str) -> str:
    return f"{head}\n {TARGET}\npositional arguments:\n{positionals}\n{OPTIONS}\n{options}"


EXPECTED_USAGE = {
    "pwd": "pwd target\n" + TARGET,
    "ls": expected_usage(
        "ls target [options] [files]",
        "  file\n",
        "  -a\n"
        "  -l    use a long listing format\n"
        "  -t    sort by modification time, newest first\n"
        "  -S    sort by file size, largest first\n"
        "  -R    list subdirectories recursively\n"
        "  -u    with -l: show access time, otherwise: sort by access time\n",
    ),
    "cat": expected_usage(
        "cat target [options] fileName",
        "  file\n",
        "  -n    number all output lines\n"
        "  -b    number nonempty output lines, overrides -n\n"
        "  -s    suppress repeated empty output lines\n"
        "  -T    display TAB characters as ^I\n",
    ),
    "head": expected_usage(
        "head target [options] fileName",
        "  file\n",
        "  -c C  print the first C bytes of each file\n  -n N  print the first N lines instead of the first 10\n",
    ),
    "tail": expected_usage(
        "tail target [options] fileName",
        "  file\n",
        "  -c C  output the last C bytes\n  -n N  output the last N lines\n",
    ),
    "grep": expected_usage(
        "grep target [options] PATTERN fileName",
        "  pattern\n  file\n",
        "  -n       print line number with output lines\n"
        "  -i       ignore case distinctions\n"
        "  -b       print the byte offset with output lines\n",
    ),
}


@pytest.mark.parametrize("command", SHELL_COMMANDS)
def test_usage_matches_appendix_a(command: str) -> None:
    assert usage(command) == EXPECTED_USAGE[command]


def test_usage_ignores_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    assert usage("ls") == EXPECTED_USAGE["ls"]


def test_unknown_command_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a FLARE shell command"):
        validate("rm", ["rm", "server", "x"])
    with pytest.raises(ValueError):
        usage("rm")


# --- validation: texts and order (shell_cmd.py authorize_command / validate_shell_command) --------------
def unsupported(name: str) -> str:
    return f"unsupported file {name}"


def text_only(name: str) -> str:
    return TEXT_FILE_ONLY.format(file=name)


VALIDATION_CASES = [
    # missing target comes first (shell_cmd.py:45-47)
    ("pwd", ["pwd"], MISSING_TARGET),
    ("ls", ["ls"], MISSING_TARGET),
    ("cat", ["cat"], MISSING_TARGET),
    ("head", ["head"], MISSING_TARGET),
    ("tail", ["tail"], MISSING_TARGET),
    ("grep", ["grep"], MISSING_TARGET),
    # pwd: no validator, no extra args (shell_cmd.py:133-137)
    ("pwd", ["pwd", "server"], None),
    ("pwd", ["pwd", "site-1"], None),
    ("pwd", ["pwd", "server", "x"], NO_EXTRA_ARGS),
    ("pwd", ["pwd", "server", "-l"], NO_EXTRA_ARGS),
    # argparse through FLARE's ArgValidator (messages stable on Python 3.9-3.13)
    ("ls", ["ls", "server", "-z"], "unrecognized arguments: -z"),
    ("ls", ["ls", "server", "-h"], "unrecognized arguments: -h"),
    ("ls", ["ls", "server", "--help"], "unrecognized arguments: --help"),
    ("ls", ["ls", "server", "a", "b"], "unrecognized arguments: b"),
    ("ls", ["ls", "server", "-l", "a", "b", "c"], "unrecognized arguments: b c"),
    ("ls", ["ls", "server", "-n"], "unrecognized arguments: -n"),
    ("cat", ["cat", "server"], "the following arguments are required: file"),
    ("cat", ["cat", "server", "-x", "a.txt"], "unrecognized arguments: -x"),
    ("cat", ["cat", "server", "-n", "a.txt", "-b", "c.txt"], "unrecognized arguments: c.txt"),
    ("head", ["head", "server"], "the following arguments are required: file"),
    ("head", ["head", "server", "-n"], "unrecognized arguments: -n"),
    ("head", ["head", "server", "-n", "x", "f.txt"], "unrecognized arguments: -n x f.txt"),
    ("head", ["head", "server", "-n", "1e3", "f.txt"], "unrecognized arguments: -n 1e3 f.txt"),
    ("head", ["head", "server", "-n", "3", "-z", "f.txt"], "unrecognized arguments: -z"),
    ("head", ["head", "server", "--n", "3", "f.txt"], "unrecognized arguments: --n"),
    ("tail", ["tail", "server"], "the following arguments are required: file"),
    ("tail", ["tail", "server", "-c", "0x10", "f.txt"], "unrecognized arguments: -c 0x10 f.txt"),
    ("grep", ["grep", "server"], "the following arguments are required: pattern, file"),
    ("grep", ["grep", "server", "-q", "x", "f.txt"], "unrecognized arguments: -q"),
    # options that argparse accepts
    ("ls", ["ls", "server"], None),
    ("ls", ["ls", "server", "-la"], None),
    ("ls", ["ls", "server", "-a", "-l", "-t", "-S", "-R", "-u", "dir"], None),
    ("ls", ["ls", "server", "-1"], None),
    ("ls", ["ls", "server", "-l", "--", "x"], None),
    ("cat", ["cat", "server", "-nbsT", "log.txt"], None),
    ("cat", ["cat", "server", "log.txt", "-n"], None),
    ("head", ["head", "server", "-n", "-3", "log.txt"], None),
    ("head", ["head", "server", "-n5", "log.txt"], None),
    ("head", ["head", "server", "-n=5", "log.txt"], None),
    ("head", ["head", "server", "-c", "+3", "log.txt"], None),
    ("tail", ["tail", "server", "-n", "1_0", "log.txt"], None),
    ("grep", ["grep", "server", "-nib", "err", "log.txt"], None),
    ("grep", ["grep", "server", "--", "-x", "log.txt"], None),
    # only one file (shell_cmd.py:158-159), checked before the names
    ("cat", ["cat", "server", "a.txt", "b.txt"], ONLY_ONE_FILE),
    ("cat", ["cat", "server", "a$", "/b"], ONLY_ONE_FILE),
    ("head", ["head", "server", "-5", "f.txt"], ONLY_ONE_FILE),
    ("grep", ["grep", "server", "x", "a.txt", "b.txt"], ONLY_ONE_FILE),
    ("grep", ["grep", "server", "-5", "--", "x", "a.txt"], ONLY_ONE_FILE),
    # name rules in order: charset, absolute, "..", extension (shell_cmd.py:170-187)
    ("cat", ["cat", "server", "a$.txt"], unsupported("a$.txt")),
    ("cat", ["cat", "server", "x;rm.txt"], unsupported("x;rm.txt")),
    ("cat", ["cat", "server", "é.txt"], unsupported("é.txt")),
    ("cat", ["cat", "server", "a\tb.txt"], unsupported("a\tb.txt")),
    ("cat", ["cat", "server", "/a$.txt"], unsupported("/a$.txt")),
    ("cat", ["cat", "server", "/etc/passwd"], ABSOLUTE_PATH),
    ("cat", ["cat", "server", "/../x.txt"], ABSOLUTE_PATH),
    ("cat", ["cat", "server", "../x.txt"], DOTDOT_IN_PATH),
    ("cat", ["cat", "server", "a/../x.txt"], DOTDOT_IN_PATH),
    ("cat", ["cat", "server", "a/.."], DOTDOT_IN_PATH),
    ("cat", ["cat", "server", "..x.txt"], None),
    ("cat", ["cat", "server", "x.bin"], text_only("x.bin")),
    ("cat", ["cat", "server", "x.TXT"], text_only("x.TXT")),
    ("cat", ["cat", "server", ".txt"], text_only(".txt")),
    ("cat", ["cat", "server", "noext"], text_only("noext")),
    ("cat", ["cat", "server", "--", "-"], text_only("-")),
    ("cat", ["cat", "server", "a.txt\n"], text_only("a.txt\n")),  # re.match's "$" allows one trailing newline
    ("cat", ["cat", "server", "a.txt\n\n"], unsupported("a.txt\n\n")),
    ("head", ["head", "server", "x.bin"], text_only("x.bin")),
    ("tail", ["tail", "server", "../x.log"], DOTDOT_IN_PATH),
    ("grep", ["grep", "server", "x", "/x.log"], ABSOLUTE_PATH),
    ("grep", ["grep", "server", "x", "x.pyc"], text_only("x.pyc")),
    ("grep", ["grep", "server", "a b", "x.py"], None),
    ("grep", ["grep", "server", "$(rm)", "x.py"], None),  # FLARE does not look at the pattern
    (
        "grep",
        ["grep", "server", "x", "x.py;"],
        unsupported("x.py;"),
    ),
    ("ls", ["ls", "server", "any.bin"], None),
    ("ls", ["ls", "server", "dir/sub/"], None),
    ("ls", ["ls", "server", "sub\n"], None),
    ("ls", ["ls", "server", "a*"], unsupported("a*")),
    ("ls", ["ls", "server", "/"], ABSOLUTE_PATH),
    ("ls", ["ls", "server", ".."], DOTDOT_IN_PATH),
    ("ls", ["ls", "server", "-l", "a/../b"], DOTDOT_IN_PATH),
    # options are parsed before any name rule
    ("cat", ["cat", "server", "-z", "/etc/passwd"], "unrecognized arguments: -z"),
]


@pytest.mark.parametrize(("command", "args", "error"), VALIDATION_CASES)
def test_validate(command: str, args: list[str], error: Optional[str]) -> None:
    assert validate(command, args) == (error, args[2:])


class FlareArgValidator(argparse.ArgumentParser):
    """Oracle: FLARE's ArgValidator as the reference describes it (argparse whose error() only records)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog=prog, add_help=False)
        self.err = ""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.err = message


def oracle_error(command: str, args: list[str]) -> str:
    parser = FlareArgValidator(command)
    if command in ("head", "tail"):
        parser.add_argument("-c", type=int)
        parser.add_argument("-n", type=int)
    else:
        parser.add_argument("-n", action="store_true")
    if command == "grep":
        parser.add_argument("pattern")
    parser.add_argument("files", metavar="file", nargs="+")
    parser.parse_args(args)
    return parser.err


@pytest.mark.parametrize(
    ("command", "args"),
    [("head", ["-n", "5"]), ("tail", ["-c", "1"]), ("grep", ["pat"]), ("grep", ["-n"]), ("grep", ["-e", "f.txt"])],
)
def test_version_dependent_argparse_texts_follow_the_running_python(command: str, args: list[str]) -> None:
    """These texts changed in Python 3.12 (e.g. ``head -n 5``: required file -> ``unrecognized arguments: -n 5``)."""
    error, _ = validate(command, [command, "server", *args])
    assert error == oracle_error(command, args)
    if sys.version_info < (3, 12) and args == ["-n", "5"]:
        assert error == "the following arguments are required: file"


@pytest.mark.parametrize("blank", ["", " ", "\t", "  \n"])
@pytest.mark.parametrize("command", SHELL_COMMANDS)
def test_blank_argument_crashes_like_flares_join(command: str, blank: str) -> None:
    with pytest.raises(FlareCrash) as caught:
        validate(command, [command, "server", "-l", blank])
    assert isinstance(caught.value.original, IndexError)
    assert str(caught.value.original) == "list index out of range"


def test_blank_target_is_not_joined() -> None:
    """FLARE joins only the args after the target, so a blank target passes validation."""
    assert validate("ls", ["ls", ""]) == (None, [])


# --- execute / ShellResult ----------------------------------------------------------------------------
def test_execute_returns_error_items_and_output(tmp_path: Path) -> None:
    assert execute("cat", ["cat", "server", "/etc/passwd"], tmp_path, display_root="/ws") == ShellResult(
        error=ABSOLUTE_PATH
    )
    assert execute("pwd", ["pwd", "server"], tmp_path, display_root="/workspace/server") == ShellResult(
        output="/workspace/server"
    )
    assert execute("ls", ["ls", "server"], tmp_path, display_root="/ws") == ShellResult(output="")


def test_pwd_never_shows_the_host_path(tmp_path: Path) -> None:
    assert run("pwd", [], tmp_path, display_root="/workspace/site-1") == "/workspace/site-1"


# --- output details we control exactly ----------------------------------------------------------------
def test_ls_long_line_shape(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_bytes(b"x" * 1234)
    log.chmod(0o644)
    (tmp_path / "a.txt").write_bytes(b"")
    (tmp_path / "a.txt").chmod(0o600)
    stamp = datetime(2026, 11, 28, 7, 11, 5, tzinfo=timezone.utc).timestamp()
    for path in (log, tmp_path / "a.txt"):
        os.utime(path, (stamp, stamp))
    out = run("ls", ["-l"], tmp_path, display_root="/ws", owner="user", group="staff", now=stamp + 60, tz=timezone.utc)
    blocks = sum(os.lstat(p).st_blocks for p in (log, tmp_path / "a.txt"))
    assert out.splitlines() == [
        f"total {(blocks + 1) // 2}",
        "-rw------- 1 user staff    0 Nov 28 07:11 a.txt",
        "-rw-r--r-- 1 user staff 1234 Nov 28 07:11 log.txt",
    ]
    old = run("ls", ["-l", "log.txt"], tmp_path, display_root="/ws", now=stamp + 200 * 86400, tz=timezone.utc)
    assert old == "-rw-r--r-- 1 flare flare 1234 Nov 28  2026 log.txt"
    future = run("ls", ["-l", "log.txt"], tmp_path, display_root="/ws", now=stamp - 60, tz=timezone.utc)
    assert future == "-rw-r--r-- 1 flare flare 1234 Nov 28  2026 log.txt"


def test_ls_dot_dot_of_the_root_is_the_root(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("x")
    out = run("ls", ["-la"], root, display_root="/ws", tz=timezone.utc).splitlines()
    assert [line.split()[-1] for line in out[1:]] == [".", "..", "a.txt"]
    assert out[1].rsplit(" ", 1)[0] == out[2].rsplit(" ", 1)[0]


def test_getoutput_text_rules(tmp_path: Path) -> None:
    (tmp_path / "crlf.txt").write_bytes(b"a\r\nb\rc\n\n")
    assert run("cat", ["crlf.txt"], tmp_path, display_root="/ws") == "a\nb\nc\n"
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(FlareCrash) as caught:
        run("cat", ["latin1.txt"], tmp_path, display_root="/ws")
    assert isinstance(caught.value.original, UnicodeDecodeError)
    assert str(caught.value.original) == "'utf-8' codec can't decode byte 0xe9 in position 3: invalid continuation byte"
    with pytest.raises(FlareCrash) as encode_crash:
        run("grep", ["\ud800", "x.txt"], tmp_path, display_root="/ws")
    assert isinstance(encode_crash.value.original, UnicodeEncodeError)


def test_confined_to_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP SECRET\n")
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "in.txt").write_text("inside\n")
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "rel.txt").symlink_to(Path("..") / "outside" / "secret.txt")
    (root / "escdir").symlink_to(outside)
    (root / "sub" / "up.txt").symlink_to(Path("..") / ".." / "outside" / "secret.txt")
    (root / "ok.txt").symlink_to("in.txt")

    def sh(command: str, *args: str) -> str:
        return run(command, list(args), root, display_root="/ws")

    for name in ("escape.txt", "rel.txt", "sub/up.txt", "escdir/secret.txt"):
        assert sh("cat", name) == f"cat: {name}: No such file or directory"
        assert sh("head", name) == f"head: cannot open '{name}' for reading: No such file or directory"
        assert sh("tail", name) == f"tail: cannot open '{name}' for reading: No such file or directory"
        assert sh("grep", "SECRET", name) == f"grep: {name}: No such file or directory"
        assert sh("ls", "-l", name) == f"ls: cannot access '{name}': No such file or directory"
    assert sh("ls", "escdir") == "ls: cannot access 'escdir': No such file or directory"
    assert sh("ls", "-R") == ".:\nin.txt\nok.txt\nsub\n\n./sub:"
    assert sh("cat", "ok.txt") == "inside"
    assert sh("grep", "/*", "in.txt") == "inside"  # an absolute glob is never expanded outside the root
    # "*" expands to the visible names "in.txt ok.txt sub": pattern "in.txt", files "ok.txt sub in.txt"
    assert sh("grep", "*", "in.txt") == "grep: sub: Is a directory"


# --- comparison with the real GNU tools -----------------------------------------------------------------
OLD = int(datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp())
NOW = int(time.time())


def user_names() -> tuple[str, str]:
    """The owner and group names GNU ls prints for files we create."""
    try:
        import grp
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    except (ImportError, KeyError):
        return str(os.getuid()), str(os.getgid())


def build_tree(root: Path) -> None:
    files = {
        "log.txt": b"2023-11-28 start\nError: disk a.b\nerror: ab\nwarn [x]\n\n\n\tindented\ttab\n{1}a\n"
        b"foo*bar\nend$\nAAA\naaa\r\nw o r d\nlast line\n",
        "audit.log": b"".join(b"line %d\n" % n for n in range(1, 31)),
        "notes.txt": b"one\n\n\n\ttwo\tx\n\nthree\n\n\n\nfour",
        "data.csv": b"a,b\n1,2\n",
        "empty.json": b"",
        "run.sh": b"#!/bin/sh\necho hi\n",
        "bin.log": b"x\0y\nerror\n",
        ".hidden.txt": b"hidden\n",
        "sub/a.py": b"print('a')\n",
        "sub/deep/b.config": b"{}\n",
        "big.txt": b"z" * 9000,
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "sub" / "empty").mkdir()
    (root / "dir.txt").mkdir()
    (root / "link.txt").symlink_to("log.txt")
    (root / "dangling.txt").symlink_to("missing.txt")
    (root / "sublink").symlink_to("sub")
    times = {name: OLD + 3600 * index for index, name in enumerate(sorted(files))}
    times["log.txt"] = times["notes.txt"] = NOW - 7200  # recent, and equal: -t breaks the tie by name
    for name, stamp in times.items():
        os.utime(root / name, (stamp - 60, stamp))
    for link in ("link.txt", "dangling.txt", "sublink"):
        os.utime(root / link, (OLD, OLD), follow_symlinks=False)
    for directory in ("sub/deep", "sub/empty", "sub", "dir.txt"):
        os.utime(root / directory, (OLD + 7, OLD + 5))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("shell") / "ws"
    root.mkdir()
    build_tree(root)
    yield root


def gnu_or_skip(tool: str) -> None:
    if shutil.which(tool) is None or not os.path.exists("/bin/sh"):
        pytest.skip(f"{tool} is not installed")
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout
    if "GNU" not in version:
        pytest.skip(f"{tool} is not the GNU one")


def flare_line(args: list[str]) -> str:
    """The line FLARE hands to the shell (reference 3.6): whitespace-holding args wrapped in double quotes."""
    return " ".join(f'"{arg}"' if len(arg.split()) > 1 else arg.strip() for arg in args)


def real_output(root: Path, args: list[str]) -> str:
    """What ``subprocess.getoutput`` returns on a server whose tools run with LC_ALL=C and TZ=UTC."""
    env = {"LC_ALL": "C", "TZ": "UTC", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    result = subprocess.run(
        ["/bin/sh", "-c", flare_line(args)],  # what subprocess.getoutput runs
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        check=False,
    )
    return result.stdout[:-1] if result.stdout.endswith("\n") else result.stdout


def compare(root: Path, line: str) -> None:
    command, *args = line.split(" ")
    gnu_or_skip(command)
    owner, group = user_names()
    ours = run(command, args, root, display_root=str(root), owner=owner, group=group, tz=timezone.utc)
    assert ours == real_output(root, [command, *args])


LS_CASES = [
    "ls",
    "ls -1",
    "ls -l",
    "ls -R",
    "ls -lR",
    "ls -a sub",
    "ls -la sub",
    "ls -laR sub",
    "ls -t",
    "ls -lt",
    "ls -S",
    "ls -lS",
    "ls -tS",
    "ls -St",
    "ls -Sl -t",
    "ls sub",
    "ls -l sub",
    "ls -R sub",
    "ls -R sub/",
    "ls -R ./",
    "ls -l sub/deep",
    "ls sub/empty",
    "ls -l sub/empty",
    "ls .",
    "ls log.txt",
    "ls -l log.txt",
    "ls -lR log.txt",
    "ls log.txt/",
    "ls missing",
    "ls -l missing",
    "ls link.txt",
    "ls -l link.txt",
    "ls dangling.txt",
    "ls -l dangling.txt",
    "ls sublink",
    "ls -l sublink",
    "ls -R sublink",
    "ls -- -l",
    "ls -",
    "ls -12",
    "ls -.5",
    "ls -l1",
    "ls .hidden.txt",
    "ls dir.txt",
]


@pytest.mark.parametrize("line", LS_CASES)
def test_ls_matches_gnu(tree: Path, line: str) -> None:
    compare(tree, line)


@pytest.mark.parametrize("line", ["ls -u", "ls -lu", "ls -ltu", "ls -uS", "ls -luR sub"])
def test_ls_access_time_matches_gnu(tree: Path, line: str) -> None:
    run("ls", ["-laR"], tree, display_root="/ws")  # reading directories may set their atime once (relatime)
    compare(tree, line)


CAT_HEAD_TAIL_CASES = [
    "cat notes.txt",
    "cat -n notes.txt",
    "cat -b notes.txt",
    "cat -s notes.txt",
    "cat -T notes.txt",
    "cat -ns notes.txt",
    "cat -bs notes.txt",
    "cat -nbsT notes.txt",
    "cat notes.txt -n",
    "cat -- notes.txt",
    "cat -n log.txt",
    "cat empty.json",
    "cat missing.txt",
    "cat dir.txt",
    "cat link.txt",
    "cat dangling.txt",
    "cat sub/deep/b.config",
    "head audit.log",
    "head log.txt",
    "head -n 2 notes.txt",
    "head -n -2 notes.txt",
    "head -n +2 notes.txt",
    "head -n 0 notes.txt",
    "head -n -0 notes.txt",
    "head -n5 audit.log",
    "head -c 7 notes.txt",
    "head -c -7 notes.txt",
    "head -c +7 notes.txt",
    "head -c 5 -n 2 notes.txt",
    "head -n 2 -c 5 notes.txt",
    "head -n 1_0 notes.txt",
    "head -n ٣ notes.txt",
    "head -n=3 notes.txt",
    "head -c 99999999999999999999999 notes.txt",
    "head -n 18446744073709551615 notes.txt",
    "head empty.json",
    "head missing.txt",
    "head dir.txt",
    "head big.txt",
    "tail audit.log",
    "tail log.txt",
    "tail -n 2 notes.txt",
    "tail -n -2 notes.txt",
    "tail -n +2 notes.txt",
    "tail -n +0 notes.txt",
    "tail -n 0 notes.txt",
    "tail -c 7 notes.txt",
    "tail -c +7 notes.txt",
    "tail -c -7 notes.txt",
    "tail -n 1_0 notes.txt",
    "tail -c=3 notes.txt",
    "tail -n 99999999999999999999999 notes.txt",
    "tail empty.json",
    "tail missing.txt",
    "tail dir.txt",
]


@pytest.mark.parametrize("line", CAT_HEAD_TAIL_CASES)
def test_cat_head_tail_match_gnu(tree: Path, line: str) -> None:
    compare(tree, line)


GREP_PATTERNS = [
    "error",
    "Error",
    "a.b",
    "a\\.b",
    "'a\\.b'",
    '"a\\.b"',
    "^e",
    "d$",
    "$",
    "end$",
    "end\\$",
    "[x]",
    "\\[x\\]",
    "[[:upper:]]",
    "[[:digit:]][[:digit:]]",
    "o*b",
    "*bar",
    "^*",
    "a\\{3\\}",
    "a\\{2,\\}",
    "a\\{,1\\}b",
    "\\(a\\)\\1",
    "\\(A\\)\\1\\1",
    "e\\|w",
    "\\<ab",
    "r\\>",
    "\\w\\s\\w",
    "\\bab\\b",
    "x\\?",
    "\\+a",
    "o\\+",
    "\\{1\\}a",
    "a**",
    "\\(\\)",
    "a\\|",
    "[^]a]",
    "[]a]",
    "[.]",
    "[[.a.]]",
    "[[=a=]]",
    "[%--]",
    ".",
    "\\r",
    "w o",
    "#x",
    "x #comment",
    "[",
    "[a",
    "[^",
    "a\\{1",
    "a\\{1x\\}",
    "a\\{2,1\\}",
    "a\\{99999\\}",
    "a\\{1,99999\\}",
    "\\(",
    "\\)",
    "a\\",
    "[[:foo:]]",
    "[:space:]",
    "[:a:]\\(",
    "[z-a]",
    "[a-b-c]",
    "[[:alpha:]-",
    "[[.ab.]]",
    "\\(a\\)\\2",
    "\\(a\\)\\|\\1",
    "'abc",
    '"abc',
    "a*",
    "*.log",
    "su?/*.py",
    "[ab]*",
    "[!l]*",
    ".*",
    "'a'*",
    'a"*"',
    "\\*",
]


@pytest.mark.parametrize("icase", [False, True])
@pytest.mark.parametrize("pattern", GREP_PATTERNS)
def test_grep_patterns_match_gnu(tree: Path, pattern: str, icase: bool) -> None:
    """A pattern with spaces arrives as several args (the wire splits on spaces), so grep gets more files."""
    gnu_or_skip("grep")
    args = ["-n", *(["-i"] if icase else []), *pattern.split(" "), "log.txt"]
    assert run("grep", args, tree, display_root="/ws") == real_output(tree, ["grep", *args])


@pytest.mark.parametrize(
    "line",
    [
        "grep -b error log.txt",
        "grep -nb error log.txt",
        "grep -nib error log.txt",
        "grep -ni AAA log.txt",
        "grep zz log.txt",
        "grep error missing.log",
        "grep error dir.txt",
        "grep error bin.log",
        "grep -n zz bin.log",
        "grep -5 log.txt",
        "grep -1.5 log.txt",
        "grep -- -5 log.txt",
        "grep line empty.json",
        "grep line audit.log",
        "grep -n line$ audit.log",
    ],
)
def test_grep_options_match_gnu(tree: Path, line: str) -> None:
    compare(tree, line)


def test_grep_whitespace_pattern_is_quoted_like_flare(tree: Path) -> None:
    """FLARE wraps a pattern with spaces in double quotes; the shell then removes them."""
    gnu_or_skip("grep")
    args = ["-n", "w o r", "log.txt"]
    assert run("grep", args, tree, display_root="/ws") == real_output(tree, ["grep", *args]) == "13:w o r d"
