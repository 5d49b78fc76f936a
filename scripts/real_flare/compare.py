"""Differential check: the same admin command lines against a REAL FLARE 2.3 server and the fake.

For each line, the raw reply document (``Session.do_command(line, raise_errors=False)``) is taken from
both servers, normalized (job ids, UUIDs, tokens, times, durations, workspace paths, memory figures
and other run-specific values become placeholders), and diffed.

Job-specific lines use two job states created the same way on both sides:
  {FIN}  a finished (FINISHED:COMPLETED) hello-numpy job
  {RUN}  a RUNNING slow-numpy job (real: really running; fake: scripted with JobScript.hangs())

Usage (the real deployment running, jobs from make_jobs.py):

    python scripts/real_flare/compare.py --prod /tmp/realflare/workspace/realflare/prod_00 \
        --jobs /tmp/realflare/jobs --out /tmp/realflare/compare

Writes <out>/real.json, <out>/fake.json (normalized replies) and <out>/diff.txt; prints the diff.
Exit status 0 whether or not replies differ (differences are findings, not errors).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from fakeserver import FakeFlareServer, JobScript
from flare_api import Session, VirtualClock, new_secure_session

#: (user, line) pairs; {FIN}/{RUN} are replaced by the job ids of each side.
LINES: list[tuple[str, str]] = [
    ("admin@nvidia.com", "check_status server"),
    ("admin@nvidia.com", "check_status client"),
    ("admin@nvidia.com", "check_status client site-1"),
    ("admin@nvidia.com", "check_status client nope"),
    ("admin@nvidia.com", "check_status all"),
    ("admin@nvidia.com", "check_status"),
    ("admin@nvidia.com", "list_jobs"),
    ("admin@nvidia.com", "list_jobs -d"),
    ("admin@nvidia.com", "list_jobs -r -m 1"),
    ("admin@nvidia.com", "list_jobs -n hello"),
    ("admin@nvidia.com", "list_jobs -n nothing-matches"),
    ("admin@nvidia.com", "list_jobs {FIN8}"),
    ("admin@nvidia.com", "list_jobs -m abc"),
    ("admin@nvidia.com", "list_jobs -x"),
    ("admin@nvidia.com", "get_job_meta {FIN}"),
    ("admin@nvidia.com", "get_job_meta {RUN}"),
    ("admin@nvidia.com", "get_job_meta nope"),
    ("admin@nvidia.com", "get_job_meta"),
    ("admin@nvidia.com", "nope"),
    ("admin@nvidia.com", "job_mgmt.list_jobs -m 1"),
    ("admin@nvidia.com", "show_stats {RUN} server"),
    ("admin@nvidia.com", "show_stats {RUN} client"),
    ("admin@nvidia.com", "show_stats {RUN} client site-1"),
    ("admin@nvidia.com", "show_errors {RUN} server"),
    ("admin@nvidia.com", "show_errors {RUN} client"),
    ("admin@nvidia.com", "show_stats {FIN} server"),
    ("admin@nvidia.com", "show_stats nope server"),
    ("admin@nvidia.com", "show_stats {RUN} bogus"),
    ("admin@nvidia.com", "show_scopes server"),
    ("admin@nvidia.com", "ls server"),
    ("admin@nvidia.com", "ls site-1"),
    ("admin@nvidia.com", "ls site-1 nope-file"),
    ("admin@nvidia.com", "ls nope"),
    ("admin@nvidia.com", "pwd site-1"),
    ("admin@nvidia.com", "pwd server"),
    ("admin@nvidia.com", "cat server nope.txt"),
    ("admin@nvidia.com", "cat server ../x"),
    ("admin@nvidia.com", "head site-1 -n 0 log.txt"),
    ("admin@nvidia.com", "tail server -n 1 startup/fed_server.json"),
    ("admin@nvidia.com", "grep server -x foo log.txt"),
    ("admin@nvidia.com", "sys_info server"),
    ("admin@nvidia.com", "sys_info client site-1"),
    ("admin@nvidia.com", "report_resources server"),
    ("admin@nvidia.com", "report_resources client"),
    ("admin@nvidia.com", "_commands"),
    ("admin@nvidia.com", "cells"),
    ("admin@nvidia.com", "set_timeout 5"),
    ("admin@nvidia.com", "set_timeout abc"),
    ("admin@nvidia.com", "set_timeout 10"),
    ("admin@nvidia.com", "restart all"),
    ("admin@nvidia.com", "shutdown all"),
    ("admin@nvidia.com", "remove_client nope"),
    ("admin@nvidia.com", "abort_job {FIN}"),
    ("admin@nvidia.com", "delete_job {RUN}"),
    ("admin@nvidia.com", "clone_job nope"),
    ("admin@nvidia.com", "start_app {RUN} server"),
    ("member@nvidia.com", "list_jobs -m 1"),
    ("member@nvidia.com", "abort_job {FIN}"),
    ("member@nvidia.com", "ls server"),
    ("member@nvidia.com", "sys_info server"),
    ("member@nvidia.com", "show_stats {RUN} server"),
    ("member@nvidia.com", "show_stats {RUN} client"),
    ("member@nvidia.com", "report_resources client"),
    ("member@nvidia.com", "restart client site-1"),
    ("member@nvidia.com", "shutdown client site-2"),
    ("member@nvidia.com", "remove_client site-2"),
    ("lead@other.org", "ls site-1"),
    ("lead@other.org", "clone_job {FIN}"),
    # more probes: list/meta edge cases, workspace files, cellnet and hidden commands
    ("admin@nvidia.com", "list_jobs -u"),
    ("admin@nvidia.com", "list_jobs -d -m 1 {FIN8}"),
    ("admin@nvidia.com", "get_job_meta {FIN} extra"),
    ("admin@nvidia.com", "show_errors {FIN} server"),
    ("admin@nvidia.com", "check_status client site-1 site-1"),
    ("admin@nvidia.com", "ls server local"),
    ("admin@nvidia.com", "ls site-1 local startup"),
    ("admin@nvidia.com", "cat server local/authorization.json.default"),
    ("admin@nvidia.com", "ls server /etc"),
    ("admin@nvidia.com", "grep site-1"),
    ("admin@nvidia.com", "tail server -f log.txt"),
    ("admin@nvidia.com", "pwd site-9"),
    ("admin@nvidia.com", "show_scopes all"),
    ("admin@nvidia.com", "admin_check_status server"),
    ("admin@nvidia.com", "_check_session"),
    ("admin@nvidia.com", "list_sessions"),
    ("admin@nvidia.com", "delete_workspace {FIN}"),
    ("admin@nvidia.com", "dead nope"),
    ("admin@nvidia.com", "conns server"),
    ("admin@nvidia.com", "peers server"),
    ("admin@nvidia.com", "route site-1"),
    ("admin@nvidia.com", "url_use nope"),
    ("admin@nvidia.com", "list_pools server"),
    ("admin@nvidia.com", "show_config_vars server"),
    ("admin@nvidia.com", "show_comm_config server"),
    ("admin@nvidia.com", "process_info server"),
    ("admin@nvidia.com", "abort_task {RUN}"),  # last: it interrupts the running task
]

#: Run after {RUN} has been aborted and the engine is idle again.
LINES_AFTER_ABORT: list[tuple[str, str]] = [
    ("admin@nvidia.com", "get_job_meta {RUN}"),
    ("admin@nvidia.com", "check_status server"),
    ("admin@nvidia.com", "check_status client"),
    ("admin@nvidia.com", "show_stats {RUN} server"),
    ("admin@nvidia.com", "abort_job {RUN}"),
    ("admin@nvidia.com", "cells"),
    ("member@nvidia.com", "restart client site-1"),
    ("member@nvidia.com", "restart server"),
    ("member@nvidia.com", "report_resources client"),
    ("member@nvidia.com", "delete_job {RUN}"),
    ("lead@other.org", "restart client site-1"),
]

#: Lines whose table values are machine facts (memory, CPU, platform): only the keys are compared.
VALUE_BLIND = ("sys_info",)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2})?")
ASCTIME = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d "
    r"\d{2}:\d{2}:\d{2} \d{4}"
)
DURATION = re.compile(r"\b\d+:\d{2}:\d{2}(?:\.\d+)?\b")
SHORT_DATE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d (?:\d{2}:\d{2}|\d{4})\b")
EMBEDDED_TS = re.compile(
    r'("(?:submit_time|last_schedule_time|server_start_time|client_last_conn_time)": )'
    r"\d+(?:\.\d+)?"
)
TIME_KEYS = {
    "server_start_time",
    "client_last_conn_time",
    "submit_time",
    "last_schedule_time",
    "time",
    "start_time",
    "duration",
}


class Normalizer:
    def __init__(self, names: dict[str, str], paths: dict[str, str]) -> None:
        self.names = names  # concrete job id -> placeholder
        self.paths = paths  # absolute path -> placeholder (longest first)

    def text(self, value: str) -> str:
        for path, label in sorted(self.paths.items(), key=lambda kv: -len(kv[0])):
            value = value.replace(path, label)
        for job_id, label in self.names.items():
            value = value.replace(job_id, label)
            value = value.replace(job_id[:8], label + "[:8]")
        value = EMBEDDED_TS.sub(r"\1<TS>", value)
        value = UUID.sub("<UUID>", value)
        value = ISO.sub("<DATETIME>", value)
        value = ASCTIME.sub("<ASCTIME>", value)
        value = SHORT_DATE.sub("<LSDATE>", value)
        value = DURATION.sub("<DURATION>", value)
        value = re.sub(r"tcp://localhost:\d+", "tcp://localhost:<PORT>", value)
        value = re.sub(r"grpc://0:\d+", "grpc://0:<FLPORT>", value)
        return value

    def any(self, value: Any, key: Optional[str] = None) -> Any:
        if key in TIME_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            return "<TS>"
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.any(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.any(v, str(k)) for k, v in value.items()}
        return value


def blind_values(doc: Any) -> Any:
    """Tables of machine facts: keep the header and the first column (the keys), blank the values."""
    for item in doc.get("data", []):
        if item.get("type") == "table" and item.get("rows"):
            header, *rows = item["rows"]
            item["rows"] = [header] + [row[:1] + ["<V>"] * (len(row) - 1) for row in rows]
    return doc


def wait_status(get: Callable[[], str], wanted: Callable[[str], bool], deadline: float) -> str:
    end = time.monotonic() + deadline
    status = ""
    while time.monotonic() < end:
        status = get()
        if wanted(status):
            return status
        time.sleep(1.0)
    raise RuntimeError(f"status still {status} after {deadline}s")


def capture(
    sessions: dict[str, Session], ids: dict[str, str], norm: Normalizer, lines: list[tuple[str, str]], phase: str = ""
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for user, template in lines:
        line = template.format(FIN=ids["FIN"], RUN=ids["RUN"], FIN8=ids["FIN"][:8])
        key = f"{phase}{user}: {template}"
        try:
            reply = sessions[user].do_command(line, raise_errors=False)
        except Exception as exc:  # the client itself refused or failed
            reply = {"client_exception": f"{type(exc).__name__}: {exc}"}
        reply = norm.any(reply)
        if template.startswith(VALUE_BLIND) and "data" in reply:
            reply = blind_values(reply)
        out[key] = reply
    return out


def run_real(prod: Path, jobs: Path) -> dict[str, Any]:
    users = {user for user, _ in LINES}
    sessions = {u: new_secure_session(u, str(prod / u)) for u in users}
    admin = sessions["admin@nvidia.com"]
    try:
        for job in admin.list_jobs():  # start from an empty job store, like the fake
            if not job["status"].startswith("FINISHED"):
                admin.abort_job(job["job_id"])
                wait_status(
                    lambda j=job: admin.get_job_meta(j["job_id"])["status"], lambda s: s.startswith("FINISHED"), 60
                )
            admin.delete_job(job["job_id"])
        wait_status(lambda: admin.get_system_info().server_info.status, lambda s: s == "stopped", 60)
        fin = admin.submit_job(str(jobs / "hello-numpy"))
        wait_status(lambda: admin.get_job_meta(fin)["status"], lambda s: s.startswith("FINISHED"), 300)
        # FLARE keeps a finished job in its runner a few seconds; wait until the engine is idle
        wait_status(lambda: admin.get_system_info().server_info.status, lambda s: s == "stopped", 60)
        run = admin.submit_job(str(jobs / "slow-numpy"))
        wait_status(lambda: admin.get_job_meta(run)["status"], lambda s: s == "RUNNING", 60)
        time.sleep(5)  # a round is under way on both sites
        paths = {
            str(prod / "localhost"): "<SERVER_WS>",
            str(prod / "site-1"): "<SITE1_WS>",
            str(prod / "site-2"): "<SITE2_WS>",
            str(prod): "<PROD>",
        }
        norm = Normalizer({fin: "<FIN>", run: "<RUN>"}, paths)
        result = capture(sessions, {"FIN": fin, "RUN": run}, norm, LINES)
        admin.abort_job(run)
        wait_status(lambda: admin.get_job_meta(run)["status"], lambda s: s.startswith("FINISHED"), 60)
        wait_status(lambda: admin.get_system_info().server_info.status, lambda s: s == "stopped", 60)
        time.sleep(2)  # the job's cells go away a little after the engine reports stopped
        result.update(capture(sessions, {"FIN": fin, "RUN": run}, norm, LINES_AFTER_ABORT, "after abort: "))
        return result
    finally:
        for s in sessions.values():
            s.close()


def run_fake(jobs: Path) -> dict[str, Any]:
    clock = VirtualClock()
    with FakeFlareServer(clock=clock) as server:
        server.jobs.script(JobScript.completes(after=15, rounds=3), name="hello-numpy")
        server.jobs.script(JobScript.hangs(rounds=50), name="slow-numpy")
        users = {user for user, _ in LINES}
        sessions = {u: server.session(u) for u in users}
        admin = sessions["admin@nvidia.com"]
        try:
            fin = admin.submit_job(str(jobs / "hello-numpy"))
            server.jobs.run_to_completion(fin)
            clock.advance(10)
            run = admin.submit_job(str(jobs / "slow-numpy"))
            server.jobs.advance_to(run, "RUNNING")
            clock.advance(5)
            paths = {
                str(server.sites.workspace("server")): "<SERVER_WS>",
                str(server.sites.workspace("site-1")): "<SITE1_WS>",
                str(server.sites.workspace("site-2")): "<SITE2_WS>",
            }
            norm = Normalizer({fin: "<FIN>", run: "<RUN>"}, paths)
            result = capture(sessions, {"FIN": fin, "RUN": run}, norm, LINES)
            admin.abort_job(run)
            clock.advance(5)
            result.update(capture(sessions, {"FIN": fin, "RUN": run}, norm, LINES_AFTER_ABORT, "after abort: "))
            server.raise_errors()
            return result
        finally:
            for s in sessions.values():
                s.close()


def render(doc: Any) -> list[str]:
    return json.dumps(doc, indent=1, sort_keys=True).splitlines()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prod", default="/tmp/realflare/workspace/realflare/prod_00")
    parser.add_argument("--jobs", default="/tmp/realflare/jobs")
    parser.add_argument("--out", default="/tmp/realflare/compare")
    parser.add_argument("--real-json", help="reuse a captured real.json instead of asking the real server")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.real_json:
        real = json.loads(Path(args.real_json).read_text())
    else:
        real = run_real(Path(args.prod), Path(args.jobs))
    (out / "real.json").write_text(json.dumps(real, indent=1, sort_keys=True))
    fake = run_fake(Path(args.jobs))
    (out / "fake.json").write_text(json.dumps(fake, indent=1, sort_keys=True))
    lines_out: list[str] = []
    same = 0
    for key in real:
        a, b = render(real[key]), render(fake.get(key))
        if a == b:
            same += 1
            continue
        lines_out.append(f"=== {key}")
        lines_out += list(difflib.unified_diff(a, b, "real", "fake", n=2, lineterm=""))
        lines_out.append("")
    lines_out.append(f"{same} of {len(real)} lines identical after normalization; {len(real) - same} differ")
    text = "\n".join(lines_out)
    (out / "diff.txt").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
