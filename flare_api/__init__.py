"""flare_api: a typed client for NVIDIA FLARE's admin "FLARE API", speaking the FLARE 2.3 wire protocol.

from flare_api import new_secure_session
with new_secure_session("admin@nvidia.com", "path/to/admin/kit") as session:
    print(session.get_system_info())
"""

from __future__ import annotations

from .clock import Clock, RealClock, VirtualClock
from .errors import (
    ArgumentSyntaxError,
    ArgumentTypeError,
    AuthenticationError,
    AuthorizationError,
    ClientsStillRunning,
    ClientsStillRunningError,
    ConfigError,
    ConnectionLost,
    EmptyReply,
    FlareError,
    InternalError,
    InvalidArgumentError,
    InvalidClient,
    InvalidJobDefinition,
    InvalidTarget,
    InvalidTargetError,
    JobNotDone,
    JobNotFound,
    JobNotRunning,
    JobsStillRunning,
    JobTimeout,
    NoClientsAvailable,
    NoClientsAvailableError,
    NoConnection,
    OverseerError,
    ProtocolError,
    SessionClosed,
    SessionInactive,
    TargetSyntaxError,
)
from .monitor import basic_cb_with_print
from .session import Session, new_insecure_session, new_secure_session
from .types import ClientInfo, JobInfo, MonitorReturnCode, ServerInfo, SystemInfo, TargetType

__version__ = "0.1.0"

__all__ = [
    "ArgumentSyntaxError",
    "ArgumentTypeError",
    "AuthenticationError",
    "AuthorizationError",
    "ClientInfo",
    "ClientsStillRunning",
    "ClientsStillRunningError",
    "Clock",
    "ConfigError",
    "ConnectionLost",
    "EmptyReply",
    "FlareError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidClient",
    "InvalidJobDefinition",
    "InvalidTarget",
    "InvalidTargetError",
    "JobInfo",
    "JobNotDone",
    "JobNotFound",
    "JobNotRunning",
    "JobTimeout",
    "JobsStillRunning",
    "MonitorReturnCode",
    "NoClientsAvailable",
    "NoClientsAvailableError",
    "NoConnection",
    "OverseerError",
    "ProtocolError",
    "RealClock",
    "ServerInfo",
    "Session",
    "SessionClosed",
    "SessionInactive",
    "SystemInfo",
    "TargetSyntaxError",
    "TargetType",
    "VirtualClock",
    "basic_cb_with_print",
    "new_insecure_session",
    "new_secure_session",
]
