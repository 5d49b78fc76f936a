"""Declared, typed command arguments: each :class:`Param` turns the raw words into one handler parameter.

A spec lists its params in FLARE's order; the first that fails raises FLARE's :class:`Refusal`, so the
order of the declarations is the order of the refusals on the wire. The params here are shared by
several scopes (the job check of FLARE's ``authorize_job``, the target forms of reference 6.0, counts).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from flare_api.wire import MetaStatus

from ..model.jobs import JobRecord
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import Refusal
from ..protocol.versions import FlareVersion
from .request import Request
from .targets import CLIENT, TargetError, Targets, validate_targets

#: Values parsed so far, by parameter name; a later param may read an earlier one (e.g. the job).
Parsed = dict[str, Any]
ParseFn = Callable[[Request, Parsed], Any]
#: Builds the refusal for a request (its text may name the command or its usage).
RefusalFor = Callable[[Request], Refusal]


@dataclass(frozen=True)
class Param:
    """One argument, stored under ``name`` for later params and the authorization check, and passed to the
    handler as that keyword unless ``passed`` is False. ``name`` None: a pure check with no value."""

    name: Optional[str]
    parse: ParseFn
    passed: bool = True

    def check_only(self) -> Param:
        """The same parsing and refusals, without passing the value to the handler."""
        return replace(self, passed=False)


def parse_params(params: Sequence[Param], request: Request, parsed: Optional[Parsed] = None) -> Parsed:
    """Run ``params`` in order on ``request``; returns every named value (raises the first refusal).

    ``parsed``: values of params already run (the pre-authorization ones, for the handler's params).
    """
    values: Parsed = dict(parsed or {})
    for param in params:
        value = param.parse(request, values)
        if param.name is not None:
            values[param.name] = value
    return values


# ------------------------------------------------------------------------------------------ words and counts
def refuse(text: str, status: str = MetaStatus.ERROR, info: Optional[str] = None) -> RefusalFor:
    """A refusal that does not depend on the request."""
    return lambda request: Refusal(text, status, info)


def arg_count(refusal: RefusalFor, *, at_least: int = 0, at_most: Optional[int] = None) -> Param:
    """Refuse unless the words (command name included) number between ``at_least`` and ``at_most``."""

    def parse(request: Request, parsed: Parsed) -> None:
        count = len(request.args)
        if count < at_least or (at_most is not None and count > at_most):
            raise refusal(request)

    return Param(None, parse)


def word(index: int, name: str, default: Optional[str] = None) -> Param:
    """The word at ``index`` as typed (``default`` when absent; count it first when it is required)."""
    return Param(name, lambda request, parsed: request.args[index] if len(request.args) > index else default)


def words_from(index: int, name: str) -> Param:
    """Every word from ``index`` on, as a list."""
    return Param(name, lambda request, parsed: list(request.args[index:]))


# ------------------------------------------------------------------------------------------ jobs
def _load_job(request: Request, parsed: Parsed) -> JobRecord:
    """FLARE's ``authorize_job``: the job id is required and must name a job (compared lowercased)."""
    if len(request.args) < 2:
        raise Refusal(msg.MISSING_JOB_ID, MetaStatus.SYNTAX_ERROR, "missing job_id")
    job_id = request.args[1].lower()
    if request.version >= FlareVersion.V2_4 and not is_uuid4(job_id):
        raise Refusal(msg24.INVALID_JOB_ID.format(job_id=job_id), MetaStatus.INVALID_JOB_ID, job_id)
    record = request.state.jobs.get(job_id)
    if record is None:
        raise Refusal(msg.JOB_DOES_NOT_EXIST.format(job_id=job_id), MetaStatus.INVALID_JOB_ID, job_id)
    return record


def is_uuid4(job_id: str) -> bool:
    """FLARE 2.4+'s ``is_valid_job_id``: a UUID4 written as one (not one ``UUID()`` would coerce)."""
    try:
        value = uuid.UUID(job_id, version=4)
    except ValueError:
        return False
    return value.hex == job_id.replace("-", "")


def target_refusal_status(request: Request, before_24: str = MetaStatus.ERROR) -> str:
    """The meta status of a target refusal: 2.4+ say ``invalid_target``, 2.3.12 ``before_24``."""
    return msg24.INVALID_TARGET if request.version >= FlareVersion.V2_4 else before_24


#: ``<job_id>``: lowercased and loaded; missing → ``syntax_error``, unknown → ``invalid_job_id``.
JOB = Param("job", _load_job)


def _job_targets(request: Request, parsed: Parsed) -> Optional[Targets]:
    """``authorize_job``'s words after the job id, if any, validated as targets (``syntax_error``)."""
    if len(request.args) <= 2:
        return None
    try:
        return validate_targets(request.state, request.args[2:])
    except TargetError as exc:
        raise Refusal(str(exc), target_refusal_status(request, MetaStatus.SYNTAX_ERROR)) from None


#: ``<job_id> [server|client names|all]``: the optional targets after the job id (None without).
JOB_TARGETS = Param("targets", _job_targets)


def _job_id_word(request: Request, parsed: Parsed) -> str:
    if len(request.args) < 2:
        raise Refusal(msg.ABORT_TASK_MISSING_JOB_ID)
    return request.args[1].lower()


#: ``<job_id>`` lowercased but not loaded (``abort_task``: no job, so no submitter).
JOB_ID = Param("job_id", _job_id_word)


# ------------------------------------------------------------------------------------------ targets
def _targets(request: Request, parsed: Parsed) -> Targets:
    try:
        return validate_targets(request.state, request.args[1:])
    except TargetError as exc:
        raise Refusal(str(exc), target_refusal_status(request)) from None


#: ``server | client [names] | all`` after the command name, refused with FLARE's plain error.
TARGETS = Param("targets", _targets)


def client_targets(first: int) -> Param:
    """``client <names from args[first:]>`` (no names: every registered site), refused with a plain error."""

    def parse(request: Request, parsed: Parsed) -> Targets:
        try:
            return validate_targets(request.state, [CLIENT, *request.args[first:]])
        except TargetError as exc:
            raise Refusal(str(exc), target_refusal_status(request)) from None

    return Param("targets", parse)
