"""Submit a FLARE training job, watch it for hours, publish the global model or raise an alert.

Production code: it opens its own admin session from a startup kit and knows nothing about tests.
Transient connection failures while monitoring are retried; a job that ends badly, or runs past its
deadline (then it is aborted), raises an alert instead of publishing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from flare_api import ConnectionLost, FlareError, MonitorReturnCode, ProtocolError, Session, new_secure_session

#: Where the job's persistor (NPModelPersistor, the numpy job's) saves the global model in a downloaded result.
MODEL_PATH = Path("workspace") / "models" / "server.npy"
COMPLETED = "FINISHED:COMPLETED"


class PipelineError(RuntimeError):
    """The pipeline could not finish: not allowed, or FLARE kept failing after the retries."""


@dataclass(frozen=True)
class PipelineConfig:
    """Who submits what, and how patiently: seconds between polls, a deadline (0: none), retries."""

    kit: str
    user: str
    job_folder: str
    registry: Path
    poll_interval: float = 60.0
    deadline: float = 0.0
    retries: int = 3


@dataclass
class PipelineResult:
    """What happened: the job, its last status, the statuses seen in order, and the published model."""

    job_id: str
    status: str
    statuses: list[str] = field(default_factory=list)
    published: Optional[Path] = None


Notify = Callable[[str], None]


def run_training(config: PipelineConfig, notify: Notify) -> PipelineResult:
    """Run one training job end to end; ``notify`` receives warnings and alerts (a chat hook in production)."""
    try:
        with new_secure_session(config.user, config.kit) as session:
            job_id = session.submit_job(config.job_folder)
            result = PipelineResult(job_id=job_id, status="SUBMITTED")
            code = _monitor(session, result, config, notify)
            if code is MonitorReturnCode.TIMEOUT:
                session.abort_job(job_id)
                result.status = session.get_job_meta(job_id)["status"]
                notify(f"ALERT: training job {job_id} missed its deadline and was aborted ({result.status})")
                return result
            result.status = session.get_job_meta(job_id)["status"]
            if result.status != COMPLETED:
                notify(f"ALERT: training job {job_id} ended {result.status}")
                return result
            result.published = _publish(session, job_id, config.registry)
            return result
    except PipelineError:
        raise
    except FlareError as error:
        notify(f"ALERT: the pipeline failed: {type(error).__name__}: {error}")
        raise PipelineError(str(error)) from error


def _monitor(session: Session, result: PipelineResult, config: PipelineConfig, notify: Notify) -> MonitorReturnCode:
    """``monitor_job`` with retries on transient connection failures; records every status change."""

    def progress(_session: Session, _job_id: str, meta: dict[str, Any], *_: Any) -> bool:
        status = meta["status"]
        if not result.statuses or result.statuses[-1] != status:
            result.statuses.append(status)
        return True

    for attempt in range(config.retries + 1):
        try:
            return session.monitor_job(
                result.job_id, timeout=config.deadline, poll_interval=config.poll_interval, cb=progress
            )
        except (ConnectionLost, ProtocolError) as error:
            if attempt == config.retries:
                notify(f"ALERT: gave up monitoring job {result.job_id} after {attempt + 1} failures: {error}")
                raise PipelineError(f"monitoring job {result.job_id} failed: {error}") from error
            notify(f"warning: monitoring job {result.job_id} interrupted ({type(error).__name__}); retrying")
    raise AssertionError("unreachable")


def _publish(session: Session, job_id: str, registry: Path) -> Path:
    """Download the job's result and copy its global model into the registry as ``<job_id>.npy``."""
    downloaded = Path(session.download_job_result(job_id))
    model = downloaded / MODEL_PATH
    if not model.is_file():
        raise PipelineError(f"job {job_id} finished without a global model at {MODEL_PATH}")
    registry.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(model, registry / f"{job_id}.npy"))
