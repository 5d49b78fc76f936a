"""The ``training`` scope: ``check_status`` and its invisible twin ``admin_check_status`` (reference 6.2)."""

from __future__ import annotations

import time

from flare_api.wire import MetaKey, MetaStatus

from ..pipeline.dispatch import Authorize, CommandSpec, PreAuthzResult, Request
from ..pipeline.reply import Reply
from ..pipeline.site_requests import SiteAnswer, ask_sites
from ..pipeline.targets import ALL, CLIENT, SERVER, TargetError, validate_targets
from ..protocol import messages as msg


def authorize_server_operation(request: Request, reply: Reply) -> PreAuthzResult:
    """Validate targets; check the command's right only when the server is among them."""
    try:
        targets = validate_targets(request.state, request.args[1:])
    except TargetError as exc:
        reply.error(str(exc))
        return False
    request.context["targets"] = targets
    return Authorize(request.spec.name) if targets.includes_server else None


def must_be_project_admin(request: Request, reply: Reply) -> PreAuthzResult:
    """Only role ``project_admin`` (compared exactly, not normalized) may run the command.

    For ``admin_check_status`` a missing target becomes ``server``; other targets are not validated.
    """
    if request.args[0] == "admin_check_status" and len(request.args) == 1:
        request.args.append(SERVER)
    role = request.session.role if request.session else None
    if role != "project_admin":
        reply.error(msg.NOT_PROJECT_ADMIN, {MetaKey.STATUS: MetaStatus.NOT_AUTHORIZED, MetaKey.INFO: ""})
        return False
    return None


def handle_check_status(request: Request, reply: Reply) -> None:
    """Server part (engine status, running jobs, registered clients), then the clients' job table."""
    state = request.state
    target = request.args[1]
    if target in (SERVER, ALL):
        running = state.running_jobs()
        status = msg.ENGINE_STARTED if running else msg.ENGINE_STOPPED
        reply.string(
            msg.ENGINE_STATUS.format(status=status),
            {
                MetaKey.STATUS: MetaStatus.OK,
                MetaKey.INFO: "",
                MetaKey.SERVER_STATUS: status,
                MetaKey.SERVER_START_TIME: state.start_time,
            },
        )
        jobs = reply.table(msg.JOBS_TABLE_HEADER, name=MetaKey.JOBS)
        for job_id, app_name in running:
            jobs.add_row([job_id, app_name], {MetaKey.APP_NAME: app_name, MetaKey.JOB_ID: job_id})
        sites = state.sites.connected()
        reply.string(msg.REGISTERED_CLIENTS.format(count=len(sites)))
        if sites:
            clients = reply.table(msg.CLIENTS_TABLE_HEADER, name=MetaKey.CLIENTS)
            for site in sites:
                last = state.sites.last_connect_time(site.name)
                clients.add_row(
                    [site.name, site.token, time.asctime(time.localtime(last))],
                    {MetaKey.CLIENT_NAME: site.name, MetaKey.CLIENT_LAST_CONNECT_TIME: last},
                )
    if target in (CLIENT, ALL):
        _client_status(request, reply)
    if target not in (SERVER, CLIENT, ALL):  # only reachable through admin_check_status
        reply.error(
            msg.CHECK_STATUS_INVALID_TARGET.format(target=target),
            {MetaKey.STATUS: MetaStatus.SYNTAX_ERROR, MetaKey.INFO: f"invalid target type {target}"},
        )


def _client_status(request: Request, reply: Reply) -> None:
    """The sites' job table: each site authorizes the user itself (no submitter) or stays silent."""
    targets = request.context.get("targets")
    names = targets.clients if targets is not None else []
    if not names:
        reply.error(msg.NO_RESPONSES_FROM_CLIENTS)
        return
    table = reply.table(msg.CLIENT_STATUS_HEADER)
    for answer in ask_sites(request, names, require_authz=True):
        for row in _client_rows(request, answer):
            table.add_row(row)


def _client_rows(request: Request, answer: SiteAnswer) -> list[list[str]]:
    """FLARE's ``_process_client_status_replies``: no reply, an error reply's text, or the site's jobs."""
    if answer.no_reply:
        return [[answer.site, "?", "?", msg.CLIENT_NO_REPLY]]
    if answer.denied is not None:
        return [[answer.site, "?", "?", answer.denied]]
    return request.state.client_job_rows(answer.site) or [[answer.site, "?", "?", msg.CLIENT_NO_JOBS]]


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            "training",
            "check_status",
            "check status of the FL server/client",
            "check_status server|client",
            handle_check_status,
            authz=authorize_server_operation,
        ),
        CommandSpec(
            "training",
            "admin_check_status",
            "check status for shutdown system command",
            "admin_check_status",
            handle_check_status,
            authz=must_be_project_admin,
            visible=False,
        ),
    ]
