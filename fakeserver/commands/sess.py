"""Login, logout, the session check and the command list (reference sections 5.1–5.5)."""

from __future__ import annotations

import hmac

from ..pipeline.dispatch import CommandSpec, Request, format_seconds
from ..pipeline.reply import Reply
from ..protocol import messages as msg

#: The POC server's only account (FLARE stores a pbkdf2 hash of the same password).
POC_USERS = {"admin": "admin"}


def handle_login(request: Request, reply: Reply) -> None:
    """``_login <user> <password>``: POC mode only; the session gets org ``global`` and role ``super``."""
    args = request.args
    users = {} if request.state.config.secure else POC_USERS
    if len(args) != 3:
        reply.string(msg.LOGIN_REJECT)
        return
    expected = users.get(args[1])
    if expected is None or not hmac.compare_digest(expected.encode(), args[2].encode()):
        reply.string(msg.LOGIN_REJECT)
        return
    session = request.state.sessions.create(args[1], "global", "super")
    reply.string(msg.LOGIN_OK)
    reply.token(session.token)


def handle_cert_login(request: Request, reply: Reply) -> None:
    """``_cert_login <user>``: accepted only when the certificate's CN equals ``<user>`` exactly."""
    args = request.args
    peer = request.peer
    if len(args) != 2 or peer is None or peer.name is None or peer.name != args[1]:
        reply.string(msg.LOGIN_REJECT)
        return
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
    if request.state.sessions.active(token, touch=False) is not None:
        reply.string(msg.CHECK_SESSION_OK)
        return
    reply.error(msg.SESSION_INACTIVE)
    reply.string(msg.SESSION_TIMED_OUT_CHECK.format(timeout=format_seconds(request.state.sessions.idle_timeout)))


def handle_list_commands(request: Request, reply: Reply) -> None:
    """``_commands``: the whole table, or details of the named commands."""
    if len(request.args) <= 1:
        rows = request.registry.commands_table()
        table = reply.table([str(cell) for cell in rows[0]])
        for row in rows[1:]:
            table.add_row(row)
        return
    for name in request.args[1:]:
        specs = request.registry.lookup(name)
        if not specs:
            reply.error(msg.UNDEFINED_COMMAND.format(name=name))
            return
        for spec in specs:
            if not spec.visible:
                continue
            reply.string(msg.COMMAND_DETAIL.format(scope=spec.scope, name=name))
            reply.string(msg.COMMAND_DESCRIPTION.format(description=spec.description))
            reply.string(msg.COMMAND_USAGE.format(usage=spec.usage))


def specs() -> list[CommandSpec]:
    return [
        CommandSpec("", "_commands", "list server commands", "_commands", handle_list_commands, visible=False),
        CommandSpec("login", "_login", "login to server", "login userName password", handle_login, visible=False),
        CommandSpec(
            "login",
            "_cert_login",
            "login to server with SSL cert",
            "login userName",
            handle_cert_login,
            visible=False,
        ),
        CommandSpec("login", "_logout", "logout from server", "logout", handle_logout, visible=False),
        CommandSpec(
            "sess",
            "_check_session",
            "check if session is active",
            "_check_session",
            handle_check_session,
            visible=False,
        ),
        CommandSpec(
            "sess",
            "list_sessions",
            "list user sessions",
            "list_sessions",
            handle_list_commands,
            visible=False,
            enabled=False,
        ),
    ]
