"""FLARE 2.3's admin shell commands (``pwd ls cat head tail grep``), emulated in pure Python inside one folder.

The real server checks the arguments, joins them into a line and runs it with ``subprocess.getoutput`` in
its workspace. We never start a process: the line goes through FLARE's join, a small ``/bin/sh`` (dash)
word splitter and Python versions of GNU coreutils 9.1 / grep 3.8, and the bytes they would print (stdout
and stderr in order) become text exactly as ``getoutput`` makes it.

The model is a server whose tools run with ``LC_ALL=C`` (bytes, ASCII quotes, byte-order sorting) and
whose Python decodes output as strict UTF-8. Known limits, all rare or unreachable through FLARE's checks:

* shell: quoting, ``#`` comments, dash's unterminated-quote error and globbing (``* ? [...]``, matched in
  the workspace; an absolute pattern matches nothing) are done; ``$`` and backquote expansions, ``~`` and
  operators (``; | & < > ( )``) are passed on literally, where the real server would run them.
* grep: GNU basic regular expressions as translated by :class:`_Bre`, with glibc's error texts; a repeat
  right after ``\\< \\> \\b \\B`` is not GNU's (its dfa quirk); no context output (``-5`` passes FLARE,
  then grep reads stdin, taken as empty); a file with a NUL anywhere is binary from its start (GNU looks
  per 32 KiB buffer); only the options FLARE lets through are known, others are ``invalid option``.
* ls: no ACL/SELinux marker and no device numbers; owner and group are the given names.
* files: FIFOs, sockets and devices read as empty (the real tools would block or stream).
* confinement: paths resolve inside ``root``; a symlink whose target is outside does not exist here
  (``No such file or directory``, left out of listings and globs); ``..`` of the root is the root, as in
  a chroot: no file or folder outside the root is ever opened or listed.

Modules: :mod:`.validation` (FLARE's checks and usage texts), :mod:`.runner` (``execute``/``run``),
:mod:`.sh` (dash), :mod:`.workspace` (confinement, errors, quoting), :mod:`.getopt`, :mod:`.ls`,
:mod:`.text` (cat/head/tail), :mod:`.grep` (BRE and grep) and :mod:`.charclass` (byte classes).
"""

from __future__ import annotations

from .runner import ShellResult, execute, run
from .validation import (
    ABSOLUTE_PATH,
    ARGUMENT_ERROR,
    DOTDOT_IN_PATH,
    MISSING_TARGET,
    NO_EXTRA_ARGS,
    ONLY_ONE_FILE,
    SHELL_COMMANDS,
    TEXT_FILE_ONLY,
    UNSUPPORTED_FILE,
    usage,
    validate,
)

__all__ = [
    "ABSOLUTE_PATH",
    "ARGUMENT_ERROR",
    "DOTDOT_IN_PATH",
    "MISSING_TARGET",
    "NO_EXTRA_ARGS",
    "ONLY_ONE_FILE",
    "SHELL_COMMANDS",
    "TEXT_FILE_ONLY",
    "UNSUPPORTED_FILE",
    "ShellResult",
    "execute",
    "run",
    "usage",
    "validate",
]
