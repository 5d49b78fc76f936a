"""Server command modules, one per command family; ``build_registry`` collects them all."""

from __future__ import annotations

from ..pipeline.dispatch import CommandRegistry
from . import cellnet, info, shell_cmds, sysinfo, system, training
from . import job_mgmt as jobs
from . import sess as session


def build_registry() -> CommandRegistry:
    """A registry holding every command the fake server implements."""
    registry = CommandRegistry()
    for module in (session, training, system, jobs, info, sysinfo, shell_cmds, cellnet):
        registry.register_all(module.specs())
    return registry
