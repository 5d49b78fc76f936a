"""The ``sys`` scope apart from the shell commands: ``sys_info``, ``report_resources`` and 2.3.12's ``dead``.

nvflare 2.3.12 ``private/fed/server/sys_cmd.py`` (server), ``private/fed/client/sys_cmd.py`` and
``scheduler_cmds.py`` (sites). Replies carry no meta. Memory figures are fixed, deterministic values with
psutil's ``virtual_memory()`` field names (Linux): one machine for the server, another for every site. A
site's table ends with ``available_percent`` computed from the *server's* memory, as FLARE does.
"""

from __future__ import annotations

from ..pipeline.dispatch import CommandSpec, Request
from ..pipeline.reply import Reply
from ..pipeline.site_requests import SiteAnswer, ask_sites
from ..pipeline.targets import CLIENT, SERVER
from ..protocol import messages as msg
from .training import authorize_server_operation, must_be_project_admin


def available_percent(memory: dict[str, object]) -> str:
    """``"%.1f" % (available * 100 / total)``, FLARE's extra row."""
    available = memory["available"]
    total = memory["total"]
    assert isinstance(available, int) and isinstance(total, int)
    return "%.1f" % (available * 100 / total)


# ------------------------------------------------------------------------------------ sys_info
def handle_sys_info(request: Request, reply: Reply) -> None:
    """``server``: the server's memory table; ``client``: per site a header string and a table."""
    target = request.args[1]
    if target == SERVER:
        table = reply.table(msg.SYS_INFO_HEADER)
        for key, value in msg.SYS_INFO_SERVER_MEMORY.items():
            table.add_row([str(key), str(value)])
        table.add_row([msg.SYS_INFO_AVAILABLE_PERCENT, available_percent(msg.SYS_INFO_SERVER_MEMORY)])
        return
    if target == CLIENT:
        for answer in ask_sites(request, request.context["targets"].clients, require_authz=True):
            _site_info(reply, answer)
        return
    reply.string(msg.SYS_INVALID_TARGET.format(target=target))


def _site_info(reply: Reply, answer: SiteAnswer) -> None:
    reply.string(msg.SYS_INFO_CLIENT.format(name=answer.site))
    table = reply.table(msg.SYS_INFO_HEADER)
    if answer.no_reply:
        reply.string(msg.SYS_INFO_NO_REPLIES)
    elif answer.denied is not None:
        table.add_row([answer.denied, ""])
    else:
        for key, value in msg.SYS_INFO_SITE_MEMORY.items():
            table.add_row([str(key), str(value)])
        table.add_row([msg.SYS_INFO_AVAILABLE_PERCENT, available_percent(msg.SYS_INFO_SERVER_MEMORY)])


# ------------------------------------------------------------------------------------ report_resources
def handle_report_resources(request: Request, reply: Reply) -> None:
    """``server``: ``unlimited``; ``client``: each site's resource manager report, as ``str(dict)``."""
    target = request.args[1]
    if target not in (CLIENT, SERVER):
        reply.string(msg.SYS_INVALID_TARGET.format(target=target))
        return
    resources: dict[str, object] = {SERVER: msg.RESOURCES_SERVER}
    if target == CLIENT:
        answers = ask_sites(request, request.context["targets"].clients, require_authz=True)
        resources = {answer.site: _site_resources(answer) for answer in answers}
    table = reply.table(msg.RESOURCES_HEADER)
    for site, value in resources.items():
        table.add_row([str(site), str(value)])


def _site_resources(answer: SiteAnswer) -> object:
    if answer.no_reply:
        return msg.RESOURCES_NO_REPLIES
    if answer.denied is not None:
        return answer.denied
    return dict(msg.RESOURCES_SITE_REPORT)


# ------------------------------------------------------------------------------------ dead (2.3.12)
def handle_dead(request: Request, reply: Reply) -> None:
    """Tell the job's server process that a client's job died; the workflow only puts it on a watch list."""
    args = request.args
    if len(args) != 3:
        reply.error(msg.SYS_DEAD_USAGE.format(command=args[0]))
        return
    reply.string(msg.SYS_DEAD_DONE.format(client=args[1], job_id=args[2]))


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            "sys",
            "sys_info",
            "get the system info",
            "sys_info server|client <client-name> ...",
            handle_sys_info,
            authz=authorize_server_operation,
        ),
        CommandSpec(
            "sys",
            "report_resources",
            "get the resources info",
            "report_resources server | client <client-name> ...",
            handle_report_resources,
            authz=authorize_server_operation,
        ),
        CommandSpec(
            "sys",
            "dead",
            "send dead client msg to SJ",
            "dead <client-name>",
            handle_dead,
            authz=must_be_project_admin,
            visible=False,
        ),
    ]
