"""The ``sys`` scope: ``sys_info``, ``report_resources``, 2.3.12's ``dead`` and the shell commands
``pwd ls cat head tail grep`` on the server or one site (reference 6.4).

nvflare 2.3.12 ``private/fed/server/sys_cmd.py`` (server), ``private/fed/client/sys_cmd.py`` and
``scheduler_cmds.py`` (sites). Replies carry no meta. Memory figures are fixed, deterministic values with
psutil's ``virtual_memory()`` field names (Linux): one machine for the server, another for every site. A
site's table ends with ``available_percent`` computed from the *server's* memory, as FLARE does.

FLARE's server checks the arguments while pre-authorizing, checks the right (the command name) only for
target ``server``, and runs the joined line with ``subprocess.getoutput``; for a client target it forwards
the line, the site authorizes with its own policy and org, and its text comes back as one string item.
Here :mod:`fakeserver.shell` runs the line in the target's workspace folder in pure Python: no process, and
nothing outside that folder is ever read.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .. import shell
from ..model.workspaces import SERVER_TARGET
from ..pipeline.arguments import TARGETS, Param, Parsed, arg_count, word, words_from
from ..pipeline.authorization import PROJECT_ADMIN, Condition, Right, server_operation
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply
from ..pipeline.request import Request
from ..pipeline.site_requests import SiteAnswer, ask_sites
from ..pipeline.targets import CLIENT, SERVER, Targets
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import FlareCrash, Refusal
from ..protocol.versions import FlareVersion


# ------------------------------------------------------------------------------------ sys_info
def available_percent(memory: dict[str, object]) -> str:
    """``"%.1f" % (available * 100 / total)``, FLARE's extra row."""
    available = memory["available"]
    total = memory["total"]
    assert isinstance(available, int) and isinstance(total, int)
    return "%.1f" % (available * 100 / total)


def handle_sys_info(request: Request, reply: Reply, targets: Targets) -> None:
    """``server``: the server's memory table; ``client``: per site a header string and a table."""
    target = targets.type
    if target == SERVER:
        table = reply.table(msg.SYS_INFO_HEADER)
        for key, value in msg.SYS_INFO_SERVER_MEMORY.items():
            table.add_row([str(key), str(value)])
        table.add_row([msg.SYS_INFO_AVAILABLE_PERCENT, available_percent(msg.SYS_INFO_SERVER_MEMORY)])
        return
    if target == CLIENT:
        for answer in ask_sites(request, targets.clients, require_authz=True):
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
def handle_report_resources(request: Request, reply: Reply, targets: Targets) -> None:
    """``server``: ``unlimited``; ``client``: each site's resource manager report, as ``str(dict)``."""
    target = targets.type
    if target not in (CLIENT, SERVER):
        reply.string(msg.SYS_INVALID_TARGET.format(target=target))
        return
    resources: dict[str, object] = {SERVER: msg.RESOURCES_SERVER}
    if target == CLIENT:
        answers = ask_sites(request, targets.clients, require_authz=True)
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
def _dead_usage(request: Request) -> Refusal:
    return Refusal(msg.SYS_DEAD_USAGE.format(command=request.args[0]))


def handle_dead(request: Request, reply: Reply, client: str, job_id: str) -> None:
    """Tell the job's server process that a client's job died; the workflow only puts it on a watch list."""
    reply.string(msg.SYS_DEAD_DONE.format(client=client, job_id=job_id))


# ------------------------------------------------------------------------------------ shell commands
def _shell_target(request: Request, parsed: Parsed) -> str:
    """FLARE's checks in order (target, options, files); the target is ``server`` or a site's name or token."""
    error, _ = shell.validate(request.spec.name, request.args)
    if error is not None:
        raise Refusal(error)
    return request.args[1]


#: The right of a shell command is checked only when it runs on the server.
ON_SERVER = Condition("if the target is the server", lambda parsed: parsed["target"] == SERVER_TARGET)


def handle_shell_command(request: Request, reply: Reply, target: str, words: list[str]) -> None:
    """Run on the server, or ask the one named site: its denial, its silence or its output."""
    if target == SERVER_TARGET:
        reply.string(_run(request, SERVER_TARGET, words))
        return
    site = _registered_site(request, target)
    if site is None:
        if request.version >= FlareVersion.V2_4:
            text = msg24.SHELL_INVALID_TARGET.format(name=target)
            raise Refusal(text, msg24.INVALID_TARGET)
        raise Refusal(msg.SHELL_INVALID_CLIENT.format(name=target))
    (answer,) = ask_sites(request, [site], require_authz=True)
    if answer.no_reply:
        if request.version >= FlareVersion.V2_4:  # 2.4+: internal_error, info "client timeout"
            raise Refusal(msg.SHELL_NO_REPLY, msg24.INTERNAL_ERROR, msg24.SHELL_CLIENT_TIMEOUT)
        raise Refusal(msg.SHELL_NO_REPLY)
    if answer.denied is not None:
        reply.string(answer.denied)
    else:
        reply.string(_run_on_site(request, site, words))


def _registered_site(request: Request, target: str) -> Optional[str]:
    """The registered site a target names: FLARE looks it up by token first, then by name."""
    sites = request.state.sites.connected()
    by_token = next((site.name for site in sites if site.token == target), None)
    return by_token or next((site.name for site in sites if site.name == target), None)


def _run_on_site(request: Request, site: str, words: list[str]) -> str:
    """The site's reply body: the output, or its admin agent's text for an exception in the command."""
    try:
        return _run(request, site, words)
    except FlareCrash as crash:
        original = crash.original
        return msg.SHELL_SITE_EXCEPTION.format(type=type(original).__name__, message=original)


def _run(request: Request, target: str, words: list[str]) -> str:
    """What ``getoutput`` returns for the validated command line, run in the target's workspace folder."""
    folder = _workspace(request, target)
    owner, group = process_owner()
    return shell.run(request.spec.name, words, folder, display_root=str(folder), owner=owner, group=group)


@lru_cache(maxsize=1)
def process_owner() -> tuple[str, str]:
    """The user and group this server runs as, who own its workspace files: what ``ls -l`` shows on a real
    participant (its files belong to the account that started it). ``flare`` where there is no such name."""
    try:
        import grp
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    except (ImportError, KeyError, AttributeError):  # Windows, or an id without a name (containers)
        return "flare", "flare"


def _workspace(request: Request, target: str) -> Path:
    workspaces = request.state.workspaces
    if workspaces is None:
        raise RuntimeError("the fake server has no workspace folders (it was never started)")
    return workspaces.target(target)


def specs() -> list[CommandSpec]:
    scope = "sys"
    shell_specs = [
        CommandSpec(
            scope,
            name,
            msg.SHELL_DESCRIPTIONS[name],
            shell.usage(name),
            handle_shell_command,
            checks=(Param("target", _shell_target), words_from(2, "words")),
            authorization=Right(name, only=ON_SERVER),
        )
        for name in shell.SHELL_COMMANDS
    ]
    return [
        CommandSpec(scope, "sys_info", "get the system info", "sys_info server|client <client-name> ...",
                    handle_sys_info, checks=(TARGETS,), authorization=server_operation("sys_info")),
        CommandSpec(scope, "report_resources", "get the resources info",
                    "report_resources server | client <client-name> ...", handle_report_resources,
                    checks=(TARGETS,), authorization=server_operation("report_resources")),
        CommandSpec(scope, "dead", "send dead client msg to SJ", "dead <client-name>", handle_dead,
                    authorization=PROJECT_ADMIN,
                    args=(arg_count(_dead_usage, at_least=3, at_most=3), word(1, "client"), word(2, "job_id")),
                    visible=False,  # absent in 2.4.x only
                    changes={FlareVersion.V2_4: {"enabled": False}, FlareVersion.V2_5: {"enabled": True}}),
        *shell_specs,
    ]  # fmt: skip
