"""Result types of the FLARE API: the same names, attributes and ``str()`` forms as FLARE's, but typed."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

__all__ = [
    "ApiStatus",
    "ClientInfo",
    "JobInfo",
    "MonitorReturnCode",
    "ServerInfo",
    "SystemInfo",
    "TargetType",
]


class MonitorReturnCode(int, enum.Enum):
    """Why ``monitor_job`` returned."""

    JOB_FINISHED = 0
    TIMEOUT = 1
    ENDED_BY_CB = 2


class TargetType(str, enum.Enum):
    """Targets of system commands (FLARE 2.4's ``TargetType``)."""

    ALL = "all"
    SERVER = "server"
    CLIENT = "client"

    def __str__(self) -> str:
        return self.value


class ApiStatus(str, enum.Enum):
    """The status FLARE's client derives from a reply's items (``APIStatus``)."""

    SUCCESS = "SUCCESS"
    ERROR_PROTOCOL = "ERROR_PROTOCOL"
    ERROR_CERT = "ERROR_CERT"
    ERROR_AUTHENTICATION = "ERROR_AUTHENTICATION"
    ERROR_AUTHORIZATION = "ERROR_AUTHORIZATION"
    ERROR_SYNTAX = "ERROR_SYNTAX"
    ERROR_RUNTIME = "ERROR_RUNTIME"
    ERROR_INVALID_CLIENT = "ERROR_INVALID_CLIENT"
    ERROR_INACTIVE_SESSION = "ERROR_INACTIVE_SESSION"
    ERROR_SERVER_CONNECTION = "ERROR_SERVER_CONNECTION"

    def __str__(self) -> str:
        return self.value


def _asctime(epoch: float) -> str:
    return time.asctime(time.localtime(epoch))


@dataclass
class ServerInfo:
    """The server's engine status (``started``/``stopped``) and start time (epoch seconds)."""

    status: str
    start_time: float

    def __str__(self) -> str:
        return f"status: {self.status}, start_time: {_asctime(self.start_time)}"


@dataclass
class ClientInfo:
    """A registered client site and when it last connected (epoch seconds)."""

    name: str
    last_connect_time: float

    def __str__(self) -> str:
        return f"{self.name}(last_connect_time: {_asctime(self.last_connect_time)})"


@dataclass
class JobInfo:
    """A running job and its app name."""

    job_id: str
    app_name: str

    def __str__(self) -> str:
        return f"JobInfo:\n  job_id: {self.job_id}\n  app_name: {self.app_name}"


@dataclass
class SystemInfo:
    """What ``check_status server`` reports: the server, its clients and its running jobs."""

    server_info: ServerInfo
    client_info: list[ClientInfo] = field(default_factory=list)
    job_info: list[JobInfo] = field(default_factory=list)

    def __str__(self) -> str:
        clients = "\n".join(map(str, self.client_info))
        jobs = "\n".join(map(str, self.job_info))
        return f"SystemInfo\nserver_info:\n{self.server_info}\nclient_info:\n{clients}\njob_info:\n{jobs}"
