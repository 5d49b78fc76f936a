"""The command registry, the single source of truth: lookups, the ``_commands`` table and ``docs/commands.md``.

A :class:`CommandSpec` declares everything about one command in one place: how ``_commands`` lists it,
the arguments its handler receives (typed, validated, in FLARE's order) and who may run it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from ..protocol import messages as msg
from ..protocol.versions import DEFAULT_VERSION, FlareVersion
from .arguments import Param, Parsed
from .authorization import Authorization

#: ``handler(request, reply, **arguments)``: appends to the reply or raises a ``Refusal``.
Handler = Callable[..., None]


@dataclass(frozen=True)
class CommandSpec:
    """One server command.

    ``checks`` parse before authorization (FLARE's ``authorize_*`` pre-authorization functions),
    ``authorization`` is then checked, and ``args`` parse after the audit (FLARE's handler's own
    checks). The named values of both reach ``handler`` as keyword arguments.
    """

    scope: str
    name: str
    description: str
    usage: str
    handler: Handler
    checks: Sequence[Param] = ()
    authorization: Optional[Authorization] = None
    args: Sequence[Param] = ()
    confirm: str = "none"
    client_cmd: Optional[str] = None
    visible: bool = True
    enabled: bool = True
    #: The first FLARE version that has the command, and the first that no longer has it.
    since: FlareVersion = FlareVersion.V2_3
    until: Optional[FlareVersion] = None
    #: Field overrides from a version on (e.g. ``{FlareVersion.V2_4: {"usage": ...}}``), applied in order.
    changes: Mapping[FlareVersion, Mapping[str, Any]] = field(default_factory=dict, hash=False, compare=False)

    def at(self, version: FlareVersion) -> Optional[CommandSpec]:
        """This command as ``version`` has it (its changes up to there applied), or None if it lacks it."""
        if version < self.since or (self.until is not None and version >= self.until):
            return None
        overrides: dict[str, Any] = {}
        for changed_in in sorted(self.changes, key=lambda v: v.key):
            if changed_in <= version:
                overrides.update(self.changes[changed_in])
        if not overrides:
            return self
        unknown = set(overrides) - set(self.__dataclass_fields__) | ({"since", "until", "changes"} & set(overrides))
        if unknown:
            raise ValueError(f"command {self.full_name}: cannot change {sorted(unknown)} per version")
        return replace(self, **overrides)

    @property
    def full_name(self) -> str:
        return f"{self.scope}.{self.name}"

    @property
    def parameter_names(self) -> list[str]:
        """The keyword arguments the handler receives, in declaration order."""
        return [p.name for p in (*self.checks, *self.args) if p.name is not None and p.passed]

    def handler_arguments(self, parsed: Parsed) -> Parsed:
        """The parsed values the handler receives (not those of check-only params)."""
        return {name: parsed[name] for name in self.parameter_names}

    def table_row(self) -> list[Optional[str]]:
        """The row ``_commands`` sends: seven cells, visibility as the string ``"True"``/``"False"``."""
        return [
            self.scope,
            self.name,
            self.description,
            self.usage,
            self.confirm,
            self.client_cmd,
            str(self.visible),
        ]


def _check_handler(spec: CommandSpec) -> None:
    """The handler's parameters after ``(request, reply)`` must be exactly the declared argument names."""
    try:
        params = list(inspect.signature(spec.handler).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable: nothing to compare
        return
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    names = [p.name for p in params[2:]]
    if sorted(names) != sorted(spec.parameter_names):
        raise ValueError(f"command {spec.full_name}: handler takes {names}, spec declares {spec.parameter_names}")


class CommandRegistry:
    """Commands by bare and by scoped name, as one FLARE version has them. Disabled commands are kept for
    docs but never dispatched; commands the version lacks are not registered at all."""

    def __init__(self, version: FlareVersion = DEFAULT_VERSION) -> None:
        self.version = version
        self._specs: dict[str, CommandSpec] = {}

    def register(self, spec: CommandSpec) -> None:
        versioned = spec.at(self.version)
        if versioned is None:
            return
        spec = versioned
        if spec.confirm not in ("none", "yesno", "auth"):
            raise ValueError(f"command {spec.full_name}: confirm must be none, yesno or auth, got {spec.confirm!r}")
        if spec.full_name in self._specs:
            raise ValueError(f"command {spec.full_name} is registered twice")
        _check_handler(spec)
        self._specs[spec.full_name] = spec

    def register_all(self, specs: Sequence[CommandSpec]) -> None:
        for spec in specs:
            self.register(spec)

    def lookup(self, name: str) -> list[CommandSpec]:
        """Enabled commands answering to ``name`` (bare: any scope; ``scope.name``: that one)."""
        scoped = self._specs.get(name)
        matches = [scoped] if scoped is not None else [s for s in self._specs.values() if s.name == name]
        return [spec for spec in matches if spec.enabled]

    def specs(self, *, include_disabled: bool = False) -> list[CommandSpec]:
        """All commands sorted by scope then name, as ``_commands`` orders them."""
        return sorted(
            (s for s in self._specs.values() if include_disabled or s.enabled),
            key=lambda s: (s.scope, s.name),
        )

    def commands_table(self) -> list[list[Optional[str]]]:
        """The ``_commands`` table: header plus every enabled command whose name does not start with ``_``."""
        rows: list[list[Optional[str]]] = [list(msg.COMMANDS_HEADER)]
        rows.extend(spec.table_row() for spec in self.specs() if not spec.name.startswith("_"))
        return rows
