"""The ``sys`` scope's shell commands ``pwd ls cat head tail grep`` on the server or one site (reference 6.4).

FLARE's server checks the arguments while pre-authorizing, checks the right (the command name) only for
target ``server``, and runs the joined line with ``subprocess.getoutput``; for a client target it forwards
the line, the site authorizes with its own policy and org, and its text comes back as one string item.
Here :mod:`fakeserver.shell` runs the line in the target's workspace folder in pure Python: no process, and
nothing outside that folder is ever read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .. import shell
from ..model.workspaces import SERVER_TARGET
from ..pipeline.dispatch import Authorize, CommandSpec, PreAuthzResult, Request
from ..pipeline.reply import Reply
from ..pipeline.site_requests import ask_sites
from ..protocol import messages as msg
from ..protocol.refusals import FlareCrash


def authorize_shell_command(request: Request, reply: Reply) -> PreAuthzResult:
    """FLARE's checks in order (target, options, files); then the right only for target ``server``."""
    command = request.spec.name
    error, _ = shell.validate(command, request.args)
    if error is not None:
        reply.error(error)
        return False
    return Authorize(command) if request.args[1] == SERVER_TARGET else None


def handle_shell_command(request: Request, reply: Reply) -> None:
    """Run on the server, or ask the one named site: its denial, its silence or its output."""
    target = request.args[1]
    if target == SERVER_TARGET:
        reply.string(_run(request, SERVER_TARGET))
        return
    site = _registered_site(request, target)
    if site is None:
        reply.error(msg.SHELL_INVALID_CLIENT.format(name=target))
        return
    (answer,) = ask_sites(request, [site], require_authz=True)
    if answer.no_reply:
        reply.error(msg.SHELL_NO_REPLY)
    elif answer.denied is not None:
        reply.string(answer.denied)
    else:
        reply.string(_run_on_site(request, site))


def _registered_site(request: Request, target: str) -> Optional[str]:
    """The registered site a target names: FLARE looks it up by token first, then by name."""
    sites = request.state.sites.connected()
    by_token = next((site.name for site in sites if site.token == target), None)
    return by_token or next((site.name for site in sites if site.name == target), None)


def _run_on_site(request: Request, site: str) -> str:
    """The site's reply body: the output, or its admin agent's text for an exception in the command."""
    try:
        return _run(request, site)
    except FlareCrash as crash:
        original = crash.original
        return msg.SHELL_SITE_EXCEPTION.format(type=type(original).__name__, message=original)


def _run(request: Request, target: str) -> str:
    """What ``getoutput`` returns for the validated command line, run in the target's workspace folder."""
    folder = _workspace(request, target)
    return shell.run(request.spec.name, request.args[2:], folder, display_root=str(folder))


def _workspace(request: Request, target: str) -> Path:
    workspaces = request.state.workspaces
    if workspaces is None:
        raise RuntimeError("the fake server has no workspace folders (it was never started)")
    return workspaces.target(target)


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            "sys",
            name,
            msg.SHELL_DESCRIPTIONS[name],
            shell.usage(name),
            handle_shell_command,
            authz=authorize_shell_command,
        )
        for name in shell.SHELL_COMMANDS
    ]
