"""The job info methods of ``Session``: FLARE 2.4–2.6's ``show_stats``, ``show_errors``, ``reset_errors``,
spoken on the FLARE 2.3 wire (reference 6.3).

``show_stats`` and ``show_errors`` return one dict keyed by target name::

    {"server": {"ScatterAndGather": {...}, "ServerRunner": {...}},
     "site-1": {"ClientRunner": {...}},
     "site-2": "Bad responses from clients"}

``"server"`` maps to the server's dict (``{}`` when ``show_errors`` finds no error); each site maps to the
dict it sent (``{}`` when it does not run the job; a 2.3.12 site always sends ``{}`` for show_errors) or,
when it sent no usable answer (it is silent, or its own authorization refused the user: the two look the
same), to the server's text about it. Differences from FLARE 2.4 forced by the 2.3 wire, where the server
accepts exactly ``<cmd> <job_id> server|client``:

* ``targets`` (used with ``target_type="client"`` only, as in 2.4) are not sent, since 2.3 refuses extra
  args: all clients are asked and the answer is narrowed to ``targets``; a name no site answered for
  raises ``InvalidTarget``.
* ``target_type="all"`` gets no reply at all from 2.3 (a bare end of transmission), so ``server`` and
  then ``client`` are sent instead, and no registered client is then not an error; ``reset_errors``
  (2.4 sends ``all``) does the same.
* 2.4 returns only the first dict of the reply; we return every target's answer.

Against a FLARE 2.4+ server none of this applies: the command goes as FLARE 2.4 sends it (``all``, site names)
and the reply's one dict, keyed by ``server`` and site names, is returned as is (``"No Error"`` included).

Server refusals map to 2.4's exceptions: ``Job_id: <id> is not running.`` → ``JobNotRunning``, ``Cannot
find job`` (the job is still starting) and unknown jobs → ``JobNotFound``, ``no clients available`` →
``NoClientsAvailable``, a denial → ``AuthorizationError``.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, Optional, Union

from .command_runner import CommandRunner
from .errors import (
    ArgumentTypeError,
    InternalError,
    InvalidArgumentError,
    InvalidTarget,
    JobNotFound,
    JobNotRunning,
    NoClientsAvailable,
    ProtocolError,
)
from .types import TargetType
from .versions import FlareVersion
from .wire import Document, Item, ItemType, join_command_line

#: One target's answer: its dict, or the text the server sent in its place.
TargetAnswer = Union[dict[str, Any], str]

SERVER = TargetType.SERVER.value
CLIENT = TargetType.CLIENT.value
ALL = TargetType.ALL.value
VALID_TARGET_TYPES = (ALL, SERVER, CLIENT)
CLIENT_HEADER = "--- Client ---: "
NO_ERROR = "No Error"
CANNOT_FIND_JOB = "Cannot find job: "
JOB_NOT_RUNNING = re.compile(r"Job_id: (\S+) is not running\.")
NO_CLIENTS = "no clients available"
_TARGET_NAME = re.compile(r"^[A-Za-z0-9._@-]+$")


def check_job_id(job_id: object) -> str:
    """FLARE 2.4's ``_collect_info`` checks: falsy → ValueError, not a str → TypeError."""
    if not job_id:
        raise InvalidArgumentError("job_id is required but not specified.")
    if not isinstance(job_id, str):
        raise ArgumentTypeError(f"job_id must be str but got {type(job_id)}.")
    return job_id


def check_target_type(target_type: object) -> str:
    """``all``, ``server`` or ``client`` (a :class:`TargetType` or its value); else ``InvalidTarget``."""
    value = target_type.value if isinstance(target_type, TargetType) else target_type
    if not isinstance(value, str) or value not in VALID_TARGET_TYPES:
        raise InvalidTarget(f"invalid target_type {target_type}: must be one of {list(VALID_TARGET_TYPES)}")
    return value


def check_targets(targets: object) -> list[str]:
    """A list of site names (duplicates dropped), as 2.4's ``process_targets_into_str`` accepts them."""
    if not isinstance(targets, list):
        raise ArgumentTypeError(f"targets must be a list of str but got {type(targets)}")
    for target in targets:
        if not isinstance(target, str):
            raise ArgumentTypeError(f"all targets in the list of targets must be str, got {type(target)}")
        if not _TARGET_NAME.match(target):
            raise InvalidTarget(f"invalid target {target!r}")
    return list(dict.fromkeys(targets))


def parse_site_answers(reply: Document) -> dict[str, TargetAnswer]:
    """The ``--- Client ---: <name>`` string, then that site's dict or text, for each site."""
    answers: dict[str, TargetAnswer] = {}
    site: Optional[str] = None
    for item in reply.items:
        if item.type is ItemType.STRING and item.text.startswith(CLIENT_HEADER) and site is None:
            site = item.text[len(CLIENT_HEADER) :]
        elif site is not None and item.type in (ItemType.DICT, ItemType.STRING):
            answers[site] = _answer(item)
            site = None
        else:
            raise ProtocolError(f"unexpected {item.type.value} item in a clients' info reply: {item.to_json()}")
    if site is not None:
        raise ProtocolError(f"the clients' info reply ends without the answer of {site}")
    return answers


def parse_server_answer(command: str, job_id: str, reply: Document) -> TargetAnswer:
    """The server's one item: its dict, or its text (``No Error`` becomes ``{}``)."""
    if len(reply.items) != 1 or reply.items[0].type not in (ItemType.DICT, ItemType.STRING):
        raise ProtocolError(f"expected one dict or string item from '{command} {job_id} server': {reply.to_json()}")
    answer = _answer(reply.items[0])
    return {} if answer == NO_ERROR else answer


def _answer(item: Item) -> TargetAnswer:
    if item.type is ItemType.DICT and isinstance(item.data, dict):
        return dict(item.data)
    return item.text


def first_dict(reply: Document) -> dict[str, Any]:
    """FLARE 2.4+'s ``_get_dict_data``: the data of the reply's first dict item, ``{}`` if it has none."""
    for item in reply.items:
        if item.type is ItemType.DICT and isinstance(item.data, dict):
            return dict(item.data)
    return {}


def narrow(answers: dict[str, TargetAnswer], wanted: Optional[list[str]]) -> dict[str, TargetAnswer]:
    """Only the wanted sites' answers (all without a list); a wanted site without one is ``InvalidTarget``."""
    if not wanted:
        return answers
    missing = [name for name in wanted if name not in answers]
    if missing:
        raise InvalidTarget(f"invalid client(s): {' '.join(missing)}")
    return {name: answers[name] for name in wanted}


class InfoCommands(CommandRunner):
    """Mixin: job stats and errors of the server and the client sites, and resetting the errors."""

    @property
    @abstractmethod
    def flare_version(self) -> FlareVersion:
        """The server's FLARE series, read from its command table at login."""

    def show_stats(self, job_id: str, target_type: str, targets: Optional[list[str]] = None) -> dict[str, TargetAnswer]:
        """Stats of a running job per target: the server's workflow and runner, each site's runner."""
        return self._collect_info("show_stats", job_id, target_type, targets)

    def show_errors(
        self, job_id: str, target_type: str, targets: Optional[list[str]] = None
    ) -> dict[str, TargetAnswer]:
        """Latest errors of a running job per target: group → key → ``"<time>: <text>"``, ``{}`` if none."""
        return self._collect_info("show_errors", job_id, target_type, targets)

    def reset_errors(self, job_id: str) -> None:
        """Clear a running job's errors on the server and on every site (sent as ``server`` then ``client``)."""
        self._collect_info("reset_errors", job_id, ALL)

    def _collect_info(
        self, command: str, job_id: object, target_type: object, targets: Optional[object] = None
    ) -> dict[str, TargetAnswer]:
        checked_id = check_job_id(job_id)
        target = check_target_type(target_type)
        wanted = check_targets(targets) if target == CLIENT and targets else None
        if self.flare_version >= FlareVersion.V2_4:  # one command, one dict keyed by target (``all`` works)
            line = join_command_line([command, checked_id, target, *(wanted or [])])
            return first_dict(self._do_command(line, enforce_meta=False))
        result: dict[str, TargetAnswer] = {}
        if target in (SERVER, ALL):
            reply = self._info_request(command, checked_id, SERVER)
            result[SERVER] = parse_server_answer(command, checked_id, reply)
        if target in (CLIENT, ALL):
            try:
                reply = self._info_request(command, checked_id, CLIENT)
            except NoClientsAvailable:
                if target == CLIENT:
                    raise
                return result
            result.update(narrow(parse_site_answers(reply), wanted))
        return result

    def _info_request(self, command: str, job_id: str, target: str) -> Document:
        """Send ``<command> <job_id> <target>``; FLARE's texts for a stopped job or no clients → 2.4's errors."""
        try:
            reply = self._command(command, job_id, target, enforce_meta=False)
        except InternalError as exc:
            text = str(exc)
            stopped = JOB_NOT_RUNNING.search(text)
            if stopped:
                raise JobNotRunning(f"job {stopped.group(1)} is not running") from exc
            if text.endswith(NO_CLIENTS):
                raise NoClientsAvailable(NO_CLIENTS) from exc
            raise
        for item in reply.items:
            if item.type is ItemType.STRING and item.text.startswith(CANNOT_FIND_JOB):
                # the job's server process does not answer yet (the job is still being started)
                raise JobNotFound(f"no such job: {job_id} ({item.text})")
        return reply
