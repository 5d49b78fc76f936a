"""The POC (insecure) admin startup kit: plain TCP, ``_login admin admin``, no certificates."""

from __future__ import annotations

import json
from pathlib import Path

DUMMY_OVERSEER_AGENT = "nvflare.ha.dummy_overseer_agent.DummyOverseerAgent"


def poc_admin_config(host: str, admin_port: int, fl_port: int = 8002) -> dict:
    """``fed_admin.json`` as FLARE 2.3's POC admin kit has it, pointing at ``host:admin_port``."""
    return {
        "format_version": 2,
        "admin": {
            "with_file_transfer": True,
            "upload_dir": "transfer",
            "download_dir": "transfer",
            "cred_type": "password",
            "prompt": "> ",
            "overseer_agent": {
                "path": DUMMY_OVERSEER_AGENT,
                "args": {"sp_end_point": f"{host}:{fl_port}:{admin_port}", "heartbeat_interval": 6},
            },
        },
    }


def write_poc_admin_kit(kit: Path, host: str, admin_port: int) -> Path:
    """Write (or rewrite) a POC admin kit at ``kit``: ``startup/fed_admin.json``, ``local/``, ``transfer/``."""
    kit = Path(kit)
    for sub in ("startup", "local", "transfer"):
        (kit / sub).mkdir(parents=True, exist_ok=True)
    config = poc_admin_config(host, admin_port)
    (kit / "startup" / "fed_admin.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return kit
