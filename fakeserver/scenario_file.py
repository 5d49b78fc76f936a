"""The ``serve --scenario FILE`` format: a federation scripted without code, in YAML, TOML or JSON.

A file is parsed by its suffix, validated against the shipped JSON Schema (``scenario.schema.json``),
then turned into the project, job scripts, faults and clock the server is built with. Every problem is a
:class:`ScenarioError` whose one-line message names the file, the path inside it and what is wrong.
"""

from __future__ import annotations

import datetime
import json
import sys
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Optional, TextIO

from .model.job_script import JobScript, Phase, parse_outcome
from .model.project import DEFAULT_ADMINS, DEFAULT_SITES, AdminUser, Project, ProvisionError, Site, validate_project
from .model.resources import GPUResources, ListResources, SiteResources

SCHEMA_NAME = "scenario.schema.json"
_SUFFIXES = {".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".json": "JSON"}


class ScenarioError(ValueError):
    """A scenario file cannot be used; str() is one line: ``FILE: PATH: problem``."""


@dataclass(frozen=True)
class FaultSpec:
    """A fault armed when the server starts (see ``FakeFlareServer.inject_fault``)."""

    kind: str
    command: Optional[str] = None
    times: int = 1
    seconds: float = 0.0


@dataclass(frozen=True)
class ClockSpec:
    """``real`` (wall time) or ``virtual`` from ``start``, advanced by stdin commands or automatically."""

    mode: str = "real"
    start: Optional[float] = None
    advance: str = "manual"
    #: Virtual seconds per wall second when ``advance`` is ``auto``.
    speed: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """Everything a scenario file sets up."""

    project: Project
    default_script: Optional[JobScript] = None
    scripts: dict[str, JobScript] = field(default_factory=dict)
    faults: tuple[FaultSpec, ...] = ()
    clock: ClockSpec = ClockSpec()


def schema() -> dict[str, Any]:
    """The JSON Schema every scenario file is checked against (shipped in the package)."""
    text = resources.files("fakeserver").joinpath(SCHEMA_NAME).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _location(path: Any) -> str:
    """A JSON-pointer-like path as ``project.sites[0].resources`` ("(top level)" for the root)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _parse(path: Path, kind: str, text: str) -> Any:
    try:
        if kind == "YAML":
            import yaml

            return yaml.safe_load(text)
        if kind == "TOML":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover - Python 3.10
                import tomli as tomllib
            return tomllib.loads(text)
        return json.loads(text)
    except ImportError as exc:
        raise ScenarioError(f"{path}: reading {kind} needs the 'scenario' extra ({exc.name} is missing)") from None
    except Exception as exc:  # each parser has its own error class; all become one line naming the file
        detail = " ".join(str(exc).split())
        raise ScenarioError(f"{path}: not valid {kind}: {detail}") from None


def _validate(path: Path, data: Any) -> None:
    try:
        import jsonschema
    except ImportError:
        raise ScenarioError(f"{path}: checking a scenario needs the 'scenario' extra (jsonschema)") from None
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        if error.validator == "oneOf" and error.context:
            error = jsonschema.exceptions.best_match(error.context)
        raise ScenarioError(f"{path}: {_location(error.absolute_path)}: {error.message}")


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and convert a scenario file; raises :class:`ScenarioError`."""
    path = Path(path)
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ScenarioError(f"{path}: unknown file type {path.suffix!r}; use .yaml, .yml, .toml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    data = _parse(path, kind, text)
    if data is None:
        data = {}
    _validate(path, data)
    return _build(path, data)


def _resources(value: dict[str, Any]) -> SiteResources:
    if "gpu" in value:
        gpu = value["gpu"]
        return GPUResources(gpu["num_of_gpus"], gpu.get("mem_per_gpu_in_GiB", 0))
    return ListResources({name: tuple(units) for name, units in value["list"].items()})


def _phase(value: Any) -> Phase:
    if value == "never":
        return Phase.never()
    if isinstance(value, dict):
        return Phase.after_polls(value["polls"])
    return Phase.after(float(value))


def _script(path: Path, where: str, value: dict[str, Any]) -> JobScript:
    options: dict[str, Any] = {k: v for k, v in value.items() if k not in ("queued", "deploying", "running")}
    for name in ("queued", "deploying", "running"):
        if name in value:
            options[name] = _phase(value[name])
    if "outcome" in options:
        options["outcome"] = parse_outcome(options["outcome"])
    try:
        return JobScript(**options)
    except ValueError as exc:
        raise ScenarioError(f"{path}: {where}: {exc}") from None


def _project(path: Path, value: dict[str, Any]) -> Project:
    sites = tuple(
        Site(s["name"], s["org"], _resources(s["resources"]) if "resources" in s else None)
        for s in value.get("sites", [])
    )
    admins = tuple(AdminUser(u["name"], u["org"], u["role"]) for u in value.get("users", []))
    options: dict[str, Any] = {k: value[k] for k in ("name", "server_name", "server_org") if k in value}
    project = Project(sites=sites or DEFAULT_SITES, admins=admins or DEFAULT_ADMINS, **options)
    try:
        validate_project(project)
    except ProvisionError as exc:
        raise ScenarioError(f"{path}: project: {exc}") from None
    return project


def _start_time(path: Path, text: str) -> float:
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{path}: clock.start: {text!r} is not an ISO 8601 date-time") from None
    if when.tzinfo is None:
        raise ScenarioError(f"{path}: clock.start: {text!r} needs a time zone (e.g. 'Z')")
    return when.timestamp()


def _build(path: Path, data: dict[str, Any]) -> Scenario:
    jobs = data.get("jobs", {})
    default = _script(path, "jobs.default", jobs["default"]) if "default" in jobs else None
    scripts = {name: _script(path, f"jobs.by_name.{name}", v) for name, v in jobs.get("by_name", {}).items()}
    faults = tuple(
        FaultSpec(f["kind"], f.get("command"), f.get("times", 1), f.get("seconds", 0.0)) for f in data.get("faults", [])
    )
    for index, fault in enumerate(faults):
        if fault.times == 0:
            raise ScenarioError(
                f"{path}: faults[{index}].times: must not be 0 (a count, or negative for every request)"
            )
        if fault.kind in ("delay", "no_end") and fault.seconds <= 0:
            raise ScenarioError(f"{path}: faults[{index}].seconds: a {fault.kind} fault needs seconds > 0")
        if fault.kind == "tls_abort" and fault.command is not None:
            raise ScenarioError(f"{path}: faults[{index}].command: a tls_abort fault fires before any command")
    clock = data.get("clock", {})
    mode = clock.get("mode", "virtual" if {"start", "advance", "speed"} & set(clock) else "real")
    if mode == "real" and {"start", "advance", "speed"} & set(clock):
        raise ScenarioError(f"{path}: clock: start, advance and speed need mode 'virtual'")
    start = _start_time(path, clock["start"]) if "start" in clock else None
    spec = ClockSpec(mode, start, clock.get("advance", "manual"), float(clock.get("speed", 1.0)))
    project = _project(path, data.get("project", {}))
    return Scenario(project, default, scripts, faults, spec)


def server_options(scenario: Scenario) -> dict[str, Any]:
    """Keyword arguments of ``FakeFlareServer`` for the scenario: project, clock and default script."""
    from flare_api.clock import DEFAULT_VIRTUAL_START, VirtualClock

    options: dict[str, Any] = {"project": scenario.project}
    if scenario.clock.mode == "virtual":
        start = scenario.clock.start if scenario.clock.start is not None else DEFAULT_VIRTUAL_START
        options["clock"] = VirtualClock(start)
    if scenario.default_script is not None:
        options["default_script"] = scenario.default_script
    return options


def apply_scenario(server: Any, scenario: Scenario) -> None:
    """Script jobs by name and arm the faults on a started server."""
    for name, script in scenario.scripts.items():
        server.jobs.script(script, name=name)
    for fault in scenario.faults:
        server.inject_fault(fault.kind, command=fault.command, times=fault.times, seconds=fault.seconds)


def drive_clock(
    clock: Any, spec: ClockSpec, stop: threading.Event, stdin: TextIO, out: TextIO
) -> Optional[threading.Thread]:
    """Move a virtual clock: ``auto`` at ``speed`` virtual seconds per wall second, or ``manual`` by stdin
    lines ``advance SECONDS`` (each answered with a JSON ``clock`` line on ``out``). None for a real clock."""
    if spec.mode != "virtual":
        return None
    if spec.advance == "auto":
        thread = threading.Thread(target=_auto_advance, args=(clock, spec.speed, stop), daemon=True)
    else:
        thread = threading.Thread(target=_stdin_advance, args=(clock, stop, stdin, out), daemon=True)
    thread.name = "scenario-clock"
    thread.start()
    return thread


_AUTO_STEP = 0.1


def _auto_advance(clock: Any, speed: float, stop: threading.Event) -> None:
    while not stop.wait(_AUTO_STEP):
        clock.advance(_AUTO_STEP * speed)


def _stdin_advance(clock: Any, stop: threading.Event, stdin: TextIO, out: TextIO) -> None:
    for line in stdin:
        if stop.is_set():
            return
        words = line.split()
        if not words:
            continue
        reply: dict[str, Any]
        try:
            if words[0] != "advance" or len(words) != 2:
                raise ValueError("expected 'advance SECONDS'")
            seconds = float(words[1])
            reply = {"event": "clock", "time": clock.advance(seconds)}
        except ValueError as exc:
            reply = {"event": "clock_error", "line": line.strip()[:200], "error": str(exc)}
        print(json.dumps(reply), file=out, flush=True)
