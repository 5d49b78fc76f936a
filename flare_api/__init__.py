"""flare_api: a typed client for NVIDIA FLARE's admin "FLARE API", speaking the FLARE 2.3 wire protocol.

from flare_api import new_secure_session
with new_secure_session("admin@nvidia.com", "path/to/admin/kit") as session:
    print(session.get_system_info())
"""

from __future__ import annotations

from .clock import Clock, RealClock, VirtualClock
from .errors import (
    AuthenticationError,
    AuthorizationError,
    ClientsStillRunning,
    ConfigError,
    ConnectionLost,
    FlareError,
    InternalError,
    InvalidArgumentError,
    InvalidJobDefinition,
    InvalidTarget,
    JobNotDone,
    JobNotFound,
    JobNotRunning,
    JobTimeout,
    NoClientsAvailable,
    NoConnection,
    ProtocolError,
    SessionClosed,
    SessionInactive,
)
from .monitor import basic_cb_with_print
from .session import Session, new_insecure_session, new_secure_session
from .types import ClientInfo, JobInfo, MonitorReturnCode, ServerInfo, SystemInfo, TargetType

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "ClientInfo",
    "ClientsStillRunning",
    "Clock",
    "ConfigError",
    "ConnectionLost",
    "FlareError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidJobDefinition",
    "InvalidTarget",
    "JobInfo",
    "JobNotDone",
    "JobNotFound",
    "JobNotRunning",
    "JobTimeout",
    "MonitorReturnCode",
    "NoClientsAvailable",
    "NoConnection",
    "ProtocolError",
    "RealClock",
    "ServerInfo",
    "Session",
    "SessionClosed",
    "SessionInactive",
    "SystemInfo",
    "TargetType",
    "VirtualClock",
    "basic_cb_with_print",
    "new_insecure_session",
    "new_secure_session",
]
