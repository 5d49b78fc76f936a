"""flare_api: a typed client for NVIDIA FLARE's admin "FLARE API", speaking the FLARE 2.3 wire protocol.

from flare_api import new_secure_session
with new_secure_session("admin@nvidia.com", "path/to/admin/kit") as session:
    print(session.get_system_info())

Exception names: ``__all__`` lists one name per exception. Where FLARE 2.4–2.6 name an exception, that
name is canonical: catch ``InvalidTarget``, ``NoClientsAvailable`` and ``ClientsStillRunning``. The
``InvalidTargetError``, ``NoClientsAvailableError`` and ``ClientsStillRunningError`` we raise derive
from them (and from ``InternalError``, what FLARE 2.3 raised there); they stay importable from here
for compatibility but are not advertised.
"""

from __future__ import annotations

from .clock import Clock, RealClock, VirtualClock
from .errors import (
    ArgumentSyntaxError,
    ArgumentTypeError,
    AuthenticationError,
    AuthorizationError,
    ClientsStillRunning,
    ConfigError,
    ConnectionLost,
    EmptyReply,
    FlareError,
    InternalError,
    InvalidArgumentError,
    InvalidClient,
    InvalidJobDefinition,
    InvalidReply,
    InvalidTarget,
    JobNotDone,
    JobNotFound,
    JobNotRunning,
    JobsStillRunning,
    JobTimeout,
    NoClientsAvailable,
    NoConnection,
    NoReply,
    NotInFlareVersion,
    OverseerError,
    ProtocolError,
    SessionClosed,
    SessionInactive,
    TargetSyntaxError,
    TLSRejected,
)
from .errors import ClientsStillRunningError as ClientsStillRunningError  # compatibility, not in __all__
from .errors import InvalidTargetError as InvalidTargetError  # compatibility, not in __all__
from .errors import NoClientsAvailableError as NoClientsAvailableError  # compatibility, not in __all__
from .monitor import basic_cb_with_print
from .session import Session, new_insecure_session, new_secure_session
from .types import ClientInfo, JobInfo, MonitorReturnCode, ServerInfo, SystemInfo, TargetType
from .versions import FlareVersion

__version__ = "0.1.0"

__all__ = [
    "ArgumentSyntaxError",
    "ArgumentTypeError",
    "AuthenticationError",
    "AuthorizationError",
    "ClientInfo",
    "ClientsStillRunning",
    "Clock",
    "ConfigError",
    "ConnectionLost",
    "EmptyReply",
    "FlareError",
    "FlareVersion",
    "InternalError",
    "InvalidArgumentError",
    "InvalidClient",
    "InvalidJobDefinition",
    "InvalidReply",
    "InvalidTarget",
    "JobInfo",
    "JobNotDone",
    "JobNotFound",
    "JobNotRunning",
    "JobTimeout",
    "JobsStillRunning",
    "MonitorReturnCode",
    "NoClientsAvailable",
    "NoConnection",
    "NoReply",
    "NotInFlareVersion",
    "OverseerError",
    "ProtocolError",
    "RealClock",
    "ServerInfo",
    "Session",
    "SessionClosed",
    "SessionInactive",
    "SystemInfo",
    "TLSRejected",
    "TargetSyntaxError",
    "TargetType",
    "VirtualClock",
    "basic_cb_with_print",
    "new_insecure_session",
    "new_secure_session",
]
