"""Print the ``_commands`` table a real NVFlare 2.4-2.6 admin server sends, as JSON (one row a line).

Run with a Python that has ``nvflare==X --no-deps`` installed: it builds the server's command register the way
``nvflare/private/fed/server/admin.py`` does (builtin, login, session, cellnet, the server command modules) and
lists it the way ``BuiltInCmdModule.handle_list_commands`` does. Nothing is started.
"""

from __future__ import annotations

import json
import sys

from nvflare.fuel.f3.cellnet.net_manager import NetManager
from nvflare.fuel.hci.server.builtin import new_command_register_with_builtin_module
from nvflare.fuel.hci.server.login import LoginModule, SessionManager, SimpleAuthenticator
from nvflare.private.fed.server.server_cmd_modules import ServerCommandModules


def main() -> None:
    reg = new_command_register_with_builtin_module(app_ctx=None)
    sess_mgr = SessionManager()
    reg.register_module(LoginModule(SimpleAuthenticator({}), sess_mgr))
    reg.register_module(sess_mgr)
    reg.register_module(NetManager(None))
    for module in ServerCommandModules.cmd_modules:
        reg.register_module(module)
    rows = [["SCOPE", "COMMAND", "DESCRIPTION", "USAGE", "CONFIRM", "CLIENTCMD", "VISIBLE"]]
    for scope_name in sorted(reg.scopes):
        scope = reg.scopes[scope_name]
        for cmd_name in sorted(scope.entries):
            e = scope.entries[cmd_name]
            if not cmd_name.startswith("_"):
                rows.append([scope_name, cmd_name, e.desc, e.usage, e.confirm, e.client_cmd, str(e.visible)])
    sys.stdout.write("[" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in rows) + "]\n")


if __name__ == "__main__":
    main()
