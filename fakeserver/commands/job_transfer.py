"""The ``job_mgmt`` transfers of FLARE 2.4-2.6: ``submit_job`` (2.4 base64 text, 2.5+ binary push) and the
``pull_folder`` downloads ``download_job``, ``download_job_file`` and (2.6) ``download_job_components``.

2.3's ``submit_job`` and ``download_job`` (base64 both ways) stay in :mod:`fakeserver.commands.job_mgmt`; these
specs replace them from 2.4 on (reference flare-2.4-2.6 sections 1, 2 and 6).
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from flare_api.wire import MetaKey, MetaStatus
from flare_api.wire.transfer import TransferKey, pull_reply_parts

from ..model.jobs import JobRecord
from ..model.run_files_24 import run_files
from ..model.transfers import job_download_files
from ..model.uploads import JobDefinitionError, JobPackage, SubmitCrash
from ..model.uploads24 import accept_upload
from ..pipeline.arguments import JOB, JOB_TARGETS, Param, Parsed, word
from ..pipeline.authorization import Right
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply
from ..pipeline.request import Request
from ..protocol import messages as msg
from ..protocol.refusals import FlareCrash, Refusal
from ..protocol.versions import FlareVersion
from .cellnet import pools
from .job_mgmt import storage_format

SCOPE = "job_mgmt"
UPLOAD_FOLDER = "file_transfer.upload_folder"
PUSH_FOLDER = "file_transfer.push_folder"
PULL_FOLDER = "file_transfer.pull_folder"
PULL_BINARY = "file_transfer.pull_binary"


# ------------------------------------------------------------------------------------------ submit
def _upload(request: Request, parsed: Parsed) -> JobPackage:
    """The uploaded zip (2.4: base64 in the third word; 2.5+: the binary exchange's body), validated."""
    version = request.registry.version
    args = request.args
    if len(args) < (2 if version >= FlareVersion.V2_5 else 3):
        raise FlareCrash(IndexError("list index out of range"))
    if version >= FlareVersion.V2_5:
        if request.body is None:  # a text submit_job: FLARE's validator gets no zip file name
            crash = SubmitCrash(TypeError(msg.NO_JOB_DATA))
            raise Refusal(crash.error_text, MetaStatus.INTERNAL_ERROR, crash.info)
        data = request.body
    else:
        try:
            data = base64.b64decode(args[2].encode("ascii"))
        except Exception as exc:  # outside the handler's try in FLARE: the connection's crash reply
            raise FlareCrash(exc) from None
    try:
        return accept_upload(args[1], data, byoc=version >= FlareVersion.V2_5, site_dicts=version >= FlareVersion.V2_6)
    except JobDefinitionError as exc:
        raise Refusal(exc.reply_text, MetaStatus.INVALID_JOB_DEFINITION) from None
    except SubmitCrash as crash:
        raise Refusal(crash.error_text, MetaStatus.INTERNAL_ERROR, crash.info) from None


def handle_submit_job(request: Request, reply: Reply, package: JobPackage) -> None:
    """FLARE 2.4+ stores the zip as uploaded; the meta gets the submitter and the folder name from the argument."""
    session = request.session
    assert session is not None
    meta = dict(package.meta)
    meta["submitter_name"] = session.user_name
    meta["submitter_org"] = session.org if session.org is not None else ""
    meta["submitter_role"] = session.role if session.role is not None else ""
    meta.pop("job_folder_name", None)  # FLARE 2.4+ set it after the submitter (the key order list_jobs -d shows)
    meta["job_folder_name"] = package.folder_name
    storage_format(request, meta)  # 2.5+: data_storage_format 2
    record = request.state.jobs.create(meta, package.content)
    reply.string(msg.SUBMITTED_JOB.format(job_id=record.job_id))
    reply.success("", {MetaKey.STATUS: MetaStatus.OK, MetaKey.INFO: "", MetaKey.JOB_ID: record.job_id})


# ------------------------------------------------------------------------------------------ downloads
def _pull_meta(tx_id: str, folder_name: str, files: list[str]) -> dict[str, Any]:
    return {
        MetaKey.STATUS: MetaStatus.OK,
        MetaKey.INFO: "",
        TransferKey.FILES: files,
        TransferKey.TX_ID: tx_id,
        TransferKey.FOLDER_NAME: folder_name,
        TransferKey.CMD_NAME: msg.DOWNLOAD_JOB_FILE,
    }


def _internal_error() -> Refusal:
    return Refusal(msg.DOWNLOAD_INTERNAL_ERROR, MetaStatus.INTERNAL_ERROR, "")


def handle_download_job(request: Request, reply: Reply, job_id: str) -> None:
    """Open a download of the job's files (FLARE reads the store again with the id as typed)."""
    record = request.state.jobs.get(job_id)
    if record is None:
        raise _internal_error()
    version = request.version
    files = job_download_files(record, lambda workspace: run_files(version, workspace, pools(version)))
    transfer = request.state.transfers.open(job_id, files)
    reply.string(msg.PULL_OK, _pull_meta(transfer.tx_id, job_id, list(transfer.files)))


def handle_download_job_components(request: Request, reply: Reply) -> None:
    """As FLARE 2.6.3 answers: it has no pre-check (an unknown id fails in the store: ``internal error``), and
    the fake's jobs, like a plain job on a real server, have no additional components to download."""
    args = request.args
    if len(args) < 2:
        raise FlareCrash(IndexError("list index out of range"))
    if request.state.jobs.get(args[1]) is None:
        raise _internal_error()
    raise Refusal(msg.NO_DATA_TO_DOWNLOAD)


def _usage(request: Request) -> Refusal:
    return Refusal(f"Usage: {request.spec.usage}", MetaStatus.SYNTAX_ERROR, "")


def _file_job(request: Request, parsed: Parsed) -> JobRecord:
    """``authorize_job_file``: at least ``cmd tx_id job_id file``, then the job pre-check on the job id (word 2)."""
    if len(request.args) < 4:
        raise _usage(request)
    shifted = dataclasses.replace(request, args=[request.args[0], request.args[2]])
    job: JobRecord = JOB.parse(shifted, parsed)
    return job


def handle_download_job_file(request: Request, reply: Reply) -> None:
    """Send one file of an open download in the version's framing; ``end`` closes the download. Like FLARE, send
    nothing (the connection just closes) for an unknown transaction or file."""
    tx_id, folder_name, file_name = request.args[1:4]
    transfers = request.state.transfers
    transfer = transfers.get(tx_id)
    data = transfer.read(file_name) if transfer is not None and transfer.folder_name == folder_name else None
    framing = request.registry.version.pull_framing
    reply.binary = pull_reply_parts(framing, data) if data is not None and framing is not None else []
    if len(request.args) > 4:
        transfers.close(tx_id)


def specs() -> list[CommandSpec]:
    since = FlareVersion.V2_4
    return [
        CommandSpec(SCOPE, "submit_job", "submit a job", "submit_job job_folder", handle_submit_job,
                    authorization=Right("submit_job"), args=(Param("package", _upload),), client_cmd=UPLOAD_FOLDER,
                    since=since, changes={FlareVersion.V2_5: {"client_cmd": PUSH_FOLDER}}),
        CommandSpec(SCOPE, "download_job", "download a specified job", "download_job job_id [destination]",
                    handle_download_job, checks=(JOB.check_only(), JOB_TARGETS.check_only()),
                    authorization=Right("download_job", job_submitter=True), args=(word(1, "job_id"),),
                    client_cmd=PULL_FOLDER, since=since),
        CommandSpec(SCOPE, "download_job_file", "download a specified job file", "download_job_file job_id file_name",
                    handle_download_job_file, checks=(Param("job", _file_job, passed=False),),
                    authorization=Right("download_job_file", job_submitter=True), client_cmd=PULL_BINARY,
                    visible=False, since=since),
        CommandSpec(SCOPE, "download_job_components", "download additional components for a specified job",
                    "download_job_components job_id", handle_download_job_components, client_cmd=PULL_FOLDER,
                    since=FlareVersion.V2_6),
    ]  # fmt: skip
