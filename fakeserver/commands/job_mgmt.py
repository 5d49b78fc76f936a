"""The ``job_mgmt`` scope: submit, list, meta, clone, abort, delete, download, abort_task (reference 6.1)."""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
from typing import Any, Optional

from flare_api.wire import Item, MetaKey, MetaStatus
from flare_api.wire.spliced import Spliced

from ..model.job_script import RunStatus
from ..model.jobs import CLONED_META_KEYS, DATA_STORAGE_FORMAT, AbortOutcome, JobRecord, JobStore, duration_string
from ..model.results import download_zip
from ..model.uploads import JobDefinitionError, JobPackage, SubmitCrash, UploadCrash, decode_upload
from ..pipeline.arguments import JOB, JOB_ID, JOB_TARGETS, Param, Parsed, client_targets, word
from ..pipeline.authorization import Right
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply, snapshot
from ..pipeline.request import Request
from ..pipeline.site_requests import ask_sites
from ..pipeline.targets import CLIENT, SERVER, Targets
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import FlareCrash, Refusal
from ..protocol.versions import FlareVersion


def _ok(info: str = "", **extra: Any) -> dict[str, Any]:
    return {MetaKey.STATUS: MetaStatus.OK, MetaKey.INFO: info, **extra}


class _ListJobsParser(argparse.ArgumentParser):
    """FLARE's ``SafeArgumentParser`` for list_jobs: errors raise ValueError(message + help)."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        help_text = io.StringIO()
        self.print_help(help_text)
        raise ValueError(message + "\n" + help_text.getvalue())


def list_jobs_parser() -> argparse.ArgumentParser:
    parser = _ListJobsParser(prog="list_jobs", add_help=False)
    parser.add_argument("job_id", nargs="?", help="Job ID prefix")
    parser.add_argument("-d", action="store_true", help="Show detailed list")
    parser.add_argument("-u", action="store_true", help="List jobs submitted by the same user")
    parser.add_argument("-r", action="store_true", help="List jobs in reverse order of submission time")
    parser.add_argument("-n", help="Filter by job name prefix")
    parser.add_argument("-m", type=int, help="Maximum number of jobs that will be listed")
    return parser


def _job_name(meta: dict[str, Any]) -> Any:
    return meta.get("name") or meta.get("job_folder_name", "No name")


def _listed_meta(record: JobRecord, now: float) -> dict[str, Any]:
    """A copy of the meta as list_jobs shows it: RUNNING jobs get a live duration."""
    meta = snapshot(record.meta)
    if record.status is RunStatus.RUNNING and record.started_at is not None:
        meta["duration"] = duration_string(now - record.started_at)
    return meta


def _matches(meta: dict[str, Any], id_prefix: Any, name_prefix: Any, user_name: Any) -> bool:
    # Same expression as FLARE, including its AttributeError for a job without a name under -n.
    return (
        ((not id_prefix) or meta.get("job_id").lower().startswith(id_prefix.lower()))  # type: ignore[union-attr]
        and ((not name_prefix) or meta.get("name").lower().startswith(name_prefix.lower()))  # type: ignore[union-attr]
        and ((not user_name) or meta.get("submitter_name") == user_name)
    )


#: A word that is only list_jobs' switches (``-d``, ``-durr``...): repeating it changes nothing.
_SWITCHES = re.compile(r"-[dur]+\Z")
#: Options that take the next word as their value.
_VALUED = ("-m", "-n")
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # argparse's: such a word is a value, not an option


def _is_value_word(word: str) -> bool:
    """Whether argparse reads ``word`` as an argument (not an option) in list_jobs' parser."""
    return not word.startswith("-") or len(word) == 1 or bool(_NEGATIVE_NUMBER.match(word))


def _takes_value(word: str) -> bool:
    """Whether ``word`` may be an option that takes the next word (``-m``, ``-n``, ``-dm``...); generous."""
    return word.startswith("-") and word[-1:] in ("m", "n")


def _valid_count(word: str) -> bool:
    try:
        int(word)
    except ValueError:
        return False
    return True


def fold_list_jobs_args(words: list[str]) -> list[str]:
    """The same words with their repeats folded, so argparse (quadratic in the number of options) gets
    few options and gives the same answer: switch words join the first one (unless one is the missing
    value of ``-m``/``-n``, which must stay to fail the same way), and a ``-m N``/``-n P`` pair that a
    later valid pair overrides is dropped. With a ``--``, only words before the first positional fold."""
    stop = len(words)
    if "--" in words:
        # argparse reads a "--" with the positional run it ends: removing an option between a positional
        # and "--" would join them. Fold only what comes before the first positional-looking word.
        stop = next(i for i, w in enumerate(words) if w == "--" or _is_value_word(w))
    head, tail = words[:stop], words[stop:]
    # the last pair of each valued option that argparse would accept (earlier valid pairs are overridden)
    last_pair: dict[str, int] = {}
    for i in range(len(head) - 1):
        word, value = head[i], head[i + 1]
        if word in _VALUED and _is_value_word(value) and (word == "-n" or _valid_count(value)):
            last_pair[word] = i
    out: list[str] = []
    switches: set[str] = set()
    first_switch: Optional[int] = None
    i = 0
    while i < len(head):
        word = head[i]
        previous = head[i - 1] if i else ""
        if word in _VALUED and i + 1 < len(head) and last_pair.get(word, -1) > i and not _takes_value(previous):
            value = head[i + 1]
            if _is_value_word(value) and (word == "-n" or _valid_count(value)):
                i += 2  # overridden by a later valid pair
                continue
        if _SWITCHES.match(word) and not _takes_value(previous):
            switches.update(word[1:])
            if first_switch is None:
                first_switch = len(out)
                out.append(word)
            i += 1
            continue
        out.append(word)
        i += 1
    if first_switch is not None:
        out[first_switch] = "-" + "".join(sorted(switches))
    return out + tail


def _list_jobs_options(request: Request, parsed: Parsed) -> argparse.Namespace:
    """FLARE's ``SafeArgumentParser``: a bad option is an ``internal_error`` naming the ValueError."""
    try:
        return list_jobs_parser().parse_args(fold_list_jobs_args(list(request.args[1:])))
    except ValueError as exc:
        raise Refusal(f"{type(exc).__name__}: {exc}", MetaStatus.INTERNAL_ERROR) from None


def _select(jobs: JobStore, options: argparse.Namespace, user: Optional[str]) -> list[JobRecord]:
    """FLARE's filter, sort and ``-m`` cut, served from the store's indexes: only candidates are tested,
    and with ``-m N`` the walk stops after N matches."""
    id_prefix, name_prefix = options.job_id, options.n
    if name_prefix:
        # FLARE tests every job; one without a str name whose id matches raises (the first in store order).
        for record in jobs.unnamed():
            _matches(record.meta, id_prefix, name_prefix, user)
    candidates = jobs.candidates(id_prefix, user)
    limit = options.m
    reverse = bool(options.r)
    if not limit or limit < 0:
        ordered = jobs.in_list_order(candidates, reverse=reverse)
        if not (id_prefix or name_prefix or user):
            selected = list(ordered)  # every job matches: no test per job
        else:
            selected = [r for r in ordered if _matches(r.meta, id_prefix, name_prefix, user)]
        if limit:
            selected = selected[:limit] if reverse else selected[-limit:]
        return selected
    # -r: the first N in descending order; otherwise the last N in ascending order (walked backwards)
    picked: list[JobRecord] = []
    for record in jobs.in_list_order(candidates, reverse=reverse, backwards=not reverse):
        if _matches(record.meta, id_prefix, name_prefix, user):
            picked.append(record)
            if len(picked) == limit:
                break
    return picked if reverse else picked[::-1]


def handle_list_jobs(request: Request, reply: Reply, options: argparse.Namespace) -> None:
    state = request.state
    try:
        now = state.clock.time()
        if not len(state.jobs):
            reply.string(msg.NO_JOBS_FOUND, _ok(jobs=[]))
        else:
            user = request.user_name if options.u else None
            records = _select(state.jobs, options, user)
            if not records:
                reply.string(msg.NO_JOBS_MATCHING, _ok(jobs=[]))
                return
            if options.d:
                selected = [_listed_meta(r, now) for r in records]
                for meta in selected:
                    reply.string(_json_indent(meta))
                reply.string("", _ok(jobs=selected))
            else:
                _summary_table(reply, records, now)
    except Exception as exc:  # FLARE turns any failure here into an internal_error reply
        raise Refusal(f"{type(exc).__name__}: {exc}", MetaStatus.INTERNAL_ERROR) from None
    reply.success()


def _json_indent(meta: dict[str, Any]) -> str:
    return json.dumps(meta, indent=4)


#: The row meta keys (the per-row dicts are the bulk of a long listing).
_ROW_KEYS = (MetaKey.JOB_ID, MetaKey.JOB_NAME, MetaKey.STATUS, MetaKey.SUBMIT_TIME, MetaKey.DURATION)
_RUNNING = RunStatus.RUNNING.value


def _summary_table(reply: Reply, records: list[JobRecord], now: float) -> None:
    """The five columns, read from the stored meta, spliced from each job's cached row text (see
    :func:`_row_texts`) instead of building and encoding every row: the reply's bytes are the same."""
    header = [str(h).upper() for h in msg.LIST_JOBS_HEADER]
    rows = [json.dumps(header)]
    metas: list[str] = []
    for record in records:
        row_text, meta_text = _row_texts(record, now)
        rows.append(row_text)
        metas.append(meta_text)
    reply.items.append(Item.table(Spliced(rows)))  # type: ignore[arg-type]
    reply.meta[MetaKey.JOBS] = Spliced(metas)


def _row_values(record: JobRecord, now: float) -> list[Any]:
    """The five values list_jobs shows for a job (only an uploaded name that is not a string is copied:
    the other values are strings the store wrote)."""
    meta = record.meta
    name = _job_name(meta)
    status = meta.get("status", "")
    if status == _RUNNING and record.started_at is not None:
        duration = duration_string(now - record.started_at)
    else:
        duration = str(meta.get("duration", "N/A"))
    return [
        meta.get("job_id", ""),
        name if isinstance(name, str) else snapshot(name),
        status,
        meta.get("submit_time_iso", ""),
        duration,
    ]


def _row_texts(record: JobRecord, now: float) -> tuple[str, str]:
    """The job's table row and row meta as JSON text; reused while the values shown are unchanged."""
    values = _row_values(record, now)
    key = tuple(values)
    cached = record.list_row
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]
    texts = json.dumps(values), json.dumps(dict(zip(_ROW_KEYS, values)))
    if all(type(value) is str for value in values):  # immutable: the key stays what was encoded
        record.list_row = (key, *texts)
    return texts


def handle_get_job_meta(request: Request, reply: Reply, job: JobRecord) -> None:
    request.state.jobs.observe(job)
    meta = snapshot(job.meta)
    reply.dictionary(meta, _ok(job_meta=meta))


def _upload(request: Request, parsed: Parsed) -> JobPackage:
    """``submit_job <folder> <b64 zip>``, decoded and validated as FLARE's three stages do."""
    args = request.args
    if len(args) < 3:
        raise FlareCrash(IndexError("list index out of range"))
    try:
        return decode_upload(args[1], args[2])
    except UploadCrash as crash:
        raise FlareCrash(crash.original) from None
    except JobDefinitionError as exc:
        raise Refusal(exc.reply_text, MetaStatus.INVALID_JOB_DEFINITION) from None
    except SubmitCrash as crash:
        raise Refusal(crash.error_text, MetaStatus.INTERNAL_ERROR, crash.info) from None


def handle_submit_job(request: Request, reply: Reply, package: JobPackage) -> None:
    session = request.session
    assert session is not None
    meta = dict(package.meta)
    meta["submitter_name"] = session.user_name
    meta["submitter_org"] = session.org if session.org is not None else ""
    meta["submitter_role"] = session.role if session.role is not None else ""
    record = request.state.jobs.create(meta, package.content)
    reply.string(msg.SUBMITTED_JOB.format(job_id=record.job_id))
    reply.success("", _ok(job_id=record.job_id))


def storage_format(request: Request, meta: dict[str, Any]) -> None:
    """2.5+ servers write ``data_storage_format: 2`` into the meta of every submitted or cloned job."""
    if request.version >= FlareVersion.V2_5:
        meta[DATA_STORAGE_FORMAT] = msg24.DATA_STORAGE_FORMAT_VALUE


def handle_clone_job(request: Request, reply: Reply, job: JobRecord) -> None:
    session = request.session
    assert session is not None
    meta = {key: snapshot(value) for key, value in job.meta.items() if key in CLONED_META_KEYS}
    meta["submitter_name"] = session.user_name
    meta["submitter_org"] = session.org
    meta["submitter_role"] = session.role
    meta["cloned_from"] = job.job_id
    storage_format(request, meta)
    record = request.state.jobs.create(meta, job.content)
    reply.string(msg.CLONED_JOB.format(source=job.job_id, job_id=record.job_id))
    reply.success("", _ok(job_id=record.job_id))


#: The reply text of each ``abort_job`` outcome that is not a refusal.
ABORT_TEXTS = {
    AbortOutcome.BEFORE_RUNNING: msg.ABORTED_BEFORE_RUNNING,
    AbortOutcome.ALREADY_FINISHED: msg.ALREADY_COMPLETED,
    AbortOutcome.STOPPED: msg.ABORT_SIGNAL_SENT,
}


def handle_abort_job(request: Request, reply: Reply, job: JobRecord) -> None:
    outcome = request.state.jobs.abort(job)
    if outcome is AbortOutcome.NOT_RUNNING:
        raise Refusal(msg.JOB_NOT_RUNNING.format(job_id=job.job_id), MetaStatus.INTERNAL_ERROR)
    text = ABORT_TEXTS[outcome].format(job_id=job.job_id)
    reply.string(text)
    reply.success("", _ok(text))


def handle_delete_job(request: Request, reply: Reply, job: JobRecord) -> None:
    if job.status in (RunStatus.DISPATCHED, RunStatus.RUNNING):
        raise Refusal(msg.JOB_IS_RUNNING.format(job_id=job.job_id), MetaStatus.JOB_RUNNING, job.job_id)
    request.state.jobs.delete(job.job_id)
    reply.string(msg.JOB_DELETED.format(job_id=job.job_id))
    reply.success("", _ok())


def handle_download_job(request: Request, reply: Reply, job_id: str) -> None:
    """FLARE loads the job again with the raw argument here, not the lowercased one."""
    state = request.state
    record = state.jobs.get(job_id)
    if record is None:
        raise Refusal(msg.DOWNLOAD_STORE_ERROR.format(job_id=job_id))
    data = download_zip(record)
    if len(data) > state.config.max_download_bytes:
        url = state.config.download_job_url + job_id
        reply.string(msg.DOWNLOAD_URL_MARKER + url, _ok(job_id=job_id, job_download_url=url))
        return
    if state.workspaces is not None:  # FLARE unzips the job into <server>/transfer/<job_id>, then zips that folder
        state.workspaces.unpack_download(record.job_id, data)
    reply.string(base64.b64encode(data).decode("ascii"), _ok(job_id=job_id))


def handle_abort_task(request: Request, reply: Reply, job_id: str, targets: Targets) -> None:
    """Every site answers "sent": 2.3.12's ``ProcessExecutor.get_status`` reports a job it has no run process for
    (finished, never deployed there, unknown) as STOPPED and ``start_app`` marks its own ones STARTED at once, so
    ``ClientEngine.abort_task``'s "not started" / "starting" answers are unreachable (seen on a real 2.3.12 site)."""
    table = reply.table(msg.CLIENT_RESPONSE_HEADER)
    for name in targets.clients:
        table.add_row([name, msg.ABORT_TASK_SENT])


def handle_start_app(request: Request, reply: Reply, job: JobRecord, targets: Optional[Targets]) -> None:
    """``start_app <id> client|all [sites]``: only client apps start; they are already running in the fake."""
    if targets is None:
        raise Refusal(msg.START_APP_MISSING_TARGET)
    if targets.type == SERVER:
        raise Refusal(msg.START_APP_SERVER_ONLY_CLIENT)
    if targets.type == CLIENT or targets.clients:
        _start_app_on_clients(request, reply, job, targets.clients)
    reply.success()


def _start_app_on_clients(request: Request, reply: Reply, job: JobRecord, names: list[str]) -> None:
    if job not in request.state.jobs.with_process():
        text = msg24.START_APP_NOT_RUNNING if request.version >= FlareVersion.V2_4 else msg.START_APP_NOT_RUNNING
        raise Refusal(text.format(job_id=job.job_id))
    outsiders = [name for name in names if name not in job.sites]
    if outsiders:
        raise Refusal(msg.START_APP_NOT_IN_JOB.format(names=",".join(outsiders)))
    table = reply.table(msg.CLIENT_RESPONSE_HEADER)
    for answer in ask_sites(request, names, require_authz=False):
        table.add_row([answer.site, "" if answer.no_reply else msg.START_APP_ALREADY_STARTED])


#: FLARE's ``authorize_job``: the job (lowercased, loaded), then any targets after it.
_JOB_CHECKS: tuple[Param, ...] = (JOB, JOB_TARGETS.check_only())


def _own(right: str) -> Right:
    """A job command's right, checked with the job's submitter (so ``*_own_job`` rights apply)."""
    return Right(right, job_submitter=True)


def specs() -> list[CommandSpec]:
    scope = "job_mgmt"
    return [
        CommandSpec(scope, "delete_workspace", "delete the workspace of a job", "delete_workspace job_id",
                    handle_delete_job, checks=_JOB_CHECKS, authorization=_own("delete_workspace"), confirm="auth",
                    enabled=False),
        CommandSpec(scope, "start_app", "start the FL app", "start_app job_id server|client|all",
                    handle_start_app, checks=(JOB, JOB_TARGETS), authorization=_own("start_app"),
                    until=FlareVersion.V2_6),
        CommandSpec(scope, "list_jobs", "list submitted jobs",
                    "list_jobs [-n name_prefix] [-d] [-u] [-r] [-m num_of_jobs] [job_id_prefix]",
                    handle_list_jobs, authorization=Right("list_jobs"), args=(Param("options", _list_jobs_options),)),
        CommandSpec(scope, "get_job_meta", "get meta info of specified job", "get_job_meta job_id",
                    handle_get_job_meta, checks=_JOB_CHECKS, authorization=_own("get_job_meta")),
        CommandSpec(scope, "delete_job", "delete a job and persisted workspace", "delete_job job_id",
                    handle_delete_job, checks=_JOB_CHECKS, authorization=_own("delete_job"), confirm="auth"),
        CommandSpec(scope, "abort_job", "abort a job if it is running or dispatched", "abort_job job_id",
                    handle_abort_job, checks=_JOB_CHECKS, authorization=_own("abort_job"), confirm="yesno"),
        CommandSpec(scope, "abort_task", "abort the client current task execution", "abort_task job_id <client-name>",
                    handle_abort_task, checks=(JOB_ID, client_targets(2)), authorization=Right("abort_task"),
                    until=FlareVersion.V2_4),
        CommandSpec(scope, "clone_job", "clone a job with a new job_id", "clone_job job_id",
                    handle_clone_job, checks=_JOB_CHECKS, authorization=_own("clone_job")),
        CommandSpec(scope, "submit_job", "submit a job", "submit_job job_folder", handle_submit_job,
                    authorization=Right("submit_job"), args=(Param("package", _upload),),
                    client_cmd="file_transfer.upload_folder", until=FlareVersion.V2_4),
        CommandSpec(scope, "download_job", "download a specified job", "download_job job_id", handle_download_job,
                    checks=(JOB.check_only(), *_JOB_CHECKS[1:]), authorization=_own("download_job"),
                    args=(word(1, "job_id"),),
                    client_cmd="file_transfer.download_folder", until=FlareVersion.V2_4),
    ]  # fmt: skip
