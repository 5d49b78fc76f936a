"""``sys`` commands that FLARE added after 2.3: ``report_env`` (2.4) and ``configure_site_log`` (2.6).

nvflare 2.4.2 / 2.6.3 ``private/fed/server/sys_cmd.py`` (server) and ``private/fed/client/sys_cmd.py`` (what
a site answers). A site's env is its name, its workspace as FLARE reports it (``<workspace>/startup/..``),
secure mode, and the URL its cell connects to (``grpc://<server name>:<fl port>``).
"""

from __future__ import annotations

from typing import Any, Union

from ..pipeline.arguments import Param, Parsed, target_refusal_status
from ..pipeline.authorization import Right, server_operation
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply
from ..pipeline.request import Request
from ..pipeline.site_requests import SiteAnswer, ask_sites
from ..pipeline.targets import ALL, CLIENT, TargetError, Targets, validate_targets
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import Refusal
from ..protocol.versions import FlareVersion
from .job_mgmt_24 import site_log_table
from .log_config import log_config_error


# ------------------------------------------------------------------------------------ report_env (2.4)
def _client_targets(request: Request, parsed: Parsed) -> Targets:
    """``authorize_client_operation``: ``client`` plus the words after the command (none: every site)."""
    try:
        return validate_targets(request.state, [CLIENT, *request.args[1:]])
    except TargetError as exc:
        raise Refusal(str(exc), target_refusal_status(request)) from None


def handle_report_env(request: Request, reply: Reply, targets: Targets) -> None:
    """A ``Sites``/``Env`` table named ``clients``: each site's env dict (as ``str()`` and as row meta)."""
    answers = ask_sites(request, targets.clients, require_authz=True)
    table = reply.table(msg24.ENV_HEADER, name=msg24.ENV_TABLE)
    for answer in answers:
        env = _site_env(request, answer)
        table.add_row([answer.site, str(env)], env)  # type: ignore[arg-type]  # FLARE appends a string too


def _site_env(request: Request, answer: SiteAnswer) -> Union[dict[str, Any], str]:
    if answer.no_reply:
        return msg.RESTART_NO_REPLIES
    if answer.denied is not None:
        return answer.denied
    state = request.state
    workspaces = state.workspaces
    if workspaces is None:
        raise RuntimeError("the fake server has no workspace folders (it was never started)")
    project = state.project
    return {
        "site_name": answer.site,
        "workspace": msg24.ENV_WORKSPACE.format(workspace=workspaces.target(answer.site)),
        "secure_mode": state.config.secure,
        "root_url": msg24.ENV_ROOT_URL.format(host=project.server_name, fl_port=project.fl_port),
    }


# ------------------------------------------------------------------------------------ configure_site_log (2.6)
def _site_log_targets(request: Request, parsed: Parsed) -> Targets:
    """``authorize_configure_site_log``: three words at least; the targets are all but the last word."""
    if len(request.args) < 3:
        raise Refusal(msg24.CONFIGURE_SITE_LOG_SYNTAX)
    try:
        return validate_targets(request.state, request.args[1:-1])
    except TargetError as exc:
        raise Refusal(str(exc), target_refusal_status(request)) from None


def handle_configure_site_log(request: Request, reply: Reply, targets: Targets) -> None:
    """Server: reconfigure its log (``internal_error`` for a bad config); clients: each site, authorizing itself."""
    config = request.args[-1]
    if targets.includes_server:
        error = log_config_error(config)
        if error is not None:
            raise Refusal(error, msg24.INTERNAL_ERROR, error)
        reply.string(msg24.SITE_LOG_CONFIGURED)
    if targets.type in (CLIENT, ALL):
        done = {name: msg24.SITE_LOG_REPLY.format(site=name) for name in targets.clients}
        site_log_table(request, reply, targets.clients, done, config, authz=True)


def specs() -> list[CommandSpec]:
    scope = "sys"
    return [
        CommandSpec(scope, "report_env", "get env info of a client", "report_env <client-name>", handle_report_env,
                    checks=(Param("targets", _client_targets),), authorization=Right("report_env"),
                    since=FlareVersion.V2_4),
        CommandSpec(scope, "configure_site_log", "configure logging of a site",
                    "configure_site_log server|client <client-name>... config", handle_configure_site_log,
                    checks=(Param("targets", _site_log_targets),), authorization=server_operation("configure_site_log"),
                    since=FlareVersion.V2_6),
    ]  # fmt: skip
