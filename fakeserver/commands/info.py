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

from ..model.job_script import RunStatus
from ..model.jobs import SERVER_SITE, JobRecord
from ..pipeline.dispatch import Authorize, CommandSpec, PreAuthzResult, Request
from ..pipeline.reply import Reply
from ..pipeline.site_requests import ask_sites
from ..pipeline.targets import CLIENT, SERVER
from ..protocol import messages as msg
from .job_mgmt import authorize_job, snapshot

#: A site's reply body to one info command (the site's name given).
SiteBody = Callable[[JobRecord, str], dict[str, Any]]


def authorize_info_collection(request: Request, reply: Reply) -> PreAuthzResult:
    """Arg count, job check, then FLARE's "is the job's process there and answering" checks."""
    if len(request.args) != 3:
        reply.error(msg.INFO_MISSING_ARGS)
        return False
    outcome = authorize_job(request, reply)
    if not isinstance(outcome, Authorize):
        return outcome
    # Here FLARE would answer ``msg.INFO_COLLECTOR_NOT_AVAILABLE`` without its widget: unreachable.
    record: JobRecord = request.context["job"]
    job_id: str = request.context["job_id"]
    if not _has_process(record):
        reply.error(msg.INFO_JOB_NOT_RUNNING.format(job_id=job_id))
        return False
    if record.status is RunStatus.DISPATCHED:
        # The server app is starting: its process exists but does not answer ``get_app_run_info`` yet.
        reply.string(msg.INFO_CANNOT_FIND_JOB.format(job_id=job_id))
        return False
    return outcome


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


def site_errors(record: JobRecord, site: str) -> dict[str, Any]:
    """Always ``{}`` on 2.3.12: the site's admin agent drops its job process's (bytes) answer."""
    return {}


def site_reset(record: JobRecord, site: str) -> dict[str, Any]:
    """Clear the site's errors for the job (if it runs it) and acknowledge, as every site does."""
    if site in record.sites:
        record.errors[site] = {}
    return {"status": msg.INFO_SITE_RESET_STATUS}


# ------------------------------------------------------------------------------------------ handlers
def handle_show_stats(request: Request, reply: Reply) -> None:
    record: JobRecord = request.context["job"]
    _dispatch(request, reply, lambda: reply.dictionary(server_stats(record)), site_stats)


def handle_show_errors(request: Request, reply: Reply) -> None:
    record: JobRecord = request.context["job"]

    def server() -> None:
        errors = record.errors.get(SERVER_SITE)
        if errors:
            reply.dictionary(snapshot(errors))
        else:
            reply.string(msg.INFO_SERVER_NO_ERROR)

    _dispatch(request, reply, server, site_errors)


def handle_reset_errors(request: Request, reply: Reply) -> None:
    record: JobRecord = request.context["job"]

    def server() -> None:
        record.errors[SERVER_SITE] = {}
        reply.string(msg.INFO_SERVER_ERRORS_RESET.format(job_id=request.context["job_id"]))

    _dispatch(request, reply, server, site_reset)


def _dispatch(request: Request, reply: Reply, server: Callable[[], object], body: SiteBody) -> None:
    """FLARE's two branches; any other target (``all``) appends nothing."""
    target = request.args[2]
    if target == SERVER:
        server()
    elif target == CLIENT:
        _site_replies(request, reply, body)


def _site_replies(request: Request, reply: Reply, body: SiteBody) -> None:
    """``--- Client ---: <name>`` then the site's dict, or ``Bad responses from clients``."""
    record: JobRecord = request.context["job"]
    names = request.context["targets"].clients
    answers = ask_sites(request, names, require_authz=True, right=request.spec.name, submitter=request.submitter)
    if not answers:  # unreachable: target ``client`` has at least one registered site
        reply.error(msg.NO_RESPONSES_FROM_CLIENTS)
        return
    for answer in answers:
        reply.string(msg.INFO_CLIENT_HEADER.format(name=answer.site))
        if answer.ok:
            reply.dictionary(body(record, answer.site))
        else:
            reply.string(msg.INFO_BAD_CLIENT_RESPONSE)


def specs() -> list[CommandSpec]:
    scope = "info"
    return [
        CommandSpec(scope, "show_stats", "show current system stats for an actively running job",
                    "show_stats job_id server|client", handle_show_stats, authz=authorize_info_collection),
        CommandSpec(scope, "show_errors", "show latest errors in an actively running job",
                    "show_errors job_id server|client", handle_show_errors, authz=authorize_info_collection),
        CommandSpec(scope, "reset_errors", "reset error stats for an actively running job",
                    "reset_errors", handle_reset_errors, authz=authorize_info_collection),
    ]  # fmt: skip
