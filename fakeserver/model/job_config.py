"""A job's own config, read from its zip: the apps' workflows, components and executors.

A real FLARE 2.3.12 server uses these (``num_rounds`` of ScatterAndGather, the persistor that writes the
model); the fake reads the same files so ``show_stats``, a run's length and its results follow the job.
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any, Optional

SERVER_CONFIG = "config_fed_server.json"
CLIENT_CONFIG = "config_fed_client.json"
#: A config bigger than this is not parsed (bounded work for what a client sends).
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Component:
    """One ``{"id", "path", "args"}`` entry of a config (a workflow, component or executor)."""

    id: str
    path: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AppConfig:
    """One app folder of a job: its server side (if any) and client side (if any)."""

    name: str
    workflows: tuple[Component, ...] = ()
    components: tuple[Component, ...] = ()
    executors: tuple[Component, ...] = ()
    client_components: tuple[Component, ...] = ()
    #: Dotted class names the app ships in ``custom/`` (``custom/a/b.py`` → ``a.b.<Class>`` prefix ``a.b``).
    custom_modules: frozenset[str] = frozenset()


@dataclass(frozen=True)
class JobConfig:
    """Every app of a job by folder name."""

    apps: dict[str, AppConfig] = field(default_factory=dict)

    def app(self, name: str) -> Optional[AppConfig]:
        return self.apps.get(name)

    def num_rounds(self, app: str) -> Optional[int]:
        """``num_rounds`` of the app's first workflow that has one (ScatterAndGather's and others')."""
        config = self.apps.get(app)
        for workflow in config.workflows if config else ():
            value = workflow.args.get("num_rounds")
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                return value
        return None

    def persistor(self, app: str) -> Optional[Component]:
        """The component a workflow names as ``persistor_id`` (or the one with id ``persistor``)."""
        config = self.apps.get(app)
        if config is None:
            return None
        wanted = {str(w.args["persistor_id"]) for w in config.workflows if "persistor_id" in w.args} or {"persistor"}
        return next((c for c in config.components if c.id in wanted), None)


def _entries(value: object, key: str = "path") -> tuple[Component, ...]:
    out = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        path = item.get(key) or item.get("name")
        if not isinstance(path, str):
            continue
        args = item.get("args")
        out.append(Component(str(item.get("id", "")), path, dict(args) if isinstance(args, dict) else {}))
    return tuple(out)


def _executors(value: object) -> tuple[Component, ...]:
    out = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            out.extend(_entries([item.get("executor")]))
    return tuple(out)


def _load_json(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    if info.file_size > MAX_CONFIG_BYTES:
        return {}
    try:
        data = json.loads(archive.read(info))
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def parse_job(content: bytes) -> JobConfig:
    """The configs of every app in a stored job zip (``<job>/<app>/config/...``, ``custom/*.py``)."""
    found: dict[str, dict[str, Any]] = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return JobConfig()
    with archive:
        for info in archive.infolist():
            parts = info.filename.split("/")
            if info.is_dir() or len(parts) < 4:
                continue
            app, kind, rest = parts[1], parts[2], parts[3:]
            entry = found.setdefault(app, {"custom": set()})
            if kind == "config" and rest == [SERVER_CONFIG]:
                entry["server"] = _load_json(archive, info)
            elif kind == "config" and rest == [CLIENT_CONFIG]:
                entry["client"] = _load_json(archive, info)
            elif kind == "custom" and rest[-1].endswith(".py"):
                module = posixpath.splitext("/".join(rest))[0].replace("/", ".")
                entry["custom"].add(module[: -len(".__init__")] if module.endswith(".__init__") else module)
    apps = {}
    for name, entry in found.items():
        server, client = entry.get("server", {}), entry.get("client", {})
        apps[name] = AppConfig(
            name=name,
            workflows=_entries(server.get("workflows")),
            components=_entries(server.get("components")),
            executors=_executors(client.get("executors")),
            client_components=_entries(client.get("components")),
            custom_modules=frozenset(entry["custom"]),
        )
    return JobConfig(apps)
