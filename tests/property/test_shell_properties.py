"""Property tests for fakeserver.shell: never outside the workspace, never a process, FLARE's name errors.

Reference: flare-2.3-admin-protocol.md section 6.4; nvflare 2.3 ``private/fed/server/shell_cmd.py`` (file rules).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fakeserver.protocol.refusals import FlareCrash
from fakeserver.shell import (
    ABSOLUTE_PATH,
    DOTDOT_IN_PATH,
    SHELL_COMMANDS,
    TEXT_FILE_ONLY,
    execute,
    run,
    validate,
)
from tests.helpers import no_processes

SECRET = "TOPSECRET-" + uuid.uuid4().hex
OUTSIDE_NAME = "OUTSIDE-ONLY-NAME.txt"
ALLOWED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._/"
FILE_COMMANDS = ("cat", "head", "tail", "grep")

# --- the workspace, with every way out we can think of -------------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("confinement")
    outside = base / "outside"
    outside.mkdir()
    for name in (OUTSIDE_NAME, "secret.txt", "secret.log"):
        (outside / name).write_text(SECRET + "\n")
    root = base / "ws"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "log.txt").write_text("hello\nworld TOPSECRET-not-really\n")
    (root / ".hidden.txt").write_text("hidden\n")
    (root / "sub" / "a.py").write_text("print('a')\n")
    (root / "sub" / "deep" / "b.json").write_text("{}\n")
    links = {
        "escape.txt": outside / "secret.txt",
        "rel.txt": Path("..") / "outside" / "secret.txt",
        "escdir": Path("..") / "outside",
        "absdir": outside,
        "chain.txt": Path("escape.txt"),
        "rootlink": Path(".."),
        "selfloop.txt": Path("selfloop.txt"),
        "abs_in.txt": root / "log.txt",
        "sub/up.txt": Path("..") / ".." / "outside" / "secret.txt",
        "sub/updir": Path("..") / "..",
        "sub/deep/back.log": Path("..") / ".." / ".." / "outside" / "secret.log",
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    return root


def test_no_processes_guard_works() -> None:
    with no_processes(), pytest.raises(AssertionError, match="started a process"):
        subprocess.run(["true"], check=False)


# --- strategies ---------------------------------------------------------------------------------------------
tricky_names = st.sampled_from(
    [
        "escape.txt",
        "rel.txt",
        "chain.txt",
        "escdir",
        "escdir/",
        "escdir/.",
        "escdir/secret.txt",
        f"escdir/{OUTSIDE_NAME}",
        "absdir/secret.log",
        "rootlink",
        "rootlink/outside/secret.txt",
        "sub/up.txt",
        "sub/updir",
        "sub/updir/outside/secret.txt",
        "sub/deep/back.log",
        "selfloop.txt",
        "abs_in.txt",
        "log.txt",
        ".",
        "./",
        "sub",
        "sub/deep/",
        "..",
        "../outside/secret.txt",
        "/etc/passwd",
        "/",
    ]
)
random_names = st.text(alphabet="abcdelogtxsu./-_*?[]!'\"\\ $#~", min_size=1, max_size=14)
flags = st.sampled_from(["-a", "-l", "-t", "-S", "-R", "-u", "-laR", "-n", "-b", "-s", "-T", "-i", "-nbi"])
options = st.one_of(flags, st.sampled_from(["-c", "-5", "5", "+2", "--", "-z"]))
patterns = st.sampled_from(
    ["TOPSECRET", ".", ".*", "*", "*/*", "*/*/*", ".*/*", "e*/*", "[a-z]*", "'*'", "\\*", "S*", "T.*", "^", "$", "/*"]
)
arg_lists = st.lists(st.one_of(tricky_names, random_names, options, patterns), max_size=6)


def assert_no_leak(args: list[str], text: str) -> None:
    assert SECRET not in text
    if not any(OUTSIDE_NAME in arg for arg in args):
        assert OUTSIDE_NAME not in text


# --- confinement --------------------------------------------------------------------------------------------
@given(command=st.sampled_from(SHELL_COMMANDS), args=arg_lists)
@example(command="cat", args=["escape.txt"])
@example(command="grep", args=["-R", "TOPSECRET", "escdir"])
@example(command="ls", args=["-laR", "escdir/"])
@example(command="grep", args=["TOPSECRET", "*/*"])
def test_validated_commands_stay_inside(workspace: Path, command: str, args: list[str]) -> None:
    with no_processes():
        try:
            result = execute(command, [command, "server", *args], workspace, display_root="/workspace/server")
        except FlareCrash as crash:  # FLARE's own crashes: blank args, undecodable output
            assert isinstance(crash.original, (IndexError, UnicodeError))
            return
    assert_no_leak(args, (result.error or "") + "\n" + result.output)


@given(command=st.sampled_from(SHELL_COMMANDS), args=arg_lists)
@example(command="cat", args=["/etc/passwd"])
@example(command="cat", args=["../outside/secret.txt"])
@example(command="grep", args=["TOPSECRET", "rootlink/outside/secret.txt"])
@example(command="tail", args=["sub/updir/outside/secret.txt"])
@example(command="ls", args=["-R", ".."])
def test_unvalidated_arguments_stay_inside_too(workspace: Path, command: str, args: list[str]) -> None:
    """Defence in depth: ``run`` confines even arguments FLARE's validation would have refused."""
    args = [arg for arg in args if arg.strip()]
    with no_processes():
        try:
            output = run(command, args, workspace, display_root="/workspace/server")
        except FlareCrash as crash:
            assert isinstance(crash.original, UnicodeError)
            return
    assert_no_leak(args, output)


# --- FLARE's file-name errors ----------------------------------------------------------------------------------
bad_chars = st.characters(blacklist_characters=ALLOWED + "\n", blacklist_categories=("Cs",))
safe_text = st.text(alphabet=ALLOWED, max_size=8)
first_char = st.sampled_from("abcXYZ019_")


def file_args(command: str, name: str) -> list[str]:
    return [command, "server", *(["pattern"] if command == "grep" else []), name]


@given(command=st.sampled_from(SHELL_COMMANDS[1:]), head=first_char, middle=safe_text, bad=bad_chars, tail=safe_text)
def test_names_outside_the_charset_are_unsupported(command: str, head: str, middle: str, bad: str, tail: str) -> None:
    name = head + middle + bad + tail
    assert validate(command, file_args(command, name)) == (f"unsupported file {name}", file_args(command, name)[2:])


@given(command=st.sampled_from(SHELL_COMMANDS[1:]), rest=safe_text)
def test_absolute_names_are_refused(command: str, rest: str) -> None:
    name = "/" + rest
    assert validate(command, file_args(command, name))[0] == ABSOLUTE_PATH


@given(command=st.sampled_from(SHELL_COMMANDS[1:]), head=st.sampled_from(["", "a/", "a/b/", "./"]), tail=safe_text)
def test_dotdot_segments_are_refused(command: str, head: str, tail: str) -> None:
    name = head + "../" + tail
    assert validate(command, file_args(command, name))[0] == DOTDOT_IN_PATH


@given(command=st.sampled_from(FILE_COMMANDS), stem=first_char, rest=safe_text)
def test_only_text_extensions_for_file_commands(command: str, stem: str, rest: str) -> None:
    name = stem + rest
    has_text_extension = os.path.splitext(name)[1] in (".txt", ".log", ".json", ".csv", ".sh", ".config", ".py")
    has_dotdot = ".." in name.split("/")
    error, _ = validate(command, file_args(command, name))
    if has_dotdot:
        assert error == DOTDOT_IN_PATH
    elif has_text_extension:
        assert error is None
    else:
        assert error == TEXT_FILE_ONLY.format(file=name)
    if not has_dotdot:
        assert validate("ls", ["ls", "server", name])[0] is None
