"""What the fake treats as loadable in a job's config, and the error FLARE 2.3.12 reports for what is not.

A real server or site imports each class its app's config names (``get_class``: ``import_module`` then
``getattr``). The fake cannot import, so it resolves names against FLARE 2.3.12's own modules and classes
(``flare_classes.txt``, from ``scripts/flare_classes.py``), the modules the app ships in ``custom/`` (parsed,
not run) and what the job's script declares installed (``JobScript.loadable``). The rule:
docs/guide.md, "The job's config".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Optional

from .job_config import CLIENT_CONFIG, SERVER_CONFIG, AppConfig, JobConfig

SERVER_SITE = "server"
#: Packages FLARE's ``ModuleScanner`` searches for a component given by ``name`` (``fl_conf.FL_MODULES``).
_SCANNED = tuple(f"nvflare.{name}." for name in ("server", "client", "app_common", "private", "app_opt"))
#: How deep ``args`` may nest component configs before the fake stops looking (FLARE recurses without limit).
_MAX_NESTING = 32


@dataclass(frozen=True)
class FlareCatalog:
    """FLARE 2.3.12's modules, the classes they define, and the names they import (also found by ``getattr``)."""

    modules: frozenset[str]
    packages: frozenset[str]
    attributes: frozenset[str]
    #: Bare class name -> module, for names defined exactly once in the scanned packages.
    by_name: dict[str, str]


@lru_cache(maxsize=1)
def flare_catalog() -> FlareCatalog:
    text = resources.files(__package__).joinpath("flare_classes.txt").read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif line and not line.startswith("#"):
            current.append(line)
    modules = frozenset(sections.get("modules", ()))
    packages = frozenset(m.rsplit(".", 1)[0] for m in modules if "." in m)
    classes = sections.get("classes", [])
    counts: dict[str, list[str]] = {}
    for path in classes:
        module, _, name = path.rpartition(".")
        if module.startswith(_SCANNED) and not name.startswith("_"):
            counts.setdefault(name, []).append(module)
    by_name = {name: found[0] for name, found in counts.items() if len(found) == 1}
    return FlareCatalog(modules, packages, frozenset(classes) | frozenset(sections.get("aliases", ())), by_name)


@dataclass(frozen=True)
class LoadFailure:
    """The first element of an app's config that would not load on ``target``, and why."""

    target: str
    app: str
    config_file: str
    json_path: str
    element: dict[str, Any]
    #: ``secure_format_exception`` of the error: ``ModuleNotFoundError: No module named 'x'``.
    exception: str

    def config_error(self, location: str) -> str:
        """FLARE's ``ConfigError`` text; ``location`` is the config file's path as the participant opened it."""
        return (
            f"Error processing ['{location}'] in JSON element {self.element!r}: "
            f"path: {self.json_path}, exception: {self.exception}"
        )

    @property
    def on_server(self) -> bool:
        return self.target == SERVER_SITE


class _Resolver:
    """Resolves class paths for one app as Python would import them on a FLARE 2.3.12 participant."""

    def __init__(self, config: JobConfig, app: AppConfig, installed: tuple[str, ...]) -> None:
        self.catalog = flare_catalog()
        self.config = config
        self.app = app
        self.installed = installed
        custom = set(app.custom_modules)
        self.custom_packages = {m.rsplit(".", i)[0] for m in custom for i in range(1, m.count(".") + 1)}
        self.custom_packages.update(m for m, entry in app.custom_modules.items() if entry.endswith("/__init__.py"))
        self._parsed: dict[str, Optional[frozenset[str]]] = {}

    def _is_installed(self, path: str) -> bool:
        return any(path == item or (item.endswith(".") and path.startswith(item)) for item in self.installed)

    def _custom_names(self, module: str) -> Optional[frozenset[str]]:
        """Top-level names a custom module binds; None when it is not parsed (too big or too deep: trusted).

        Raises SyntaxError as importing it would.
        """
        if module not in self._parsed:
            source = self.config.custom_source(self.app.custom_modules[module])
            try:
                self._parsed[module] = None if source is None else _top_level_names(ast.parse(source).body)
            except ValueError as exc:  # null bytes: compile() raises SyntaxError (3.12+) or ValueError
                raise SyntaxError(str(exc)) from None
            except (RecursionError, MemoryError):
                self._parsed[module] = None
        return self._parsed[module]

    def _missing_module(self, module: str) -> str:
        """``import_module``'s error for a module neither FLARE nor the app has."""
        parts = module.split(".")
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if self._module_exists(prefix):
                continue
            parent = ".".join(parts[: end - 1])
            if parent and not self._is_package(parent):
                return f"ModuleNotFoundError: No module named '{prefix}'; '{parent}' is not a package"
            return f"ModuleNotFoundError: No module named '{prefix}'"
        return f"ModuleNotFoundError: No module named '{module}'"

    def _module_exists(self, name: str) -> bool:
        catalog = self.catalog
        return name in catalog.modules or name in self.app.custom_modules or name in self.custom_packages

    def _is_package(self, name: str) -> bool:
        return name in self.catalog.packages or name in self.custom_packages

    def get_class(self, path: str) -> Optional[str]:
        """None if ``get_class(path)`` succeeds, else the error it raises (as FLARE formats it)."""
        if self._is_installed(path):
            return None
        module, _, name = path.rpartition(".")
        if module in self.catalog.modules:
            return None if path in self.catalog.attributes else f"ValueError: Class {path} does not exist"
        if module in self.app.custom_modules:
            try:
                names = self._custom_names(module)
            except SyntaxError as exc:
                return f"SyntaxError: {exc.msg} ({module.rsplit('.', 1)[-1]}.py, line {exc.lineno})"
            return None if names is None or name in names else f"ValueError: Class {path} does not exist"
        if module in self.custom_packages:
            return f"ValueError: Class {path} does not exist"
        return self._missing_module(module)

    def class_path(self, element: dict[str, Any]) -> tuple[Optional[str], Optional[str]]:
        """FLARE's ``get_class_path``: (class path, None) or (None, the ConfigError text)."""
        if "path" in element:
            spec = element["path"]
            if not isinstance(spec, str):
                return None, f"ConfigError: path spec must be str but got {_type_name(spec)}."
            if not spec:
                return None, "ConfigError: path spec must not be empty"
            if "." not in spec:
                return None, f"ConfigError: invalid class path '{spec}': missing module name"
            return spec, None
        if "name" not in element:
            return None, "ConfigError: class name or path must be specified"
        name = element["name"]
        if not isinstance(name, str):
            return None, f"ConfigError: class name must be str but got {_type_name(name)}."
        if not name:
            return None, "ConfigError: class name must not be empty"
        module = self.catalog.by_name.get(name)
        if module is None:
            return None, f'ConfigError: Cannot find component class "{name}"'
        return f"{module}.{name}", None

    def build(self, element: dict[str, Any], depth: int = 0) -> Optional[str]:
        """FLARE's ``build_component``: None if the element (and the components in its args) would load."""
        if element.get("disabled") is True or depth > _MAX_NESTING:
            return None
        args = element.get("args")
        for value in args.values() if isinstance(args, dict) else ():
            if isinstance(value, dict) and self._is_class_config(value):
                error = self.build(value, depth + 1)
                if error is not None:
                    return f"ValueError: failed to instantiate class: {error} "
        path, error = self.class_path(element)
        if path is None:
            return error
        return self.get_class(path)

    def _is_class_config(self, value: dict[str, Any]) -> bool:
        if value.get("config_type", "component") != "component":
            return False
        return ("path" in value or "name" in value) and self.class_path(value)[0] is not None


def _top_level_names(body: list[ast.stmt]) -> frozenset[str]:
    """Names a module's top level binds (classes, functions, imports, assignments), also inside if/try/with."""
    names: set[str] = set()
    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for part in ("body", "orelse", "finalbody"):
                pending.extend(getattr(node, part, []))
            pending.extend(stmt for handler in getattr(node, "handlers", []) for stmt in handler.body)
    return frozenset(names)


def _type_name(value: object) -> str:
    return f"<class '{type(value).__name__}'>"


def app_failure(
    config: JobConfig, app_name: str, target: str, installed: tuple[str, ...] = ()
) -> Optional[LoadFailure]:
    """The first element of ``app_name``'s config for ``target`` (server or a site) that would not load."""
    app = config.app(app_name)
    if app is None:
        return None
    config_file = SERVER_CONFIG if target == SERVER_SITE else CLIENT_CONFIG
    resolver = _Resolver(config, app, installed)
    for item in app.class_configs(config_file):
        error = resolver.build(item.element)
        if error is not None:
            return LoadFailure(target, app_name, config_file, item.json_path, item.element, error)
    return None


def job_load_failures(
    config: JobConfig, site_apps: dict[str, str], installed: tuple[str, ...] = ()
) -> list[LoadFailure]:
    """Every participant of a run (``site_apps``: participant -> app) whose app would not load; server first."""
    order = sorted(site_apps, key=lambda target: target != SERVER_SITE)
    found = (app_failure(config, site_apps[target], target, installed) for target in order)
    return [failure for failure in found if failure is not None]
