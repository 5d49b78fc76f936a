"""What the real FLARE 2.4, 2.5 and 2.6 clients must see from a fake of their version, as data.

Values come from the real servers (scripts/real_flare_socket/captures/real-<wheel>.json, recorded against real
secure deployments) and the socket-protocol reference; the contract scenarios read them per installed version.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlareRelease:
    """One FLARE minor version: the wheel the contract env installs and what its server must answer."""

    flare_version: str  # the fake's FakeFlareServer(flare_version=...)
    wheel: str  # nvflare==<wheel>, the newest patch of the series
    submit_clientcmd: str  # CLIENTCMD of the submit_job row
    commands: frozenset[str]  # command names of the `_commands` table
    exceptions: tuple[str, ...]  # api_spec classes the client has on top of 2.3's
    bad_deploy_map: str  # Session.submit_job message for a job whose deploy_map is empty


_COMMON = frozenset(
    [
        "cells",
        "conns",
        "list_pools",
        "msg_stats",
        "peers",
        "process_info",
        "route",
        "show_comm_config",
        "show_config_vars",
        "show_pool",
        "speed",
        "stress",
        "url_use",
        "reset_errors",
        "show_errors",
        "show_stats",
        "abort_job",
        "clone_job",
        "delete_job",
        "download_job",
        "download_job_file",
        "get_job_meta",
        "list_jobs",
        "submit_job",
        "cat",
        "grep",
        "head",
        "ls",
        "pwd",
        "tail",
        "report_env",
        "report_resources",
        "sys_info",
        "admin_check_status",
        "check_status",
        "remove_client",
        "restart",
        "show_scopes",
        "shutdown",
    ]
)
_TARGET_EXCEPTIONS = ("JobNotRunning", "NoClientsAvailable", "ClientsStillRunning", "InvalidTarget")
_BAD_DEPLOY_MAP = "invalid job definition: deploy_map is empty for job empty_deploy"

RELEASES: dict[str, FlareRelease] = {
    "2.4": FlareRelease(
        "2.4",
        "2.4.2",
        "file_transfer.upload_folder",
        _COMMON | {"start_app"},
        _TARGET_EXCEPTIONS,
        _BAD_DEPLOY_MAP,
    ),
    "2.5": FlareRelease(
        "2.5",
        "2.5.2",
        "file_transfer.push_folder",
        _COMMON | {"start_app", "app_command", "dead"},
        (*_TARGET_EXCEPTIONS, "NoReply"),
        _BAD_DEPLOY_MAP,
    ),
    "2.6": FlareRelease(
        "2.6",
        "2.6.3",
        "file_transfer.push_folder",
        _COMMON
        | {"app_command", "dead", "configure_job_log", "configure_site_log", "list_job", "download_job_components"},
        (*_TARGET_EXCEPTIONS, "NoReply"),
        _BAD_DEPLOY_MAP,
    ),
}


def release_of(nvflare_version: str) -> FlareRelease | None:
    """The release data for an installed ``nvflare.__version__`` (None for 2.3 and 2.7+)."""
    return RELEASES.get(".".join(nvflare_version.split(".")[:2]))
