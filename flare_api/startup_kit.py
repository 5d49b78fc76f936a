"""Read a provisioned FLARE admin startup kit: ``startup/fed_admin.json``, certificate paths, endpoint.

The checks and their order follow FLARE's ``Session`` constructor (reference 8.2), but every failure
is a :class:`~flare_api.errors.ConfigError` that names the file or key at fault.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from .errors import ConfigError

__all__ = ["StartupKit", "load_startup_kit"]

_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class StartupKit:
    """What a session needs from a kit. Cert paths are None for an insecure (POC) kit."""

    root: Path
    config_path: Path
    host: str
    port: int
    with_ssl: bool
    ca_cert: Optional[Path]
    client_cert: Optional[Path]
    client_key: Optional[Path]
    upload_dir: Path
    download_dir: Path
    config: dict[str, Any]

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"


def _substitute(value: Any, variables: dict[str, Any]) -> Any:
    """FLARE replaces ``{var}`` in string values with top-level primitive keys of the config."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: str(variables.get(m.group(1), m.group(0))), value)
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    return value


def parse_sp_end_point(sp_end_point: object, where: str) -> tuple[str, int]:
    """Split DummyOverseerAgent's ``host:fl_port:admin_port`` into ``(host, admin_port)``."""
    if not isinstance(sp_end_point, str):
        raise ConfigError(f"{where}: sp_end_point must be a string 'host:fl_port:admin_port', got {sp_end_point!r}")
    parts = sp_end_point.split(":")
    if len(parts) != 3 or not parts[0]:
        raise ConfigError(f"{where}: sp_end_point must look like 'host:fl_port:admin_port', got {sp_end_point!r}")
    try:
        port = int(parts[2])
    except ValueError:
        raise ConfigError(f"{where}: admin port in sp_end_point {sp_end_point!r} is not a number") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{where}: admin port {port} in sp_end_point is out of range")
    return parts[0], port


def _endpoint(admin: dict[str, Any], where: str) -> tuple[str, int]:
    agent = admin.get("overseer_agent")
    if not isinstance(agent, dict):
        raise ConfigError(f"{where}: admin.overseer_agent is missing; cannot find the server's address")
    args = agent.get("args")
    if not isinstance(args, dict) or "sp_end_point" not in args:
        path = agent.get("path", "?")
        raise ConfigError(
            f"{where}: overseer agent {path} has no args.sp_end_point; only DummyOverseerAgent kits are supported"
        )
    return parse_sp_end_point(args["sp_end_point"], where)


def _cert_path(admin: dict[str, Any], key: str, label: str, startup: Path, where: str) -> Path:
    name = admin.get(key)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"missing {label} file name field {key} in fed_admin configuration {where}")
    path = startup / name
    if not path.is_file():
        raise ConfigError(f"{Path(name).name} does not exist at {path}")
    return path


def load_startup_kit(location: Union[str, os.PathLike[str]], *, secure: bool = True) -> StartupKit:
    """Load and check the kit at ``location`` (the folder holding ``startup/`` and ``local/``)."""
    if not isinstance(location, (str, os.PathLike)):
        raise ConfigError(f"startup kit location must be a path, got {type(location).__name__}")
    root = Path(location)
    if not root.is_dir():
        raise ConfigError(f"startup kit does not exist at {root}")
    startup, local = root / "startup", root / "local"
    if not startup.is_dir():
        raise ConfigError(f"invalid workspace {root}: missing startup folder '{startup}' or not a valid dir")
    if not local.is_dir():
        raise ConfigError(f"invalid workspace {root}: missing site config folder '{local}' or not a valid dir")
    config_path = startup / "fed_admin.json"
    if not config_path.is_file():
        raise ConfigError(f"config_file_name {config_path} does not exist")
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {config_path}: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("admin"), dict):
        raise ConfigError(f"Client config error: '{config_path}' has no 'admin' section")
    variables = {k: v for k, v in raw.items() if isinstance(v, (str, int, float, bool))}
    config = _substitute(raw, variables)
    admin = config["admin"]
    where = str(config_path)
    with_ssl = bool(admin.get("with_ssl"))
    if secure and not with_ssl:
        raise ConfigError(f"{where} is an insecure (POC) kit: use new_insecure_session for it")
    ca = _cert_path(admin, "ca_cert", "CA Cert", startup, where) if secure else None
    cert = _cert_path(admin, "client_cert", "Client Cert", startup, where) if secure else None
    key = _cert_path(admin, "client_key", "Client Key", startup, where) if secure else None
    host, port = _endpoint(admin, where)
    upload = admin.get("upload_dir")
    download = admin.get("download_dir")
    if not isinstance(upload, str) or not isinstance(download, str):
        raise ConfigError(f"{where}: admin.upload_dir and admin.download_dir must be folder names")
    download_dir = root / download
    download_dir.mkdir(parents=True, exist_ok=True)
    return StartupKit(root, config_path, host, port, with_ssl, ca, cert, key, root / upload, download_dir, config)
