"""The ``training`` scope: check_status, admin_check_status, set_timeout, show_scopes, shutdown, restart,
remove_client (reference 6.2).

Behaviour follows nvflare 2.3.12's ``private/fed/server/training_cmds.py`` and ``cmd_utils.py`` (server) and
``private/fed/client/training_cmds.py`` / ``client_engine.py`` (what a site answers). Things the reference
does not spell out, all taken from that code:

* ``remove_client`` validates ``client <names...>`` (no names: every registered client) and always checks
  its right against the server's org.
* ``shutdown`` refuses while a job runs, whatever the target. A site that refuses (its own authorization)
  keeps ``shutdown client`` from answering ``success``; for ``all`` the server then stays up, yet the
  reply still ends with ``success``. A silent site counts as shut down (its response cell is empty).
* ``restart server`` restarts every registered client first, like ``restart all``.
* ``Server app is starting...`` / ``Server is starting...`` need ``ServerStatus.STARTING``, which no 2.3.12
  code ever sets: they are unreachable, here too.

After ``shutdown server|all`` the fake behaves like a server that went away (every new connection is closed
before the TLS handshake) until ``server.reset()``. After ``restart server|all`` it comes back at once as a
new server process: new start time, no admin sessions, DISPATCHED/RUNNING jobs ``FINISHED:ABANDONED``,
default admin timeout, and every site registers again at its next heartbeat (silent ones do not).
"""

from __future__ import annotations

import time

from flare_api.wire import MetaKey, MetaStatus

from ..model.state import ServerState
from ..pipeline.arguments import TARGETS, Param, Parsed, client_targets
from ..pipeline.authorization import PROJECT_ADMIN, Right, server_operation
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply
from ..pipeline.request import Request
from ..pipeline.site_requests import SiteAnswer, ask_sites
from ..pipeline.targets import ALL, CLIENT, SERVER, Targets
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import FlareCrash, Refusal
from ..protocol.versions import FlareVersion


def _unchecked_target(request: Request, parsed: Parsed) -> Targets:
    """``admin_check_status [target]``: default ``server``; not validated, no site names."""
    return Targets(request.args[1] if len(request.args) > 1 else SERVER)


# ------------------------------------------------------------------------------------ check_status
def handle_check_status(request: Request, reply: Reply, targets: Targets) -> None:
    """Server part (engine status, running jobs, registered clients), then the clients' job table."""
    state = request.state
    target = targets.type
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
        cells = request.version >= FlareVersion.V2_6  # 2.6 lists each client's cell names
        if sites:
            header = msg24.CLIENTS_TABLE_HEADER_26 if cells else msg.CLIENTS_TABLE_HEADER
            clients = reply.table(header, name=MetaKey.CLIENTS)
            for site in sites:
                last = state.sites.last_connect_time(site.name)
                when = time.asctime(time.localtime(last))
                row_meta: dict[str, object] = {MetaKey.CLIENT_NAME: site.name, MetaKey.CLIENT_LAST_CONNECT_TIME: last}
                if cells:  # a site directly under the server: its FQCN and FQSN are its name, a leaf
                    clients.add_row([site.name, site.name, site.name, "True", site.token, when],
                                    {**row_meta, msg24.FQCN: site.name})  # fmt: skip
                else:
                    clients.add_row([site.name, site.token, when], row_meta)
    if target in (CLIENT, ALL):
        _client_status(request, reply, targets.clients)
    if target not in (SERVER, CLIENT, ALL):  # only reachable through admin_check_status
        raise Refusal(msg.CHECK_STATUS_INVALID_TARGET.format(target=target), MetaStatus.SYNTAX_ERROR,
                      f"invalid target type {target}")  # fmt: skip


def _client_status(request: Request, reply: Reply, names: list[str]) -> None:
    """The sites' job table: each site authorizes the user itself (no submitter) or stays silent."""
    if not names:
        raise Refusal(msg.NO_RESPONSES_FROM_CLIENTS)
    with_meta = request.version >= FlareVersion.V2_4  # 2.4+: meta ``client_status``, one entry per row
    table = reply.table(msg.CLIENT_STATUS_HEADER, name=msg24.CLIENT_STATUS if with_meta else None)
    for answer in ask_sites(request, names, require_authz=True):
        for row in _client_rows(request, answer):
            table.add_row(row, _client_row_meta(row) if with_meta else None)


def _client_row_meta(row: list[str]) -> dict[str, str]:
    """2.4+'s row meta: the job's fields, or only the client and ``no_jobs``/``no_reply``/``error``."""
    site, app_name, job_id, status = row
    if app_name != "?" or job_id != "?":
        return {MetaKey.CLIENT_NAME: site, MetaKey.APP_NAME: app_name, MetaKey.JOB_ID: job_id, MetaKey.STATUS: status}
    meta_status = {msg.CLIENT_NO_JOBS: msg24.NO_JOBS, msg.CLIENT_NO_REPLY: msg24.NO_REPLY}.get(status, MetaStatus.ERROR)
    return {MetaKey.CLIENT_NAME: site, MetaKey.STATUS: meta_status}


def _client_rows(request: Request, answer: SiteAnswer) -> list[list[str]]:
    """FLARE's ``_process_client_status_replies``: no reply, an error reply's text, or the site's jobs."""
    if answer.no_reply:
        return [[answer.site, "?", "?", msg.CLIENT_NO_REPLY]]
    if answer.denied is not None:
        return [[answer.site, "?", "?", answer.denied]]
    return request.state.client_job_rows(answer.site) or [[answer.site, "?", "?", msg.CLIENT_NO_JOBS]]


# ------------------------------------------------------------------------------------ set_timeout
def _seconds(request: Request, parsed: Parsed) -> float:
    """``float(args[1])`` exactly as FLARE: a missing or bad value crashes the handler."""
    try:
        return float(request.args[1])
    except (IndexError, ValueError) as exc:
        raise FlareCrash(exc) from None


def handle_set_timeout(request: Request, reply: Reply, seconds: float) -> None:
    request.state.set_admin_timeout(seconds)
    reply.string(msg.SET_TIMEOUT_DONE.format(timeout=seconds))
    reply.success()


# ------------------------------------------------------------------------------------ show_scopes
def handle_show_scopes(request: Request, reply: Reply, targets: Targets) -> None:
    """One row per site; no privacy scopes are configured in a provisioned project, so the cells are empty."""
    table = reply.table(msg.SCOPES_HEADER)
    if targets.includes_server:
        table.add_row([SERVER, "", ""])
    if targets.type not in (CLIENT, ALL):
        return
    if not targets.clients:
        raise Refusal(msg.NO_RESPONSES_FROM_CLIENTS)
    for answer in ask_sites(request, targets.clients, require_authz=True):
        table.add_row(_scope_row(answer))


def _scope_row(answer: SiteAnswer) -> list[str]:
    if answer.no_reply:
        return [answer.site, "", msg.SCOPES_NO_REPLY]
    if answer.denied is not None:
        # FLARE joins the error body as if it were the list of scope names: one character at a time.
        return [answer.site, msg.SCOPES_SEPARATOR.join(answer.denied), ""]
    return [answer.site, "", ""]


# ------------------------------------------------------------------------------------ shutdown
def handle_shutdown(request: Request, reply: Reply, targets: Targets) -> None:
    """Refuse while jobs run; shut down clients (``client``/``all``) and then the server (``server``/``all``)."""
    state = request.state
    since_24 = request.version >= FlareVersion.V2_4
    running = state.jobs.running()
    if running:
        if since_24:  # info: a running job's id
            raise Refusal(msg.SHUTDOWN_JOBS_RUNNING, MetaStatus.JOB_RUNNING, running[0].job_id)
        raise Refusal(msg.SHUTDOWN_JOBS_RUNNING)
    registered = bool(state.sites.connected())
    if since_24:
        _shutdown_24(request, reply, targets, registered)
        return
    if targets.type == SERVER:
        if registered:
            raise Refusal(msg.SHUTDOWN_CLIENTS_ACTIVE)
        _shutdown_server(request, reply)
    elif targets.type == CLIENT:
        if not _shutdown_clients(request, reply, targets.clients):
            return
    elif registered:
        reply.string(msg.SHUTDOWN_CLIENTS_FIRST)
        if _shutdown_clients(request, reply, targets.clients):
            _shutdown_server(request, reply)
    else:
        _shutdown_server(request, reply)
    reply.success()


def _shutdown_24(request: Request, reply: Reply, targets: Targets, registered: bool) -> None:
    """2.4+: ``clients_running`` for the server while sites are registered; clients first (no announcing
    line), a refusing site stops it with meta status ``error``; the server's line and ``Goodbye!``."""
    if targets.type == SERVER and registered:
        raise Refusal(msg.SHUTDOWN_CLIENTS_ACTIVE, msg24.CLIENTS_RUNNING, "")
    clients = targets.clients if targets.type in (CLIENT, ALL) else []
    if clients and not _shutdown_clients(request, reply, clients):
        reply.update_meta({MetaKey.STATUS: MetaStatus.ERROR, MetaKey.INFO: msg24.SHUTDOWN_CLIENTS_FAILED})
        return
    if targets.type in (SERVER, ALL):
        done = msg24.SHUTDOWN_SERVER_DONE_26 if request.version >= FlareVersion.V2_6 else msg.SHUTDOWN_SERVER_DONE
        reply.string(done)
        reply.shutdown(msg24.SHUTDOWN_GOODBYE)
        _go_away(request.state)
    reply.success()


def _shutdown_clients(request: Request, reply: Reply, names: list[str]) -> bool:
    """Ask the sites to shut down; True if none refused. Sites that accept log out at once."""
    if not names:  # unreachable: the targets were validated
        raise Refusal(msg.SHUTDOWN_NO_CLIENTS)
    answers = ask_sites(request, names, require_authz=True)
    table = reply.table(msg.CLIENT_RESPONSE_HEADER)
    for answer in answers:
        table.add_row([answer.site, _site_reply(answer, msg.SITE_SHUTDOWN_REPLY, "")])
    for answer in answers:
        if answer.ok:
            request.state.sites.disconnect(answer.site)
    return all(answer.denied is None for answer in answers)


def _shutdown_server(request: Request, reply: Reply) -> None:
    reply.string(msg.SHUTDOWN_SERVER_DONE)
    reply.shutdown(msg.SHUTDOWN_BYE)
    _go_away(request.state)


def _go_away(state: ServerState) -> None:
    """The server is going away after this reply: new connections are cut until ``reset()``."""
    state.gone = True


def _site_reply(answer: SiteAnswer, accepted: str, silent: str) -> str:
    """The body a site answers: its acceptance text, its denial, or ``silent`` when it does not answer."""
    if answer.no_reply:
        return silent
    return answer.denied if answer.denied is not None else accepted


# ------------------------------------------------------------------------------------ restart
def handle_restart(request: Request, reply: Reply, targets: Targets) -> None:
    """Refuse while jobs run; restart the clients, then (``server``/``all``) the server itself.

    Like FLARE, a job aborted moments ago still counts until its process exits (``JobStore.abort_linger``).
    """
    state = request.state
    since_24 = request.version >= FlareVersion.V2_4
    if state.jobs.in_runner():
        raise Refusal(msg.RESTART_JOBS_RUNNING, MetaStatus.JOB_RUNNING if since_24 else MetaStatus.ERROR)
    if targets.includes_server:
        names = [site.name for site in state.sites.connected()]
        if names:
            reply.string(msg.RESTART_CLIENTS_FIRST)
            answers = ask_sites(request, names, require_authz=True)
            reply.string(_restart_lines(answers))
            if since_24:
                reply.update_meta({msg24.CLIENT_STATUS: _restart_statuses(answers)})
        reply.string(msg.RESTART_SERVER_SCHEDULED, {MetaKey.SERVER_STATUS: MetaStatus.OK} if since_24 else None)
        state.restart()
    else:
        answers = ask_sites(request, targets.clients, require_authz=True)
        reply.string(_restart_lines(answers))
        if since_24:
            reply.update_meta({msg24.CLIENT_STATUS: _restart_statuses(answers)})
        for answer in answers:
            if answer.ok:
                state.sites.remove(answer.site)
    reply.success()


def _restart_statuses(answers: list[SiteAnswer]) -> dict[str, str]:
    """2.4+'s meta ``client_status``: each site's reply body, ``no_reply`` for a silent one."""
    return {a.site: _site_reply(a, msg.SITE_RESTART_REPLY, msg24.NO_REPLY) for a in answers}


def _restart_lines(answers: list[SiteAnswer]) -> str:
    """``client:<name> : <reply>\\n`` per site, as ``_process_replies_to_string`` builds it."""
    if not answers:
        return msg.NO_RESPONSES_FROM_CLIENTS
    lines = (
        msg.RESTART_CLIENT_LINE.format(
            name=a.site, reply=_site_reply(a, msg.SITE_RESTART_REPLY, msg.RESTART_NO_REPLIES)
        )
        for a in answers
    )
    return "".join(lines)


# ------------------------------------------------------------------------------------ remove_client
def handle_remove_client(request: Request, reply: Reply, targets: Targets) -> None:
    """Unregister the sites; each registers again at its next heartbeat (a silent one does not)."""
    for name in targets.clients:
        request.state.sites.remove(name)
    reply.success()


def specs() -> list[CommandSpec]:
    scope = "training"
    return [
        CommandSpec(scope, "check_status", "check status of the FL server/client", "check_status server|client",
                    handle_check_status, checks=(TARGETS,), authorization=server_operation("check_status")),
        CommandSpec(scope, "admin_check_status", "check status for shutdown system command", "admin_check_status",
                    handle_check_status, checks=(Param("targets", _unchecked_target),), authorization=PROJECT_ADMIN,
                    visible=False, changes={FlareVersion.V2_4: {"description": "check status for project admin",
                                                                "usage": "admin_check_status server|client"}}),
        CommandSpec(scope, "remove_client", "remove a FL client", "remove_client <client-name>",
                    handle_remove_client, checks=(client_targets(1),), authorization=Right("remove_client"),
                    confirm="auth"),
        CommandSpec(scope, "shutdown", "shutdown the FL server/client", "shutdown server|client|all",
                    handle_shutdown, checks=(TARGETS,), authorization=server_operation("shutdown"), confirm="auth"),
        CommandSpec(scope, "restart", "restart the FL server/client", "restart server|client|all",
                    handle_restart, checks=(TARGETS,), authorization=server_operation("restart"), confirm="auth",
                    changes={FlareVersion.V2_4: {"description": "restart FL server and/or clients",
                                                 "usage": "restart server|client|all [clients]"}}),
        CommandSpec(scope, "set_timeout", "set the admin commands timeout", "set_timeout seconds ",
                    handle_set_timeout, authorization=Right("set_timeout"), args=(Param("seconds", _seconds),),
                    until=FlareVersion.V2_4),
        CommandSpec(scope, "show_scopes", "show configured scope names on server/client",
                    "show_scopes server|client|all ...", handle_show_scopes, checks=(TARGETS,),
                    authorization=server_operation("show_scopes")),
    ]  # fmt: skip
