"""``job_mgmt`` commands that FLARE added after 2.3: ``app_command`` (2.5), ``list_job`` and
``configure_job_log`` (2.6).

nvflare 2.5.2 / 2.6.3 ``private/fed/server/job_cmds.py`` (server) and ``private/fed/client/training_cmds.py``
(what a site answers to a job log configuration). The texts are the real servers' (captures in
scripts/real_flare_socket/captures). The fake's jobs have no additional components, so ``list_job`` answers
``no_job_compoents`` for every job, as the real server does for a plain job.
"""

from __future__ import annotations

from flare_api.wire import MetaKey, MetaStatus

from ..model.job_script import RunStatus
from ..model.jobs import JobRecord
from ..pipeline.arguments import JOB, JOB_TARGETS, Param, Parsed, target_refusal_status
from ..pipeline.authorization import Right
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply, snapshot
from ..pipeline.request import Request
from ..pipeline.site_requests import ask_sites
from ..pipeline.targets import ALL, CLIENT, TargetError, Targets, validate_targets
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import Refusal
from ..protocol.versions import FlareVersion
from .log_config import log_config_error


# ------------------------------------------------------------------------------------ app_command (2.5)
def handle_app_command(request: Request, reply: Reply, job: JobRecord) -> None:
    """Ask the running job's app: its dict, ``no_reply`` when it does not answer, or no function for the topic.

    A wrong word count answers the usage as a string item with meta ``syntax_error`` (FLARE checks it here).
    The registered function runs under the state lock, like every handler: test code, keep it quick.
    """
    if len(request.args) != 3:
        reply.string(msg24.APP_COMMAND_USAGE.format(usage=request.spec.usage),
                     {MetaKey.STATUS: MetaStatus.SYNTAX_ERROR, MetaKey.INFO: ""})  # fmt: skip
        return
    topic = request.args[2]
    if not _has_process(job):
        raise Refusal(msg.INFO_JOB_NOT_RUNNING.format(job_id=job.job_id), msg24.JOB_NOT_RUNNING, job.job_id)
    function = request.state.app_commands.get(topic)
    if function is None:
        detail = msg24.APP_COMMAND_NO_FUNC.format(topic=topic)
        raise Refusal(msg24.APP_COMMAND_ERROR.format(detail=detail), MetaStatus.ERROR, detail)
    result = function(job.job_id, request.props)
    if result is None:
        raise Refusal(msg24.APP_COMMAND_NO_RESULT, msg24.NO_REPLY, msg24.APP_COMMAND_NO_RESULT_INFO)
    if not isinstance(result, dict):
        detail = f"invalid result type {type(result)}"
        raise Refusal(f"command execution internal error: {detail}", MetaStatus.INTERNAL_ERROR, detail)
    reply.dictionary(snapshot(result))


def _has_process(job: JobRecord) -> bool:
    """In the engine's ``run_processes``: starting (DISPATCHED) or run by the runner."""
    return job.status is RunStatus.DISPATCHED or (job.status is RunStatus.RUNNING and job.in_runner)


# ------------------------------------------------------------------------------------ list_job (2.6)
def handle_list_job(request: Request, reply: Reply, job: JobRecord) -> None:
    """The job's stored components beyond workspace/meta/scheduled/data: none for the fake's jobs."""
    raise Refusal(msg24.NO_COMPONENTS, msg24.NO_JOB_COMPONENTS, msg24.NO_COMPONENTS)


# ------------------------------------------------------------------------------------ configure_job_log (2.6)
def _job_log_job(request: Request, parsed: Parsed) -> JobRecord:
    """``authorize_configure_job_log``: four words at least, then the job check on all but the last word."""
    if len(request.args) < 4:
        raise Refusal(msg24.CONFIGURE_JOB_LOG_SYNTAX)
    loaded: JobRecord = JOB.parse(request, parsed)
    return loaded


def _job_log_targets(request: Request, parsed: Parsed) -> Targets:
    """The targets between the job id and the config (``server``, ``client [names]``, ``all``)."""
    try:
        return validate_targets(request.state, request.args[2:-1])
    except TargetError as exc:
        raise Refusal(str(exc), target_refusal_status(request)) from None


def handle_configure_job_log(request: Request, reply: Reply, job: JobRecord, targets: Targets) -> None:
    """Server: reconfigure the job's log; clients: each site does (no site authorization), a Client/Response table."""
    config = request.args[-1]
    job_id = request.args[1]
    if job.status is not RunStatus.RUNNING:
        raise Refusal(msg24.JOB_MUST_BE_RUNNING.format(job_id=job_id, status=job.status))
    if targets.includes_server:
        error = log_config_error(config)
        if error is not None:
            raise Refusal(error)
        reply.string(msg24.JOB_LOG_CONFIGURED.format(job_id=job_id))
    if targets.type in (CLIENT, ALL):
        done = {site: msg24.JOB_LOG_SITE_REPLY.format(site=site, job_id=job_id) for site in targets.clients}
        site_log_table(request, reply, targets.clients, done, config, authz=False)


def site_log_table(
    request: Request, reply: Reply, names: list[str], done: dict[str, str], config: str, *, authz: bool
) -> None:
    """FLARE's ``process_replies_to_table``: one row per site with its reply body (empty when silent)."""
    table = reply.table(msg.CLIENT_RESPONSE_HEADER)
    error = log_config_error(config)
    for answer in ask_sites(request, names, require_authz=authz):
        if answer.no_reply:
            body = ""
        elif answer.denied is not None:
            body = answer.denied
        else:
            body = error if error is not None else done[answer.site]
        table.add_row([answer.site, body])


def specs() -> list[CommandSpec]:
    scope = "job_mgmt"
    return [
        CommandSpec(scope, "app_command", "execute an app-defined command", "app_command job_id topic # cmd_data",
                    handle_app_command, checks=(JOB,),  # ``authorize_job_id``: the topic is no target
                    authorization=Right("app_command", job_submitter=True), since=FlareVersion.V2_5),
        CommandSpec(scope, "list_job", "list additional components of specified job", "list_job job_id",
                    handle_list_job, checks=(JOB, JOB_TARGETS.check_only()),
                    authorization=Right("list_job", job_submitter=True), since=FlareVersion.V2_6),
        CommandSpec(scope, "configure_job_log", "configure logging of a running job",
                    "configure_job_log job_id server|client <client-name>... config", handle_configure_job_log,
                    checks=(Param("job", _job_log_job), Param("targets", _job_log_targets)),
                    authorization=Right("configure_job_log", job_submitter=True), since=FlareVersion.V2_6),
    ]  # fmt: skip
