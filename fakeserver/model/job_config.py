"""A job's own config, read from its zip: each app's server and client config and the code it ships.

A real FLARE 2.3.12 server uses these (``num_rounds`` of ScatterAndGather, the persistor that writes the
model, every class it builds); the fake reads the same files so a run's length, ``show_stats``, its
results and whether its app loads follow the job (docs/guide.md, "The job's config").
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

SERVER_CONFIG = "config_fed_server.json"
CLIENT_CONFIG = "config_fed_client.json"
#: A config or custom module bigger than this is not parsed (bounded work for what a client sends).
MAX_CONFIG_BYTES = 1 << 20
#: Config sections whose list entries FLARE builds as components, and where the class config sits in an entry.
_SECTIONS: dict[str, dict[str, Optional[str]]] = {
    SERVER_CONFIG: {"components": None, "workflows": None},
    CLIENT_CONFIG: {"components": None, "executors": "executor"},
}
_FILTER_SECTIONS = ("task_data_filters", "task_result_filters")


@dataclass(frozen=True)
class ClassConfig:
    """One JSON element FLARE builds as a component, and its path as FLARE's ``JsonScanner`` names it."""

    json_path: str
    element: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.element.get("id", ""))

    @property
    def path(self) -> Optional[str]:
        value = self.element.get("path")
        return value if isinstance(value, str) else None

    @property
    def args(self) -> dict[str, Any]:
        args = self.element.get("args")
        return args if isinstance(args, dict) else {}


@dataclass(frozen=True)
class AppConfig:
    """One app folder of a job: its configs (None when the app has no such file) and its ``custom/`` modules."""

    name: str
    server: Optional[dict[str, Any]] = None
    client: Optional[dict[str, Any]] = None
    #: Module name (as imported with ``custom/`` on ``sys.path``) -> the zip entry of its source.
    custom_modules: dict[str, str] = field(default_factory=dict)

    def class_configs(self, config_file: str) -> Iterator[ClassConfig]:
        """The elements of ``config_file`` FLARE builds, in the order its ``JsonScanner`` reaches them."""
        data = self.server if config_file == SERVER_CONFIG else self.client
        sections = _SECTIONS[config_file]
        for key, value in (data or {}).items():
            if not isinstance(value, list):
                continue
            for number, entry in enumerate(value, 1):
                if not isinstance(entry, dict):
                    continue
                if key in sections:
                    inner = sections[key]
                    element = entry.get(inner) if inner else entry
                    if isinstance(element, dict):
                        yield ClassConfig(f"{key}.#{number}" + (f".{inner}" if inner else ""), element)
                elif key in _FILTER_SECTIONS:
                    filters = entry.get("filters")
                    for index, element in enumerate(filters if isinstance(filters, list) else [], 1):
                        if isinstance(element, dict):
                            yield ClassConfig(f"{key}.#{number}.filters.#{index}", element)

    def workflows(self) -> list[ClassConfig]:
        return [c for c in self.class_configs(SERVER_CONFIG) if c.json_path.startswith("workflows.")]

    def components(self) -> list[ClassConfig]:
        return [c for c in self.class_configs(SERVER_CONFIG) if c.json_path.startswith("components.")]


class JobConfig:
    """Every app of a job by folder name, read from the stored zip when asked (parsed configs are kept until
    :meth:`release`, so a finished or waiting job holds only the entry names, not parsed JSON)."""

    def __init__(self, entries: Optional[dict[str, dict[str, Any]]] = None, content: bytes = b"") -> None:
        #: app -> {"config_fed_server.json": entry, "config_fed_client.json": entry, "custom": {module: entry}}
        self._entries = entries or {}
        self.content = content
        self._parsed: dict[str, AppConfig] = {}

    def __repr__(self) -> str:
        return f"JobConfig(apps={sorted(self._entries)!r})"

    @property
    def app_names(self) -> list[str]:
        return list(self._entries)

    def app(self, name: str) -> Optional[AppConfig]:
        """The app's configs, parsed on first use (None if the job has no such app folder)."""
        if name not in self._entries:
            return None
        if name not in self._parsed:
            entry = self._entries[name]
            server, client = (self._read_json(entry.get(f)) for f in (SERVER_CONFIG, CLIENT_CONFIG))
            self._parsed[name] = AppConfig(name, server, client, dict(entry["custom"]))
        return self._parsed[name]

    def release(self) -> None:
        """Drop the parsed configs (they are read again if asked for)."""
        self._parsed.clear()

    def num_rounds(self, app: str) -> Optional[int]:
        """``num_rounds`` of the app's first server workflow that has one (ScatterAndGather's and others')."""
        config = self.app(app)
        for workflow in config.workflows() if config else ():
            value = workflow.args.get("num_rounds")
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                return value
        return None

    def persistor(self, app: str) -> Optional[ClassConfig]:
        """The component a workflow names as ``persistor_id`` (or the one with id ``persistor``)."""
        config = self.app(app)
        if config is None:
            return None
        wanted = {str(w.args["persistor_id"]) for w in config.workflows() if "persistor_id" in w.args} or {"persistor"}
        return next((c for c in config.components() if c.id in wanted), None)

    def custom_source(self, entry: str) -> Optional[bytes]:
        """The bytes of one custom module (None if it is too big to parse or cannot be read: then it is trusted)."""
        return self._read(entry)

    def _read(self, entry: Optional[str]) -> Optional[bytes]:
        if entry is None:
            return None
        try:
            with zipfile.ZipFile(io.BytesIO(self.content)) as archive:
                info = archive.getinfo(entry)
                return archive.read(info) if info.file_size <= MAX_CONFIG_BYTES else None
        except (KeyError, *_UNREADABLE):
            return None

    def _read_json(self, entry: Optional[str]) -> Optional[dict[str, Any]]:
        """A config file's object; None when the app has no such file, {} when it cannot be read or parsed."""
        if entry is None:
            return None
        data = self._read(entry)
        try:
            value = json.loads(data) if data is not None else {}
        except (ValueError, UnicodeDecodeError, RecursionError):
            return {}
        return value if isinstance(value, dict) else {}


#: What reading one entry of a stored zip may raise (a corrupt or unsupported entry reads as absent).
_UNREADABLE = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError)


def _custom_module(rest: list[str]) -> Optional[str]:
    """``custom/a/b.py`` -> ``a.b``; ``custom/a/__init__.py`` -> ``a``; None for what Python cannot import."""
    module = posixpath.splitext("/".join(rest))[0].replace("/", ".")
    if module.endswith(".__init__") or module == "__init__":
        module = module[: -len("__init__")].rstrip(".")
    return module if module and all(part.isidentifier() for part in module.split(".")) else None


def parse_job(content: bytes) -> JobConfig:
    """Where each app's configs and custom modules are in a stored job zip (``<job>/<app>/config/...``,
    ``<job>/<app>/custom/*.py``); nothing is parsed yet."""
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
            entry = found.setdefault(app, {"custom": {}})
            if kind == "config" and rest in ([SERVER_CONFIG], [CLIENT_CONFIG]):
                entry[rest[0]] = info.filename
            elif kind == "custom" and rest[-1].endswith(".py"):
                module = _custom_module(rest)
                if module is not None:
                    entry["custom"][module] = info.filename
    return JobConfig(found, content)
