"""The files FLARE 2.4+ servers add to a job's run workspace, so to the ``workspace.zip`` of its download.

Measured on real 2.4.2, 2.5.2 and 2.6.3 deployments (``session: download_job_result`` in
scripts/real_flare_socket/captures): 2.4+ dump the cell's stats pools to ``stats_pool_summary.json`` at the end
of a run; 2.6's logging config adds ``log.json`` (each ``log.txt`` record as JSON), ``log_fl.txt`` (the records
with an FL context), ``log_error.txt`` (ERROR and above) and the run's own ``audit.log``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ..protocol.versions import FlareVersion

__all__ = ["LOG_FILES_26", "STATS_SUMMARY", "run_files", "stats_pool_summary"]

STATS_SUMMARY = "stats_pool_summary.json"
LOG_FILES_26 = ("audit.log", "log.json", "log_error.txt", "log_fl.txt")
#: ``<asctime> - <name> - <levelname> - [<fl_ctx>]<sep><message>``: the fake's ``log.txt`` lines.
_RECORD = re.compile(r"^(?P<asctime>.+?) - (?P<name>\S+) - (?P<level>[A-Z]+) - (?P<ctx>\[[^\]]*\])?[: -]*(?P<msg>.*)$")
_ERROR_LEVELS = ("ERROR", "CRITICAL")


def stats_pool_summary(pools: Mapping[str, tuple[str, str]]) -> bytes:
    """``StatsPoolManager.dump_summary``'s layout (type, then the pool's name, description and no samples)."""
    summary: dict[str, object] = {}
    for name, (kind, description) in sorted(pools.items()):
        pool: dict[str, object] = {"name": name, "description": description}
        pool.update({"counter_names": []} if kind == "counter" else {"marks": [], "unit": ""})
        pool["cat_data"] = {}
        summary[name] = {"type": kind, "pool": pool}
    return json.dumps(summary, indent=4).encode("utf-8")


def _log_files_26(log_text: str) -> dict[str, bytes]:
    records, fl_lines, error_lines = [], [], []
    for line in log_text.splitlines():
        match = _RECORD.match(line)
        if match is None:
            continue
        ctx = match["ctx"] or ""
        records.append(
            json.dumps(
                {
                    "asctime": match["asctime"],
                    "name": match["name"],
                    "fullName": match["name"],
                    "levelname": match["level"],
                    "fl_ctx": ctx,
                    "message": match["msg"],
                }
            )
        )
        if ctx:
            fl_lines.append(line)
        if match["level"] in _ERROR_LEVELS:
            error_lines.append(line)
    text = {
        "audit.log": "",  # the fake models no task events, which are what a run's audit log records
        "log.json": "".join(r + "\n" for r in records),
        "log_error.txt": "".join(line + "\n" for line in error_lines),
        "log_fl.txt": "".join(line + "\n" for line in fl_lines),
    }
    return {name: data.encode("utf-8") for name, data in text.items()}


def run_files(
    version: FlareVersion, workspace: Mapping[str, bytes], pools: Mapping[str, tuple[str, str]]
) -> dict[str, bytes]:
    """The run workspace as a server of ``version`` leaves it: ``workspace`` (2.3's files) plus the series'
    additions; an empty workspace (the job never ran) stays empty."""
    files = dict(workspace)
    if not files or version < FlareVersion.V2_4:
        return files
    files[STATS_SUMMARY] = stats_pool_summary(pools)
    if version >= FlareVersion.V2_6:
        files.update(_log_files_26(files.get("log.txt", b"").decode("utf-8", "replace")))
    return files
