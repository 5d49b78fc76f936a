"""Build job folders on disk for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

_SERVER_CONFIG = {"format_version": 2, "workflows": [], "components": []}
_CLIENT_CONFIG = {"format_version": 2, "executors": [], "components": []}


def write_job(
    parent: Path,
    name: str,
    *,
    deploy_map: Optional[dict[str, list[str]]] = None,
    meta: Optional[dict[str, Any]] = None,
    **extra: Any,
) -> Path:
    """A valid job folder ``parent/name``: one app per deploy_map entry with server and client configs."""
    folder = parent / name
    deploy_map = deploy_map if deploy_map is not None else {"app": ["@ALL"]}
    body: dict[str, Any] = {"name": name, "resource_spec": {}, "deploy_map": deploy_map}
    body.update(extra)
    if meta is not None:
        body = meta
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps(body, indent=2))
    for app in deploy_map:
        config = folder / app / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "config_fed_server.json").write_text(json.dumps(_SERVER_CONFIG))
        (config / "config_fed_client.json").write_text(json.dumps(_CLIENT_CONFIG))
    return folder
