"""The shell methods of ``Session`` (FLARE 2.4–2.6 names and arguments) on FLARE 2.3's ``sys`` commands.

``ls_target``, ``cat_target``, ``head_target(_log)``, ``tail_target(_log)``, ``grep_target`` and
``get_working_directory`` run ``<cmd> <target> [options] [pattern] [file]`` on the server or one client
site and return its text output. Arguments are checked before any I/O with FLARE's rules and messages
(``cmd_arg_utils.validate_*``, but a trailing newline never passes); where FLARE raises ``SyntaxError`` or
``ValueError`` we raise :class:`InvalidTarget` (the target) or :class:`InvalidArgumentError` (options, pattern,
file). The server's refusals map to the same classes (an unknown or unregistered client: :class:`InvalidClient`).
Unlike FLARE's client, output that merely contains ``not authorized`` or ``invalid client`` is returned: only
a reply that is exactly a site's denial (``user '<name>' is not authorized for '<cmd>'``) raises
:class:`AuthorizationError`.
"""

from __future__ import annotations

import os
import re
from abc import abstractmethod
from typing import Any, Optional

from .command_runner import CommandRunner
from .errors import (
    AuthorizationError,
    InternalError,
    InvalidArgumentError,
    InvalidClient,
    InvalidTarget,
    raise_for_reply,
)
from .versions import FlareVersion
from .wire import Document, ItemType, join_command_line, validate_document

#: FLARE's character sets for a target, options and a path (matched whole: a trailing newline fails).
_TARGET = re.compile("[A-Za-z0-9._-]*")
_OPTIONS = re.compile("[A-Za-z0-9- ]*")
_PATH = re.compile("[A-Za-z0-9-._/]*")
_TEXT_EXTENSIONS = (".txt", ".log", ".json", ".csv", ".sh", ".config", ".py")
_TEXT_FILE_ONLY = (
    "this command cannot be applied to file {file}. Only files with the following extensions are permitted: "
    ".txt, .log, .json, .csv, .sh, .config, .py"
)
#: What a client site answers when its own policy denies the command (a string item, meta ``{}``).
_SITE_DENIAL = re.compile(r"user '.*' is not authorized for '(?P<right>[^']*)'", re.DOTALL)
#: What a site's admin agent answers when the command raised there.
_SITE_EXCEPTION = "exception_occurred: "
#: The server's argument errors for these commands (FLARE's texts and argparse's messages).
_ARGUMENT_ERRORS = (
    "this command does not accept extra args",
    "only one file is allowed",
    "unsupported file ",
    "absolute path is not allowed",
    ".. in path name is not allowed",
    "this command cannot be applied to file ",
    "argument error; ",
    "unrecognized arguments: ",
    "the following arguments are required: ",
    "argument ",
    "ambiguous option: ",
)
_MISSING_TARGET = "syntax error: missing target"
_INVALID_CLIENT = "invalid client: "


def validate_target(target: object) -> str:
    """FLARE's ``validate_required_target_string``: ``server`` or a client name, no spaces."""
    if not target:
        raise InvalidTarget("target is required but not specified.")
    if not isinstance(target, str):
        raise InvalidTarget("target is not str.")
    if not _TARGET.fullmatch(target):
        raise InvalidTarget("target must be a string of only valid characters and no spaces.")
    return target


def validate_options(options: object) -> list[str]:
    """FLARE's ``validate_options_string``; the options go on the wire as separate words."""
    if not isinstance(options, str):
        raise InvalidArgumentError("options is not str.")
    if not _OPTIONS.fullmatch(options):
        raise InvalidArgumentError("options must be a string of only valid characters.")
    return options.split()


def validate_path(path: object) -> str:
    """FLARE's ``validate_path_string``: relative, no ``..`` part, only ``A-Za-z0-9-._/``."""
    if not isinstance(path, str):
        raise InvalidArgumentError("path is not str.")
    if not _PATH.fullmatch(path):
        raise InvalidArgumentError(f"unsupported characters in path {path}")
    if os.path.isabs(path) or path.startswith("/"):
        raise InvalidArgumentError("absolute path is not allowed")
    if ".." in path.split("/"):
        raise InvalidArgumentError(".. in path name is not allowed")
    return path


def file_extension(file: str) -> str:
    """FLARE's ``get_file_extension``: a numeric last part (``log.txt.1``) is skipped."""
    parts = file.split(".")
    if parts[-1].isnumeric():
        file = ".".join(parts[:-1])
    return os.path.splitext(file)[1]


def validate_file(file: object) -> str:
    """FLARE's ``validate_file_string``: a valid path with a text extension."""
    path = validate_path(file)
    if file_extension(path) not in _TEXT_EXTENSIONS:
        raise InvalidArgumentError(_TEXT_FILE_ONLY.format(file=path))
    return path


def validate_pattern(pattern: object) -> str:
    """FLARE's grep pattern checks: required, then a str."""
    if not pattern:
        raise InvalidArgumentError("pattern is required but not specified.")
    if not isinstance(pattern, str):
        raise InvalidArgumentError("pattern is not str.")
    return pattern


class ShellCommands(CommandRunner):
    """Mixin: look at the server's and the sites' workspace folders (``pwd ls cat head tail grep``)."""

    @property
    @abstractmethod
    def flare_version(self) -> FlareVersion:
        """The server's FLARE series, read from its command table at login."""

    def ls_target(self, target: str, options: Optional[str] = None, path: Optional[str] = None) -> str:
        """``ls [options] [path]`` in the target's working directory."""
        return self._shell_command_on_target("ls", target, options, path)

    def cat_target(self, target: str, options: Optional[str] = None, file: Optional[str] = None) -> str:
        """``cat [options] file`` on the target (text files only)."""
        return self._shell_command_on_target("cat", target, options, file, fp_required=True, fp_type="file")

    def head_target(self, target: str, options: Optional[str] = None, file: Optional[str] = None) -> str:
        """``head [options] file`` on the target (text files only)."""
        return self._shell_command_on_target("head", target, options, file, fp_required=True, fp_type="file")

    def head_target_log(self, target: str, options: Optional[str] = None) -> str:
        """``head [options] log.txt`` on the target."""
        return self.head_target(target, options, file="log.txt")

    def tail_target(self, target: str, options: Optional[str] = None, file: Optional[str] = None) -> str:
        """``tail [options] file`` on the target (text files only)."""
        return self._shell_command_on_target("tail", target, options, file, fp_required=True, fp_type="file")

    def tail_target_log(self, target: str, options: Optional[str] = None) -> str:
        """``tail [options] log.txt`` on the target."""
        return self.tail_target(target, options, file="log.txt")

    def grep_target(
        self, target: str, options: Optional[str] = None, pattern: Optional[str] = None, file: Optional[str] = None
    ) -> str:
        """``grep [options] pattern file`` on the target; the pattern is one argument whatever it holds."""
        return self._shell_command_on_target(
            "grep", target, options, file, pattern=pattern, pattern_required=True, fp_required=True, fp_type="file"
        )

    def get_working_directory(self, target: str) -> str:
        """``pwd``: the folder the target runs its commands in."""
        return self._shell_command_on_target("pwd", target, None, None)

    def _shell_command_on_target(
        self,
        command: str,
        target: object,
        options: object,
        fp: object,
        *,
        pattern: object = None,
        pattern_required: bool = False,
        fp_required: bool = False,
        fp_type: str = "path",
    ) -> str:
        """Check the arguments in FLARE's order, send the command, and return its output."""
        args = [command, validate_target(target)]
        if options:
            args += validate_options(options)
        if pattern_required:
            args.append(validate_pattern(pattern))
        if fp_required and not fp:
            raise InvalidArgumentError(f"{fp_type} is required but not specified.")
        if fp:
            args.append(validate_path(fp) if fp_type == "path" else validate_file(fp))
        line = join_command_line(args)
        version = self.flare_version.value
        return shell_output(command, line, self.do_command(line, raise_errors=False), flare_version=version)


def shell_output(command: str, line: str, result: dict[str, Any], *, flare_version: Optional[str] = None) -> str:
    """The text of a shell command's reply (its string items), or the exception its refusal maps to.

    A FLARE 2.4+ server's refusal carries its status (``invalid_target``, ``error``): it maps as FLARE 2.4's
    client maps it (``InvalidTarget``, ``InternalError("error: ...")``).
    """
    reply = _reply_document(line, result)
    error = reply.first(ItemType.ERROR)
    if error is not None:
        if flare_version not in (None, FlareVersion.V2_3.value):
            raise_for_reply(line, reply, enforce_meta=False, flare_version=flare_version)
        _raise_for_shell_error(line, error.text)
        raise_for_reply(line, reply, enforce_meta=False)
        raise InternalError(f"server error in '{line}': {error.text}")
    strings = reply.of_type(ItemType.STRING)
    if len(strings) == 1:
        _raise_for_site_answer(command, line, strings[0].text)
    if not reply.items:
        raise_for_reply(line, reply, enforce_meta=False)
    return "".join(item.text for item in strings)


def _reply_document(line: str, result: dict[str, Any]) -> Document:
    """``do_command``'s dict back as the (already validated) reply document."""
    if "data" not in result:  # the server sent no document
        return raise_for_reply(line, None)
    return validate_document(result)


def _raise_for_shell_error(line: str, text: str) -> None:
    """The server's refusals of a shell command, as our argument and target errors."""
    if text == _MISSING_TARGET:
        raise InvalidTarget(f"server refused '{line}': {text}")
    if text.startswith(_INVALID_CLIENT):
        raise InvalidClient(f"server refused '{line}': {text}")
    if text.startswith(_ARGUMENT_ERRORS):
        raise InvalidArgumentError(f"server refused '{line}': {text}")


def _raise_for_site_answer(command: str, line: str, text: str) -> None:
    """A site's denial or exception arrives as the reply's only string, exactly in FLARE's words."""
    denial = _SITE_DENIAL.fullmatch(text)
    if denial is not None and denial.group("right") == command:
        raise AuthorizationError(f"user not authorized for the action '{line}': {text}")
    if text.startswith(_SITE_EXCEPTION):
        raise InternalError(f"the site failed to run '{line}': {text}")
