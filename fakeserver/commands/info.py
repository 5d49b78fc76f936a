"""The ``info`` scope: ``show_stats``, ``show_errors``, ``reset_errors <job_id> server|client`` (reference 6.3).

Checks in FLARE 2.3.12's order (``info_coll_cmd.authorize_info_collection``): exactly three args, the job
check (6.0), the info collector (every fake server has one, so ``info collector not available`` is
unreachable), the job's process, the job's app; then the right (the command name) with the submitter set.
Replies carry no meta. Target ``all`` passes the checks but neither branch of FLARE's handlers runs, so
the reply has no items: a bare ``\\x04``.

Site bodies follow the site's ``ClientInfoProcessor``, which only ever sends JSON dicts: its stats, ``{}``
(not in the job, or no stats), ``{}`` for show_errors (2.3.12 drops the job process's answer, which
arrives as bytes, so injected site errors are never shown), ``{"status": "OK"}`` for reset_errors. A
silent site or a site's denial is not JSON, and the server appends ``Bad responses from clients``.
"""

from __future__ import annotations

from typing import Any, Callable

from flare_api.wire import MetaStatus

from ..model.job_script import RunStatus
from ..model.jobs import SERVER_SITE, JobRecord
from ..pipeline.arguments import JOB, JOB_TARGETS, Param, Parsed
from ..pipeline.authorization import Right
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply, snapshot
from ..pipeline.request import Request
from ..pipeline.site_requests import ask_sites
from ..pipeline.targets import ALL, CLIENT, SERVER, Targets
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import Refusal
from ..protocol.versions import FlareVersion

#: A site's reply body to one info command (the site's name given).
SiteBody = Callable[[JobRecord, str], dict[str, Any]]


def _job_process(request: Request, parsed: Parsed) -> None:
    """FLARE's "is the job's process there and answering" checks, after the job check.

    Before them FLARE would answer ``msg.INFO_COLLECTOR_NOT_AVAILABLE`` without its widget: unreachable.
    """
    record: JobRecord = parsed["job"]
    if not _has_process(record):
        text = msg.INFO_JOB_NOT_RUNNING.format(job_id=record.job_id)
        if request.version >= FlareVersion.V2_4:
            raise Refusal(text, msg24.JOB_NOT_RUNNING, record.job_id)
        raise Refusal(text)
    if record.status is RunStatus.DISPATCHED:
        # The server app is starting: its process exists but does not answer ``get_app_run_info`` yet.
        text = msg.INFO_CANNOT_FIND_JOB.format(job_id=record.job_id)
        if request.version >= FlareVersion.V2_4:  # the string carries meta invalid_job_id
            raise Refusal(text, MetaStatus.INVALID_JOB_ID, record.job_id, as_string=True, string_meta=True)
        raise Refusal(text, as_string=True)


def _arg_count(request: Request, parsed: Parsed) -> None:
    """2.3.12: exactly three words; 2.4+: at least three (site names may follow), else the usage line."""
    count = len(request.args)
    if request.version >= FlareVersion.V2_4:
        if count < 3:
            raise Refusal(msg24.INFO_USAGE.format(usage=request.spec.usage), MetaStatus.SYNTAX_ERROR, "")
    elif count != 3:
        raise Refusal(msg.INFO_MISSING_ARGS)


#: ``authorize_info_collection``: the word count, the job check (with the targets), the job's process.
INFO_CHECKS: tuple[Param, ...] = (
    Param(None, _arg_count),
    JOB,
    JOB_TARGETS,
    Param(None, _job_process),
)


def _has_process(record: JobRecord) -> bool:
    """Whether the job is in the engine's ``run_processes``: starting (DISPATCHED) or run by the runner."""
    return record.status is RunStatus.DISPATCHED or (record.status is RunStatus.RUNNING and record.in_runner)


# ------------------------------------------------------------------------------------------ bodies
def server_stats(record: JobRecord) -> dict[str, Any]:
    """The server's ``get_run_stats()`` for the example app, following the job's rounds."""
    return {
        msg.INFO_WORKFLOW_GROUP: {
            "tasks": {msg.INFO_TRAIN_TASK: list(record.sites)},
            "phase": msg.INFO_TRAIN_TASK,
            "current_round": record.current_round,
            "num_rounds": record.script.rounds,
        },
        msg.INFO_SERVER_RUNNER_GROUP: {
            "job_id": record.job_id,
            "status": msg.INFO_RUNNER_STARTED,
            "workflow": msg.INFO_WORKFLOW_ID,
        },
    }


def site_stats(record: JobRecord, site: str) -> dict[str, Any]:
    """A site's stats: its ClientRunner group if it runs the job, else ``{}``."""
    if site not in record.sites:
        return {}
    return {
        msg.INFO_CLIENT_RUNNER_GROUP: {
            "job_id": record.job_id,
            "current_task_name": msg.INFO_TRAIN_TASK,
            "status": msg.INFO_RUNNER_STARTED,
        }
    }


def site_stats_24(record: JobRecord, site: str) -> dict[str, Any]:
    """A 2.4+ site's stats: its ClientRunner's job id and current tasks, if it runs the job, else ``{}``."""
    if site not in record.sites:
        return {}
    return {msg.INFO_CLIENT_RUNNER_GROUP: {"current_tasks": [msg.INFO_TRAIN_TASK], "job_id": record.job_id}}


def site_errors(record: JobRecord, site: str) -> dict[str, Any]:
    """Always ``{}`` on 2.3.12: the site's admin agent drops its job process's (bytes) answer."""
    return {}


def site_reset(record: JobRecord, site: str) -> dict[str, Any]:
    """Clear the site's errors for the job (if it runs it) and acknowledge, as every site does."""
    if site in record.sites:
        record.errors[site] = {}
    return {"status": msg.INFO_SITE_RESET_STATUS}


# ------------------------------------------------------------------------------------------ handlers
def handle_show_stats(request: Request, reply: Reply, job: JobRecord, targets: Targets) -> None:
    if request.version >= FlareVersion.V2_4:
        _collect(request, reply, job, targets, lambda: server_stats(job), site_stats_24)
        return
    _dispatch(request, reply, job, targets, lambda: reply.dictionary(server_stats(job)), site_stats)


def _server_errors(job: JobRecord) -> Any:
    errors = job.errors.get(SERVER_SITE)
    return snapshot(errors) if errors else msg.INFO_SERVER_NO_ERROR


def _server_reset(job: JobRecord) -> str:
    job.errors[SERVER_SITE] = {}
    return msg.INFO_SERVER_ERRORS_RESET.format(job_id=job.job_id)


def handle_show_errors(request: Request, reply: Reply, job: JobRecord, targets: Targets) -> None:
    if request.version >= FlareVersion.V2_4:
        _collect(request, reply, job, targets, lambda: _server_errors(job), site_errors)
        return

    def server() -> None:
        errors = job.errors.get(SERVER_SITE)
        if errors:
            reply.dictionary(snapshot(errors))
        else:
            reply.string(msg.INFO_SERVER_NO_ERROR)

    _dispatch(request, reply, job, targets, server, site_errors)


def handle_reset_errors(request: Request, reply: Reply, job: JobRecord, targets: Targets) -> None:
    if request.version >= FlareVersion.V2_4:
        _collect(request, reply, job, targets, lambda: _server_reset(job), site_reset)
        return

    def server() -> None:
        job.errors[SERVER_SITE] = {}
        reply.string(msg.INFO_SERVER_ERRORS_RESET.format(job_id=job.job_id))

    _dispatch(request, reply, job, targets, server, site_reset)


def _dispatch(
    request: Request, reply: Reply, job: JobRecord, targets: Targets, server: Callable[[], object], body: SiteBody
) -> None:
    """FLARE's two branches; any other target (``all``) appends nothing."""
    if targets.type == SERVER:
        server()
    elif targets.type == CLIENT:
        _site_replies(request, reply, job, targets.clients, body)


def _collect(
    request: Request, reply: Reply, job: JobRecord, targets: Targets, server: Callable[[], Any], body: SiteBody
) -> None:
    """2.4+: one dict keyed by ``server`` and site name; ``all`` is both. A site whose answer is not JSON
    (silent, or its denial) is ``invalid_reply`` and ends the collection, as FLARE's loop returns there."""
    result: dict[str, Any] = {}
    if targets.type in (SERVER, ALL):
        result[SERVER] = server()
    if targets.type in (CLIENT, ALL):
        answers = ask_sites(request, targets.clients, require_authz=True, right=request.spec.name,
                            submitter=request.submitter)  # fmt: skip
        for answer in answers:
            if not answer.ok:
                result[answer.site] = msg24.INVALID_REPLY
                break
            result[answer.site] = body(job, answer.site)
    reply.dictionary(result)


def _site_replies(request: Request, reply: Reply, job: JobRecord, names: list[str], body: SiteBody) -> None:
    """``--- Client ---: <name>`` then the site's dict, or ``Bad responses from clients``."""
    answers = ask_sites(request, names, require_authz=True, right=request.spec.name, submitter=request.submitter)
    if not answers:  # unreachable: target ``client`` has at least one registered site
        raise Refusal(msg.NO_RESPONSES_FROM_CLIENTS)
    for answer in answers:
        reply.string(msg.INFO_CLIENT_HEADER.format(name=answer.site))
        if answer.ok:
            reply.dictionary(body(job, answer.site))
        else:
            reply.string(msg.INFO_BAD_CLIENT_RESPONSE)


def specs() -> list[CommandSpec]:
    scope = "info"
    return [
        CommandSpec(scope, "show_stats", "show current system stats for an actively running job",
                    "show_stats job_id server|client", handle_show_stats, checks=INFO_CHECKS,
                    authorization=Right("show_stats", job_submitter=True),
                    changes={FlareVersion.V2_4: {"usage": "show_stats job_id server|client [clients]"}}),
        CommandSpec(scope, "show_errors", "show latest errors in an actively running job",
                    "show_errors job_id server|client", handle_show_errors, checks=INFO_CHECKS,
                    authorization=Right("show_errors", job_submitter=True),
                    changes={FlareVersion.V2_4: {"usage": "show_errors job_id server|client [clients]"}}),
        CommandSpec(scope, "reset_errors", "reset error stats for an actively running job",
                    "reset_errors", handle_reset_errors, checks=INFO_CHECKS,
                    authorization=Right("reset_errors", job_submitter=True),
                    changes={FlareVersion.V2_4: {"usage": "reset_errors job_id server|client [clients]"}}),
    ]  # fmt: skip
