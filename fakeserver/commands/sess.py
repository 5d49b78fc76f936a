"""The ``sess`` scope (and FLARE's ``login`` and unscoped ``_commands``): login, logout, session check,
the command list (reference sections 5.1–5.5)."""

from __future__ import annotations

import hmac

from ..pipeline.arguments import Param, arg_count, word, words_from
from ..pipeline.dispatch import format_seconds
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply
from ..pipeline.request import Request
from ..protocol import messages as msg
from ..protocol.refusals import Refusal
from ..protocol.versions import FlareVersion

#: The POC server's only account (FLARE stores a pbkdf2 hash of the same password).
POC_USERS = {"admin": "admin"}
#: The role of a ``_login`` session on 2.4+ servers (2.3.12: ``super``).
POC_ROLE_24 = "project_admin"


def _login_reject(request: Request) -> Refusal:
    return Refusal(msg.LOGIN_REJECT, as_string=True)


def handle_login(request: Request, reply: Reply, user: str, password: str) -> None:
    """``_login <user> <password>``: POC mode only; the session gets org ``global`` and role ``super``
    (2.4+: ``project_admin``)."""
    users = {} if request.state.config.secure else POC_USERS
    expected = users.get(user)
    if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
        raise _login_reject(request)
    role = POC_ROLE_24 if request.version >= FlareVersion.V2_4 else "super"
    session = request.state.sessions.create(user, "global", role)
    reply.string(msg.LOGIN_OK)
    reply.token(session.token)


def handle_cert_login(request: Request, reply: Reply, user: str) -> None:
    """``_cert_login <user>``: accepted only when the certificate's CN equals ``<user>`` exactly."""
    peer = request.peer
    if peer is None or peer.name is None or peer.name != user:
        raise _login_reject(request)
    session = request.state.sessions.create(peer.name, peer.org, peer.role)
    reply.string(msg.LOGIN_OK)
    reply.token(session.token)


def handle_logout(request: Request, reply: Reply) -> None:
    """``_logout``: end the session (the login filter has already checked the token)."""
    if isinstance(request.token, str):
        request.state.sessions.end(request.token)
    reply.string(msg.LOGOUT_OK)


def handle_check_session(request: Request, reply: Reply) -> None:
    """``_check_session``: is the token's session alive? Does not count as activity."""
    token = request.token if isinstance(request.token, str) else None
    if request.state.sessions.active(token, touch=False) is None:
        timeout = format_seconds(request.state.sessions.idle_timeout)
        raise Refusal(msg.SESSION_INACTIVE, extra=(msg.SESSION_TIMED_OUT_CHECK.format(timeout=timeout),))
    reply.string(msg.CHECK_SESSION_OK)


def handle_list_commands(request: Request, reply: Reply, names: list[str]) -> None:
    """``_commands``: the whole table, or details of the named commands."""
    if not names:
        rows = request.registry.commands_table()
        table = reply.table([str(cell) for cell in rows[0]])
        for row in rows[1:]:
            table.add_row(row)
        return
    for name in names:
        specs = request.registry.lookup(name)
        if not specs:
            raise Refusal(msg.UNDEFINED_COMMAND.format(name=name))
        for spec in specs:
            if not spec.visible:
                continue
            reply.string(msg.COMMAND_DETAIL.format(scope=spec.scope, name=name))
            reply.string(msg.COMMAND_DESCRIPTION.format(description=spec.description))
            reply.string(msg.COMMAND_USAGE.format(usage=spec.usage))


def _exactly(count: int) -> Param:
    return arg_count(_login_reject, at_least=count, at_most=count)


_NAMES = (words_from(1, "names"),)
_USER: tuple[Param, ...] = (word(1, "user"),)


def specs() -> list[CommandSpec]:
    return [
        CommandSpec("", "_commands", "list server commands", "_commands", handle_list_commands,
                    args=_NAMES, visible=False),
        CommandSpec("login", "_login", "login to server", "login userName password", handle_login,
                    args=(_exactly(3), word(1, "user"), word(2, "password")), visible=False),
        CommandSpec("login", "_cert_login", "login to server with SSL cert", "login userName", handle_cert_login,
                    args=(_exactly(2), *_USER), visible=False),
        CommandSpec("login", "_logout", "logout from server", "logout", handle_logout, visible=False),
        CommandSpec("sess", "_check_session", "check if session is active", "_check_session",
                    handle_check_session, visible=False),
        CommandSpec("sess", "list_sessions", "list user sessions", "list_sessions", handle_list_commands,
                    args=_NAMES, visible=False, enabled=False),
    ]  # fmt: skip
