"""Server command modules, one per FLARE scope and named as FLARE names it; ``build_registry`` collects them."""

from __future__ import annotations

from ..pipeline.registry import CommandRegistry
from ..protocol.versions import DEFAULT_VERSION, FlareVersion
from . import cellnet, info, job_mgmt, job_mgmt_24, job_transfer, sess, sys_24, training
from . import sys as sys_scope


def build_registry(version: FlareVersion = DEFAULT_VERSION) -> CommandRegistry:
    """A registry holding every command the fake server implements, as FLARE ``version`` has it."""
    registry = CommandRegistry(version)
    for module in (sess, training, job_mgmt, job_mgmt_24, job_transfer, info, sys_scope, sys_24, cellnet):
        registry.register_all(module.specs())
    return registry
