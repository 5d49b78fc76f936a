"""fakeserver: an in-process fake NVIDIA FLARE 2.3 admin server for fast, offline, deterministic tests.

from . import FakeFlareServer
with FakeFlareServer() as server:
    kit = server.startup_kit("admin@nvidia.com")
"""

from __future__ import annotations

from .model.job_script import JobScript, Phase, RunStatus
from .model.resources import GPUResources, ListResources
from .protocol.versions import FlareVersion
from .provision import DEFAULT_PROJECT, AdminUser, Project, ProvisionedProject, Site, provision
from .server import FakeFlareServer, FakeServerError, ServerNotRunning
from .serving.faults import FaultKind

__all__ = [
    "DEFAULT_PROJECT",
    "AdminUser",
    "FakeFlareServer",
    "FakeServerError",
    "FaultKind",
    "FlareVersion",
    "GPUResources",
    "JobScript",
    "ListResources",
    "Phase",
    "Project",
    "ProvisionedProject",
    "RunStatus",
    "ServerNotRunning",
    "Site",
    "provision",
]
