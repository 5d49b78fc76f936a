"""The rest of the ``training`` scope: set_timeout, show_scopes, shutdown, restart, remove_client (reference 6.2).

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

import weakref

from ..model.state import ServerState
from ..pipeline.dispatch import Authorize, CommandSpec, PreAuthzResult, Request, check_right
from ..pipeline.reply import Reply
from ..pipeline.site_requests import SiteAnswer, ask_sites
from ..pipeline.targets import ALL, CLIENT, SERVER, TargetError, Targets, validate_targets
from ..protocol import messages as msg
from ..protocol.refusals import FlareCrash
from .training import authorize_server_operation


# ------------------------------------------------------------------------------------ server-side state
class AdminTimeout:
    """The server's admin→site request timeout as ``set_timeout`` left it; back to the default on reset."""

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self.default = state.config.admin_timeout

    def set(self, seconds: float) -> None:
        self._state.config.admin_timeout = seconds

    def reset(self) -> None:
        self._state.config.admin_timeout = self.default


_TIMEOUTS: weakref.WeakKeyDictionary[ServerState, AdminTimeout] = weakref.WeakKeyDictionary()


def admin_timeout(state: ServerState) -> AdminTimeout:
    """The state's :class:`AdminTimeout`, registered so that ``state.reset()`` restores the default."""
    timeout = _TIMEOUTS.get(state)
    if timeout is None:
        timeout = _TIMEOUTS[state] = AdminTimeout(state)
        state.register_extension(timeout)
    return timeout


# ------------------------------------------------------------------------------------ pre-authorization
def authorize_client_operation(request: Request, reply: Reply) -> PreAuthzResult:
    """``remove_client [names]``: validate ``client <names>``; always check the right on the server."""
    try:
        targets = validate_targets(request.state, [CLIENT, *request.args[1:]])
    except TargetError as exc:
        reply.error(str(exc))
        return False
    request.context["targets"] = targets
    return Authorize(request.spec.name)


def _targets(request: Request) -> Targets:
    targets = request.context["targets"]
    assert isinstance(targets, Targets)
    return targets


# ------------------------------------------------------------------------------------ set_timeout
def handle_set_timeout(request: Request, reply: Reply) -> None:
    """``float(args[1])`` exactly as FLARE: a missing or bad value crashes the handler."""
    try:
        seconds = float(request.args[1])
    except (IndexError, ValueError) as exc:
        raise FlareCrash(exc) from None
    admin_timeout(request.state).set(seconds)
    reply.string(msg.SET_TIMEOUT_DONE.format(timeout=seconds))
    reply.success()


# ------------------------------------------------------------------------------------ show_scopes
def handle_show_scopes(request: Request, reply: Reply) -> None:
    """One row per site; no privacy scopes are configured in a provisioned project, so the cells are empty."""
    targets = _targets(request)
    table = reply.table(msg.SCOPES_HEADER)
    if targets.includes_server:
        table.add_row([SERVER, "", ""])
    if targets.type not in (CLIENT, ALL):
        return
    if not targets.clients:
        reply.error(msg.NO_RESPONSES_FROM_CLIENTS)
        return
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
def handle_shutdown(request: Request, reply: Reply) -> None:
    """Refuse while jobs run; shut down clients (``client``/``all``) and then the server (``server``/``all``)."""
    state = request.state
    if state.jobs.running():
        reply.error(msg.SHUTDOWN_JOBS_RUNNING)
        return
    targets = _targets(request)
    registered = bool(state.sites.connected())
    if targets.type == SERVER:
        if registered:
            reply.error(msg.SHUTDOWN_CLIENTS_ACTIVE)
            return
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


def _shutdown_clients(request: Request, reply: Reply, names: list[str]) -> bool:
    """Ask the sites to shut down; True if none refused. Sites that accept log out at once."""
    if not names:  # unreachable: the targets were validated
        reply.error(msg.SHUTDOWN_NO_CLIENTS)
        return False
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
def handle_restart(request: Request, reply: Reply) -> None:
    """Refuse while jobs run; restart the clients, then (``server``/``all``) the server itself.

    Like FLARE, a job aborted moments ago still counts until its process exits (``JobStore.abort_linger``).
    """
    state = request.state
    if state.jobs.in_runner():
        reply.error(msg.RESTART_JOBS_RUNNING)
        return
    targets = _targets(request)
    if targets.includes_server:
        names = [site.name for site in state.sites.connected()]
        if names:
            reply.string(msg.RESTART_CLIENTS_FIRST)
            reply.string(_restart_lines(ask_sites(request, names, require_authz=True)))
        reply.string(msg.RESTART_SERVER_SCHEDULED)
        restart_server(state)
    else:
        answers = ask_sites(request, targets.clients, require_authz=True)
        reply.string(_restart_lines(answers))
        for answer in answers:
            if answer.ok:
                state.sites.remove(answer.site)
    reply.success()


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


def restart_server(state: ServerState) -> None:
    """A new server process: start time, no sessions, unfinished jobs abandoned, sites registering again."""
    for site in state.sites.connected():
        state.sites.remove(site.name)
    state.sessions.clear()
    state.jobs.abandon_unfinished()
    state.start_time = state.clock.time()
    admin_timeout(state).reset()


# ------------------------------------------------------------------------------------ remove_client
def handle_remove_client(request: Request, reply: Reply) -> None:
    """Unregister the sites; each registers again at its next heartbeat (a silent one does not)."""
    for name in _targets(request).clients:
        request.state.sites.remove(name)
    reply.success()


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            "training",
            "remove_client",
            "remove a FL client",
            "remove_client <client-name>",
            handle_remove_client,
            authz=authorize_client_operation,
            confirm="auth",
        ),
        CommandSpec(
            "training",
            "shutdown",
            "shutdown the FL server/client",
            "shutdown server|client|all",
            handle_shutdown,
            authz=authorize_server_operation,
            confirm="auth",
        ),
        CommandSpec(
            "training",
            "restart",
            "restart the FL server/client",
            "restart server|client|all",
            handle_restart,
            authz=authorize_server_operation,
            confirm="auth",
        ),
        CommandSpec(
            "training",
            "set_timeout",
            "set the admin commands timeout",
            "set_timeout seconds ",
            handle_set_timeout,
            authz=check_right("set_timeout"),
        ),
        CommandSpec(
            "training",
            "show_scopes",
            "show configured scope names on server/client",
            "show_scopes server|client|all ...",
            handle_show_scopes,
            authz=authorize_server_operation,
        ),
    ]
