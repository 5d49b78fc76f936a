"""The log lines a FLARE 2.3.12 deployment writes when a job's app does not load (measured, docs/real-flare.md).

Each function returns ``(seconds after the run started, component, level, text)`` rows; the caller stamps
and writes them. ``location`` is the config file's path as the participant opened it
(``<workspace>/startup/../<job_id>/app_<target>/config/<file>``).
"""

from __future__ import annotations

from .jobs import DEAD_JOB_FIRST_REPORT, DEAD_JOB_REPORT_INTERVAL
from .loadable import LoadFailure

Row = tuple[float, str, str, str]


def config_location(workspace: str, job_id: str, failure: LoadFailure) -> str:
    return f"{workspace}/startup/../{job_id}/app_{failure.target}/config/{failure.config_file}"


def _traceback(exception: str) -> str:
    """``JsonScanner``'s logged traceback, cut to its first and last line (the frames are the real install's)."""
    return f"Traceback (most recent call last):\n{exception}\n"


def job_process_rows(failure: LoadFailure, location: str) -> list[Row]:
    """What the failing participant's job process logs into its run folder's ``log.txt`` as it starts."""
    error = f"ConfigError: {failure.config_error(location)}"
    if failure.on_server:
        return [
            (0.0, "runner_process", "INFO", "Runner_process started."),
            (0.1, "JsonScanner", "ERROR", _traceback(failure.exception)),
            (0.1, "runner_process", "ERROR", f"FL server execution exception: {error}"),
            (0.1, "FederatedServer", "INFO", "Server app stopped."),
            (1.6, "MPM", "INFO", "MPM: Good Bye!"),
        ]
    return [
        (0.0, "worker_process", "INFO", "Worker_process started."),
        (0.0, "JsonScanner", "ERROR", _traceback(failure.exception)),
        (0.0, "worker_process", "ERROR", f"FL client execution exception: {error}"),
        (0.0, "FederatedClient", "INFO", f"Shutting down client run: {failure.target}"),
        (1.0, "MPM", "INFO", "MPM: Good Bye!"),
    ]


def dead_job_rows(job_id: str, sites: list[str], ran: float) -> list[Row]:
    """The server parent's warnings while sites whose app did not load report the job dead (every 10 s)."""
    rows: list[Row] = []
    when = DEAD_JOB_FIRST_REPORT
    while when < ran:
        for site in sorted(sites, reverse=True):  # observed: site-2's report first
            text = f"notified SJ of dead-job: job_id='{job_id}'; client_name='{site}'; reason='missing job on client'"
            rows.append((when, "ServerEngine", "WARNING", text))
        when += DEAD_JOB_REPORT_INTERVAL
    return rows
