"""Differential check for FLARE 2.4-2.6: the same command lines and Session calls against a REAL server and the fake.

Both sides are driven by the REAL nvflare client of the deployment's version (not ours), so a difference is a
server difference. Per side it records: the raw ``_commands`` table, the raw reply document of every line of
scripts/real_flare/compare.py's LINES plus the 2.4-2.6 additions (``api.server_execute(line)``: no client-side
checks), and what each Session call returns or raises (class and message). Values are normalized (job ids,
UUIDs, times, paths) with the 2.3 script's Normalizer.

Usage (the real deployment running, jobs from scripts/real_flare/make_jobs.py):

    RF_NVFLARE=2.6.3 source scripts/real_flare_socket/env.sh
    python scripts/real_flare_socket/compare.py --prod $RF_PROD --jobs $RF_ROOT/jobs --out $RF_ROOT/compare \
        --flare-version $RF_FLARE_VERSION

Writes <out>/real.json, <out>/fake.json, <out>/classes.json (identical / moment-dependent / different per check)
and <out>/diff.txt; ``--real-json`` reuses a capture, ``--real-only``
skips the fake. Exit status 0 whether or not replies differ (differences are findings, not errors).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "real_flare"))
from compare import (  # the 2.3 script: its lines and normalizer
    LINES,
    LINES_AFTER_ABORT,
    VALUE_BLIND,
    Normalizer,
    blind_values,
    render,
    wait_status,
)
from differential import coarse  # the 2.3 broad differential's moment-blind form

ADMIN = "admin@nvidia.com"

#: 2.4-2.6 additions to the 2.3 lines ({FIN}/{RUN} are each side's job ids).
EXTRA_LINES: list[tuple[str, str]] = [
    (ADMIN, "report_env"),
    (ADMIN, "report_env site-1"),
    (ADMIN, "report_env site-9"),
    (ADMIN, "show_stats {RUN} all"),
    (ADMIN, "show_errors {RUN} all"),
    (ADMIN, "reset_errors {RUN} all"),
    (ADMIN, "reset_errors {FIN} all"),
    (ADMIN, "show_stats {FIN} client"),
    (ADMIN, "check_status client site-9"),
    (ADMIN, "get_job_meta not-a-uuid"),
    (ADMIN, "get_job_meta 00000000-0000-4000-8000-000000000000"),
    (ADMIN, "download_job 00000000-0000-4000-8000-000000000000"),
    (ADMIN, "download_job_file nope"),
    (ADMIN, "app_command {RUN} topic"),
    (ADMIN, "app_command {FIN} topic"),
    (ADMIN, "app_command {RUN}"),
    (ADMIN, "list_job {FIN}"),
    (ADMIN, "list_job 00000000-0000-4000-8000-000000000000"),
    (ADMIN, "download_job_components {FIN}"),
    (ADMIN, "download_job_components 00000000-0000-4000-8000-000000000000"),
    (ADMIN, "configure_site_log server concise"),
    (ADMIN, "configure_job_log {RUN} server concise"),
    (ADMIN, "configure_job_log {FIN} server concise"),
    (ADMIN, "shutdown server"),
    (ADMIN, "restart server"),
    ("member@nvidia.com", "report_env"),
    ("member@nvidia.com", "app_command {RUN} topic"),
    ("member@nvidia.com", "list_job {FIN}"),
    ("member@nvidia.com", "admin_check_status server"),
    ("member@nvidia.com", "download_job {FIN}"),
]


CLASSES = ("identical", "moment-dependent", "different")


def classify(key: str, real: Any, fake: Any) -> str:
    """identical; moment-dependent (equal in the 2.3 differential's moment-blind form: digits, log lines, run
    states and ``ls`` order collapsed); or different."""
    if render(real) == render(fake):
        return "identical"
    line = key.split(": ")[-1]
    return "moment-dependent" if coarse(real, line) == coarse(fake, line) else "different"


def _outcome(fn: Callable[[], Any]) -> Any:
    try:
        return {"returned": fn()}
    except Exception as exc:  # what the real client raises is the finding
        return {"raised": f"{type(exc).__name__}: {exc}"}


def session_calls(session: Any, ids: dict[str, str], download: Path) -> dict[str, Callable[[], Any]]:
    """Session methods and their arguments; the download ones return the layout, not the absolute path."""
    fin, run = ids["FIN"], ids["RUN"]
    missing = "00000000-0000-4000-8000-000000000000"

    def layout(location: Any) -> Any:
        if not location:
            return location
        root = Path(location)
        return {
            "where": str(root.relative_to(download)) if root.is_relative_to(download) else "<elsewhere>",
            "files": sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())[:40],
        }

    calls: dict[str, Callable[[], Any]] = {
        "get_job_meta(FIN).status": lambda: session.get_job_meta(fin)["status"],
        "get_job_meta(not-a-job-id)": lambda: session.get_job_meta("not-a-job-id"),
        "get_job_meta(missing)": lambda: session.get_job_meta(missing),
        "list_jobs(name_prefix=hello)": lambda: [j["job_name"] for j in session.list_jobs(name_prefix="hello")],
        "get_client_job_status()": lambda: sorted(session.get_client_job_status()[0].keys()),
        "get_client_job_status(site-9)": lambda: session.get_client_job_status(["site-9"]),
        "get_connected_client_list()": lambda: [c.name for c in session.get_connected_client_list()],
        "get_client_env()": lambda: [sorted(c.keys()) for c in session.get_client_env()],
        "get_client_env(site-9)": lambda: session.get_client_env(["site-9"]),
        "show_stats(FIN, server)": lambda: session.show_stats(fin, "server"),
        "show_stats(RUN, server) keys": lambda: sorted(session.show_stats(run, "server")),
        "show_stats(RUN, client) keys": lambda: sorted(session.show_stats(run, "client")),
        "show_errors(RUN, client)": lambda: session.show_errors(run, "client"),
        "reset_errors(RUN)": lambda: session.reset_errors(run),
        "ls_target(server, options=-x)": lambda: session.ls_target("server", options="-x"),
        "cat_target(site-9, file=x)": lambda: session.cat_target("site-9", file="x"),
        "download_job_result(FIN)": lambda: layout(session.download_job_result(fin)),
        "download_job_result(FIN) again": lambda: layout(session.download_job_result(fin)),
        "download_job_result(missing)": lambda: session.download_job_result(missing),
        "clone_job(missing)": lambda: session.clone_job(missing),
        "delete_job(RUN)": lambda: session.delete_job(run),
        "shutdown(client, site-9)": lambda: session.shutdown("client", ["site-9"]),
        "shutdown(server)": lambda: session.shutdown("server"),
    }
    if hasattr(session, "do_app_command"):
        calls["do_app_command(RUN, topic, {})"] = lambda: session.do_app_command(run, "topic", {"a": 1})
        calls["do_app_command(FIN, topic, {})"] = lambda: session.do_app_command(fin, "topic", {"a": 1})
    if hasattr(session, "list_job_components"):
        calls["list_job_components(FIN)"] = lambda: session.list_job_components(fin)
        calls["list_job_components(missing)"] = lambda: session.list_job_components(missing)
        calls["download_job_components(FIN)"] = lambda: layout(session.download_job_components(fin))
        calls["download_job_components(missing)"] = lambda: session.download_job_components(missing)
    return calls


def capture(
    sessions: dict[str, Any], ids: dict[str, str], norm: Normalizer, lines: list[tuple[str, str]], phase: str = ""
) -> dict[str, Any]:
    """Raw reply documents: ``api.server_execute`` sends the line as is (no client-side command lookup)."""
    out: dict[str, Any] = {}
    for user, template in lines:
        line = template.format(FIN=ids["FIN"], RUN=ids["RUN"], FIN8=ids["FIN"][:8])
        try:
            reply = sessions[user].api.server_execute(line)
        except Exception as exc:
            reply = {"client_exception": f"{type(exc).__name__}: {exc}"}
        reply = norm.any(reply)
        if template.startswith(VALUE_BLIND) and "data" in reply:
            reply = blind_values(reply)
        out[f"{phase}{user}: {template}"] = reply
    return out


def capture_calls(session: Any, ids: dict[str, str], norm: Normalizer, download: Path) -> dict[str, Any]:
    return {f"session: {name}": norm.any(_outcome(fn)) for name, fn in session_calls(session, ids, download).items()}


def exercise(
    sessions: dict[str, Any],
    jobs: Path,
    download: Path,
    paths: dict[str, str],
    finish: Callable[[str], None],
    start_running: Callable[[str], None],
    settle: Callable[[str], None],
) -> dict[str, Any]:
    """The same story on either side: a finished job, a running job, the lines, abort, the after-abort lines."""
    admin = sessions[ADMIN]
    table = admin.api.server_execute("_commands")
    fin = admin.submit_job(str(jobs / "hello-numpy"))
    finish(fin)
    run = admin.submit_job(str(jobs / "slow-numpy"))
    start_running(run)
    ids = {"FIN": fin, "RUN": run}
    norm = Normalizer({fin: "<FIN>", run: "<RUN>"}, paths)
    result: dict[str, Any] = {"_commands rows": sorted(map(json.dumps, table["data"][0]["rows"]))}
    result.update(capture(sessions, ids, norm, LINES + EXTRA_LINES))
    admin.abort_job(run)
    settle(run)
    result.update(capture(sessions, ids, norm, LINES_AFTER_ABORT, "after abort: "))
    result.update(capture_calls(admin, ids, norm, download))
    return result


def new_sessions(flare_api: Any, kits: Callable[[str], str]) -> dict[str, Any]:
    users = {user for user, _ in LINES + EXTRA_LINES + LINES_AFTER_ABORT}
    return {u: flare_api.new_secure_session(u, kits(u), timeout=30.0) for u in users}


def run_real(flare_api: Any, prod: Path, jobs: Path) -> dict[str, Any]:
    sessions = new_sessions(flare_api, lambda u: str(prod / u))
    admin = sessions[ADMIN]

    def job_status(job_id: str) -> str:
        return str(admin.get_job_meta(job_id)["status"])

    def server_idle() -> None:
        wait_status(lambda: admin.get_system_info().server_info.status, lambda s: s == "stopped", 60)

    try:
        for job in admin.list_jobs():  # start from an empty job store, like the fake
            if not job["status"].startswith("FINISHED"):
                admin.abort_job(job["job_id"])
                wait_status(lambda j=job: job_status(j["job_id"]), lambda s: s.startswith("FINISHED"), 60)
            admin.delete_job(job["job_id"])
        server_idle()
        shutil.rmtree(prod / ADMIN / "transfer", ignore_errors=True)

        def finish(job_id: str) -> None:
            wait_status(lambda: job_status(job_id), lambda s: s.startswith("FINISHED"), 300)
            server_idle()  # FLARE keeps a finished job in its runner a few seconds

        def start_running(job_id: str) -> None:
            wait_status(lambda: job_status(job_id), lambda s: s == "RUNNING", 120)
            time.sleep(5)  # a round is under way on both sites

        def settle(job_id: str) -> None:
            wait_status(lambda: job_status(job_id), lambda s: s.startswith("FINISHED"), 60)
            server_idle()
            time.sleep(2)  # the job's cells go away a little after the engine reports stopped

        paths = {
            str(prod / "localhost"): "<SERVER_WS>",
            str(prod / "site-1"): "<SITE1_WS>",
            str(prod / "site-2"): "<SITE2_WS>",
            str(prod): "<PROD>",
        }
        return exercise(sessions, jobs, prod / ADMIN / "transfer", paths, finish, start_running, settle)
    finally:
        for s in sessions.values():
            s.close()


def run_fake(flare_api: Any, jobs: Path, flare_version: str, fl_port: int, admin_port: int) -> dict[str, Any]:
    """The fake of ``flare_version`` with the real deployment's project name and ports (project.yml, env.sh)."""
    import dataclasses

    from fakeserver import FakeFlareServer, JobScript
    from fakeserver.model.project import DEFAULT_PROJECT
    from flare_api import VirtualClock

    clock = VirtualClock()
    workspace = Path(tempfile.mkdtemp(prefix="compare-fake-"))
    project = dataclasses.replace(DEFAULT_PROJECT, name="realflare", fl_port=fl_port, admin_port=admin_port)
    server = FakeFlareServer(
        workspace=workspace, clock=clock, intercept=False, flare_version=flare_version, project=project
    )
    with server:
        server.jobs.script(JobScript.completes(after=15, rounds=3), name="hello-numpy")
        server.jobs.script(JobScript.hangs(rounds=50), name="slow-numpy")
        sessions = new_sessions(flare_api, lambda u: str(server.startup_kit(u)))
        try:

            def finish(job_id: str) -> None:
                server.jobs.run_to_completion(job_id)
                clock.advance(10)

            def start_running(job_id: str) -> None:
                server.jobs.advance_to(job_id, "RUNNING")
                clock.advance(5)

            paths = {
                str(server.sites.workspace("server")): "<SERVER_WS>",
                str(server.sites.workspace("site-1")): "<SITE1_WS>",
                str(server.sites.workspace("site-2")): "<SITE2_WS>",
            }
            download = Path(server.startup_kit(ADMIN)) / "transfer"
            result = exercise(sessions, jobs, download, paths, finish, start_running, lambda _job_id: clock.advance(5))
            server.raise_errors()
            return result
        finally:
            for s in sessions.values():
                s.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prod", default="/tmp/realflare26/workspace/realflare/prod_00")
    parser.add_argument("--jobs", default="/tmp/realflare26/jobs")
    parser.add_argument("--out", default="/tmp/realflare26/compare")
    parser.add_argument("--flare-version", default="2.6", help="the fake's flare_version")
    parser.add_argument("--fl-port", type=int, default=int(os.environ.get("RF_FL_PORT", "8202")))
    parser.add_argument("--admin-port", type=int, default=int(os.environ.get("RF_ADMIN_PORT", "8203")))
    parser.add_argument("--real-json", help="reuse a captured real.json instead of asking the real server")
    parser.add_argument("--real-only", action="store_true", help="capture the real server only")
    args = parser.parse_args()
    from nvflare.fuel.flare_api import flare_api

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.real_json:
        real = json.loads(Path(args.real_json).read_text())
    else:
        real = run_real(flare_api, Path(args.prod), Path(args.jobs))
        (out / "real.json").write_text(json.dumps(real, indent=1, sort_keys=True))
    if args.real_only:
        return 0
    fake = run_fake(flare_api, Path(args.jobs), args.flare_version, args.fl_port, args.admin_port)
    (out / "fake.json").write_text(json.dumps(fake, indent=1, sort_keys=True))
    lines_out: list[str] = []
    classes = {key: classify(key, real[key], fake.get(key)) for key in real}
    for key in real:
        if classes[key] == "identical":
            continue
        lines_out.append(f"=== [{classes[key]}] {key}")
        lines_out += list(
            difflib.unified_diff(render(real[key]), render(fake.get(key)), "real", "fake", n=2, lineterm="")
        )
        lines_out.append("")
    counts = Counter(classes.values())
    total = len(real)
    lines_out.append(
        f"{counts['identical']} of {total} checks identical after normalization; "
        + "; ".join(f"{counts[c]} {c} ({100 * counts[c] / total:.1f}%)" for c in CLASSES)
    )
    (out / "classes.json").write_text(json.dumps(classes, indent=1, sort_keys=True))
    text = "\n".join(lines_out)
    (out / "diff.txt").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
