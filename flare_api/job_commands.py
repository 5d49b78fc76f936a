"""The job methods of ``Session``: FLARE 2.3's names, arguments, returns and errors (reference 8.5–8.7),
plus the conveniences newer FLARE releases added, on the 2.3 wire.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any, Optional, Union

from .command_runner import CommandRunner
from .command_table import DOWNLOAD_FOLDER, UPLOAD_FOLDER
from .downloads import pull_folder
from .errors import (
    InternalError,
    InvalidArgumentError,
    JobNotFound,
    JobTimeout,
    ProtocolError,
)
from .job_folder import resolve_job_folder, safe_extract, submit_command_args, zip_job_folder
from .monitor import MonitorCallback, monitor
from .types import MonitorReturnCode
from .versions import PULL_FOLDER, PUSH_FOLDER, FlareVersion, require_series
from .wire import ItemType, MetaKey, join_command_line

PathLike = Union[str, "os.PathLike[str]"]


def validate_job_id(job_id: object) -> str:
    """FLARE's ``_validate_job_id``: falsy or non-str ids raise ``JobNotFound`` before any I/O."""
    if not job_id:
        raise JobNotFound("job_id is required but not specified.")
    if not isinstance(job_id, str):
        raise JobNotFound(f"invalid job_id {job_id}")
    return job_id


class JobCommands(CommandRunner):
    """Mixin: submit, clone, list, inspect, monitor, download, abort and delete jobs."""

    def _client_command_scope(self, name: str, client_cmd: str) -> str:
        """The scope the server lists a client-side command under (``job_mgmt`` on FLARE 2.3)."""
        for entry in self.commands.lookup(name):
            if entry.client_cmd == client_cmd:
                return entry.scope
        raise InternalError(f"protocol error: the server's command list has no {name} ({client_cmd})")

    def submit_job(self, job_definition_path: PathLike) -> str:
        """Upload a job folder (absolute, CWD-relative or under ``upload_dir``); returns the new job id.

        FLARE 2.3 and 2.4 servers get the zip base64-encoded in the command line, 2.5+ as a binary push.
        """
        folder = resolve_job_folder(job_definition_path, self.upload_dir)
        label = f"submit_job {folder}"
        if self.flare_version >= FlareVersion.V2_5:
            scope = self._client_command_scope("submit_job", PUSH_FOLDER)
            line = join_command_line([f"{scope}.submit_job", Path(os.path.abspath(folder)).name])
            meta = self._do_push(line, zip_job_folder(folder), label=label).meta
        else:
            name, payload = submit_command_args(folder)
            scope = self._client_command_scope("submit_job", UPLOAD_FOLDER)
            line = join_command_line([f"{scope}.submit_job", name, payload])
            meta = self._do_command(line, label=label).meta
        job_id = meta.get(MetaKey.JOB_ID)
        if not job_id:
            raise InternalError("server failed to return job id")
        return str(job_id)

    def clone_job(self, job_id: str) -> str:
        """Submit a copy of a job (same content, caller as submitter); returns the new job id."""
        meta = self._command("clone_job", validate_job_id(job_id)).meta
        new_id = meta.get(MetaKey.JOB_ID)
        if not new_id:
            raise InternalError(f"server failed to return job id: {meta.get(MetaKey.INFO, '')}")
        if not isinstance(new_id, str):  # FLARE hands back whatever came; a str() of a dict is no job id
            raise ProtocolError(f"server returned a job id of type {type(new_id).__name__}: {new_id!r:.200}")
        return new_id

    def get_job_meta(self, job_id: str) -> dict[str, Any]:
        """The job's meta dict (status, times, submitter, deploy map...)."""
        meta = self._command("get_job_meta", validate_job_id(job_id)).meta
        job_meta = meta.get(MetaKey.JOB_META)
        if not job_meta:
            raise InternalError("server failed to return job meta")
        if not isinstance(job_meta, dict):
            raise ProtocolError(
                f"server returned job meta of type {type(job_meta).__name__}, not a dict: {job_meta!r:.200}"
            )
        return dict(job_meta)

    def get_job_status(self, job_id: str) -> Optional[str]:
        """Just the job's status (FLARE 2.5's convenience)."""
        status = self.get_job_meta(job_id).get("status")
        return str(status) if status is not None else None

    def list_jobs(
        self,
        detailed: bool = False,
        limit: Optional[int] = None,
        id_prefix: Optional[str] = None,
        name_prefix: Optional[str] = None,
        reverse: bool = False,
    ) -> list[dict[str, Any]]:
        """Jobs as the server lists them: summaries, or full metas with ``detailed=True``."""
        if not isinstance(detailed, bool):
            raise InvalidArgumentError(f"detailed must be bool but got {type(detailed)}")
        if not isinstance(reverse, bool):
            raise InvalidArgumentError(f"reverse must be bool but got {type(reverse)}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise InvalidArgumentError(f"limit must be None or int but got {type(limit)}")
        if id_prefix is not None and not isinstance(id_prefix, str):
            raise InvalidArgumentError(f"id_prefix must be None or str but got {type(id_prefix)}")
        if name_prefix is not None and not isinstance(name_prefix, str):
            raise InvalidArgumentError(f"name_prefix must be None or str but got {type(name_prefix)}")
        for label, value in (("id_prefix", id_prefix), ("name_prefix", name_prefix)):
            if value and value.startswith("-"):
                raise InvalidArgumentError(f"{label} must not start with '-' (the server would read it as an option)")
        args = ["list_jobs"]
        if detailed:
            args.append("-d")
        if reverse:
            args.append("-r")
        if limit:
            args += ["-m", str(limit)]
        if name_prefix:
            args += ["-n", name_prefix]
        if id_prefix:
            args.append(id_prefix)
        jobs = self._command(*args).meta.get(MetaKey.JOBS, [])
        return list(jobs) if isinstance(jobs, list) else []

    def download_job_result(self, job_id: str) -> str:
        """Download the job (submitted folder + server workspace) into ``download_dir/<job_id>``.

        Returns that folder, or (FLARE 2.3) the server's download URL for a job too big to send. From FLARE 2.4
        on the files are pulled one by one and land where FLARE's client puts them: ``<job_id>`` holding
        ``meta.json``, ``job/`` and ``workspace/``, or ``<job_id>__1``... if that folder exists. Entries that
        would land outside ``download_dir`` are refused.
        """
        if self.flare_version >= FlareVersion.V2_4:
            job_id = validate_job_id(job_id)
            scope = self._client_command_scope("download_job", PULL_FOLDER)
            line = join_command_line([f"{scope}.download_job", job_id])
            return pull_folder(self, line, job_id, label=f"download_job {job_id}")
        scope = self._client_command_scope("download_job", DOWNLOAD_FOLDER)
        line = join_command_line([f"{scope}.download_job", validate_job_id(job_id)])
        reply = self._do_command(line, label=f"download_job {job_id}")
        meta = reply.meta
        url = meta.get(MetaKey.JOB_DOWNLOAD_URL)
        if url:
            return str(url)
        strings = [item.data for item in reply.items if item.type is ItemType.STRING and isinstance(item.data, str)]
        if not strings:
            raise ProtocolError("protocol error - no data received for download_job")
        try:
            data = base64.b64decode(strings[-1], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError(f"download_job reply is not base64: {exc}") from None
        safe_extract(data, self.download_dir)
        return os.path.join(self.download_dir, str(meta.get(MetaKey.JOB_ID, job_id)))

    def download_job_components(self, job_id: str) -> str:
        """FLARE 2.6: download the job's additional components (e.g. ``ERRORLOG_<site>``) into ``download_dir/<job_id>``
        (or ``<job_id>__1``...) and return that folder. A real 2.6.3 server never completes this download (see
        docs/compatibility.md); the error it answers raises as in FLARE. Older servers: ``NotInFlareVersion``."""
        require_series(self.flare_version, FlareVersion.V2_6, "download_job_components", "download_job_components")
        job_id = validate_job_id(job_id)
        scope = self._client_command_scope("download_job_components", PULL_FOLDER)
        line = join_command_line([f"{scope}.download_job_components", job_id])
        return pull_folder(self, line, job_id, label=f"download_job_components {job_id}")

    def abort_job(self, job_id: str) -> None:
        """Abort a job: before it runs, while it runs; a finished job is left alone."""
        self._command("abort_job", validate_job_id(job_id))

    def delete_job(self, job_id: str) -> None:
        """Delete a job that is not dispatched or running (``JobNotDone`` otherwise)."""
        self._command("delete_job", validate_job_id(job_id))

    def monitor_job(
        self,
        job_id: str,
        timeout: float = 0.0,
        poll_interval: float = 2.0,
        cb: Optional[MonitorCallback] = None,
        *cb_args: Any,
        **cb_kwargs: Any,
    ) -> MonitorReturnCode:
        """Poll the job's meta every ``poll_interval`` seconds (on the session's clock) until it finishes,
        ``timeout`` (0: never) passes, or ``cb(session, job_id, job_meta, *cb_args, **cb_kwargs)`` returns falsy."""
        code, _ = self.monitor_job_and_return_job_meta(job_id, timeout, poll_interval, cb, *cb_args, **cb_kwargs)
        return code

    def monitor_job_and_return_job_meta(
        self,
        job_id: str,
        timeout: float = 0.0,
        poll_interval: float = 2.0,
        cb: Optional[MonitorCallback] = None,
        *cb_args: Any,
        **cb_kwargs: Any,
    ) -> tuple[MonitorReturnCode, Optional[dict[str, Any]]]:
        """``monitor_job``, also returning the last meta polled (None if it timed out before polling)."""
        return monitor(self, job_id, self.get_job_meta, self.clock, timeout, poll_interval, cb, cb_args, cb_kwargs)

    def wait_for_job(self, job_id: str, timeout: float = 0.0, poll_interval: float = 2.0) -> dict[str, Any]:
        """Block until the job finishes and return its final meta; ``JobTimeout`` after ``timeout`` seconds."""
        code, meta = self.monitor_job_and_return_job_meta(job_id, timeout, poll_interval)
        if code is not MonitorReturnCode.JOB_FINISHED or meta is None:
            status = meta.get("status") if meta else "unknown"
            raise JobTimeout(f"job {job_id} did not finish within {timeout} seconds (last status: {status})")
        return meta
