"""Broad differential: the same scripted sessions against a REAL FLARE 2.3.12 deployment and the fake.

Every admin user (project_admin, org_admin, two leads, member) sends the job commands against a job in
each state (submitted, running, finished completed, aborted, failing to load on the server / on the sites / on
one site, deleted, and jobs with other configs, custom or by-name classes and resource specs), every shell
command against the server and both sites, then restart / shutdown flows; and foreign-CA / missing client
certificates are presented to both admin ports. Job progress is driven by waiting for states (bounded
waits), not fixed sleeps.

Each exchange (phase, user, line) is normalized twice: ``fine`` (ids, UUIDs, times, durations,
workspace paths, ports) and ``coarse`` (also every digit, ``starting``/``started``, log-line bodies),
and classified ``identical`` (fine forms equal), ``moment-dependent`` (only the coarse forms equal:
sizes, counts, log contents, client run states that depend on the moment of asking, and the order and
column padding ``ls`` gives folders named by random job ids and files of other sizes) or ``different``.

Usage (real deployment running, jobs from make_jobs.py; run_differential.sh does all of it):

    python scripts/real_flare/differential.py --prod $RF_PROD --jobs $RF_ROOT/jobs --out $RF_ROOT/differential

Writes <out>/real.json, fake.json, classes.json (counts, %, each exchange's class and owner) and
differential.md. Exit status 0 whether or not replies differ (differences are findings, not errors).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import re
import socket
import ssl
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import VALUE_BLIND, Normalizer, blind_values

from fakeserver import FakeFlareServer, JobScript
from fakeserver.model.project import DEFAULT_PROJECT
from flare_api import Session, VirtualClock, new_secure_session

#: The fake's default project with the real deployment's name and ports (project.yml, env.sh).
SAME_PROJECT = dataclasses.replace(DEFAULT_PROJECT, name="realflare", fl_port=8102, admin_port=8103)
USERS = ["admin@nvidia.com", "orgadmin@nvidia.com", "lead@nvidia.com", "lead@other.org", "member@nvidia.com"]
#: Users that may not manage admin@nvidia.com's jobs (default 2.3 policy): they try the job-changing commands.
DENIED = ["lead@nvidia.com", "lead@other.org", "member@nvidia.com"]
TARGETS = ["server", "site-1", "site-2"]

#: Commands on a job {J}, safe for every user in every state.
JOB_LINES = [
    "get_job_meta {J}",
    "list_jobs {J8}",
    "list_jobs -d {J8}",
    "show_stats {J} server",
    "show_stats {J} client",
    "show_errors {J} server",
    "show_errors {J} client",
    "download_job {J} extra",
]
#: Commands that would change the job: only for users the policy refuses (the same on both sides).
DENIED_JOB_LINES = ["abort_job {J}", "delete_job {J}", "clone_job {J}", "abort_task {J}", "start_app {J} client"]
#: Commands that only read, for every user, once per engine state.
SYSTEM_LINES = [
    "check_status server",
    "check_status client",
    "check_status client site-2",
    "list_jobs",
    "list_jobs -m 2",
    "show_scopes all",
    "report_resources client",
    "cells",
]
#: Shell commands, each on the server and both sites ({T}).
SHELL_LINES = [
    "ls {T}",
    "ls {T} -l",
    "ls {T} startup",
    "ls {T} local",
    "pwd {T}",
    "cat {T} readme.txt",
    "cat {T} startup/fed_server.json",
    "cat {T} startup/fed_client.json",
    "cat {T} local/resources.json.default",
    "cat {T} nope.txt",
    "cat {T} ../x",
    "head {T} -n 2 log.txt",
    "tail {T} -n 1 startup/start.sh",
    "grep {T} -c nope log.txt",
    "grep {T} -i xyzzy-nothing log.txt",
    "sys_info client {T}",
]

#: Finished outcomes whose fake side other helpers implement (issue 10): phase prefix -> owner.
OWNERS = {"bad-server-app": "config", "bad-site-app": "config", "gpu-hungry": "sched", "cpu-spec": "sched"}

COARSE_STATUS = re.compile(r"\b(?:not started|starting|started)\b")
#: One log line inside a JSON string: up to the escaped newline or the string's end.
LOG_LINE = re.compile(r'<DATETIME>,\d+ - [\w.]+ - [A-Z]+ - (?:[^"\\]|\\[^n])*')


def _sorted_lines(doc: Any) -> Any:
    """Every multi-line string with its lines sorted (an ``ls`` listing whose order follows random job ids)."""
    if isinstance(doc, dict):
        return {k: _sorted_lines(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_sorted_lines(v) for v in doc]
    if not isinstance(doc, str) or "\n" not in doc:
        return doc
    return "\n".join(sorted(doc.split("\n"), key=lambda line: re.sub(r"\d+", "#", re.sub(r" +", " ", line))))


def coarse(doc: Any, line: str = "") -> str:
    """Moment-blind form (JSON text): log-line bodies, client run states and every digit collapse; for ``ls``
    the order of the lines too (it sorts folders named by random job ids among the file names) and the column
    padding ``ls -l`` derives from the sizes."""
    listing = line.startswith("ls ")
    text = json.dumps(_sorted_lines(doc) if listing else doc, sort_keys=True)
    if listing:
        text = re.sub(r" +", " ", text)  # ls -l pads its columns to the widest size and link count
    text = LOG_LINE.sub("<LOGLINE>", text)
    text = COARSE_STATUS.sub("<RUNSTATE>", text)
    return re.sub(r"\d+", "#", text)


def wait_for(get: Callable[[], Any], wanted: Callable[[Any], bool], deadline: float, what: str) -> Any:
    """Poll ``get`` every half second until ``wanted``; RuntimeError after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    value = None
    while time.monotonic() < end:
        value = get()
        if wanted(value):
            return value
        time.sleep(0.5)
    raise RuntimeError(f"{what}: still {value!r} after {deadline}s")


class Side:
    """One federation (real or fake): sessions per user, job driving, and the reply capture."""

    def __init__(self, sessions: dict[str, Session], paths: dict[str, str]) -> None:
        self.sessions = sessions
        self.admin = sessions["admin@nvidia.com"]
        self.paths = paths
        self.names: dict[str, str] = {}
        self.out: dict[str, Any] = {}
        self.server_log = Path()  # the real server's log.txt

    def label(self, job_id: str, name: str) -> None:
        self.names[job_id] = f"<{name}>"

    def send(self, phase: str, user: str, line: str, key_line: Optional[str] = None) -> None:
        key = f"{phase} | {user} | {key_line or line}"
        try:
            reply: Any = self.sessions[user].do_command(line, raise_errors=False)
        except Exception as exc:  # the client itself refused or failed
            reply = {"client_exception": f"{type(exc).__name__}: {exc}"}
        reply = Normalizer(self.names, self.paths).any(reply)
        if line.startswith(VALUE_BLIND) and isinstance(reply, dict) and "data" in reply:
            reply = blind_values(reply)
        self.out[key] = reply

    def job_round(self, phase: str, job_id: str, name: str) -> None:
        """Every job line for every user, the destructive ones for the refused users."""
        fill = {"J": job_id, "J8": job_id[:8]}
        for user in USERS:
            lines = JOB_LINES + (DENIED_JOB_LINES if user in DENIED else [])
            for template in lines:
                key = template.replace("{J8}", f"<{name}>[:8]").replace("{J}", f"<{name}>")
                self.send(phase, user, template.format(**fill), key)

    def system_round(self, phase: str, users: list[str]) -> None:
        for user in users:
            for line in SYSTEM_LINES:
                self.send(phase, user, line)

    def shell_round(self, phase: str, users: list[str]) -> None:
        for user in users:
            for template in SHELL_LINES:
                for target in TARGETS:
                    if template.startswith("sys_info") and target == "server":
                        line = "sys_info server"
                    else:
                        line = template.format(T=target)
                    self.send(phase, user, line)


# ------------------------------------------------------------------------------------------- scenario
class Driver:
    """How one side gets a job to a state: real waits for it; the fake steps its job store."""

    def submit(self, name: str) -> str:
        raise NotImplementedError

    def until_running(self, job_id: str) -> None:
        raise NotImplementedError

    def until_scheduling_tried(self, job_id: str) -> None:
        raise NotImplementedError

    def until_finished(self, job_id: str) -> None:
        raise NotImplementedError

    def until_idle(self) -> None:
        raise NotImplementedError

    def until_site_back(self, site: str) -> None:
        raise NotImplementedError


def scenario(side: Side, drive: Driver) -> None:
    """The sessions replayed on both sides, in this order."""
    side.system_round("idle", USERS)
    side.shell_round("idle", ["admin@nvidia.com", "member@nvidia.com"])
    # submitted: jobs whose resource_spec no site satisfies stay SUBMITTED on a real 2.3.12 server (also the
    # 0-GPU spec: "ok sites 0 < min sites 2"); then aborted from there
    for name in ("gpu-hungry", "cpu-spec"):
        job_id = drive.submit(name)
        side.label(job_id, name)
        drive.until_scheduling_tried(job_id)
        side.job_round(f"{name} submitted", job_id, name)
        side.send(f"{name} submitted", "admin@nvidia.com", "abort_job " + job_id, f"abort_job <{name}>")
        drive.until_finished(job_id)
        side.job_round(f"{name} aborted", job_id, name)
    # finished completed, with three configs
    for name in ("hello-numpy", "two-sites-five-rounds", "one-round"):
        job_id = drive.submit(name)
        side.label(job_id, name)
        drive.until_finished(job_id)
        drive.until_idle()
        side.job_round(f"{name} finished", job_id, name)
    hello = next(j for j, n in side.names.items() if n == "<hello-numpy>")
    side.send("hello-numpy finished", "admin@nvidia.com", "abort_task " + hello, "abort_task <hello-numpy>")
    side.send("hello-numpy finished", "admin@nvidia.com", "abort_job " + hello, "abort_job <hello-numpy>")
    # apps that fail to load on the server / on the sites / on one site only; apps that load from custom/ or by name
    for name in ("bad-server-app", "bad-site-app", "bad-executor", "bad-one-site", "custom-app", "by-name"):
        job_id = drive.submit(name)
        side.label(job_id, name)
        drive.until_finished(job_id)
        drive.until_idle()
        side.job_round(f"{name} finished", job_id, name)
    # running
    slow = drive.submit("slow-numpy")
    side.label(slow, "slow-numpy")
    drive.until_running(slow)
    side.job_round("slow-numpy running", slow, "slow-numpy")
    side.system_round("slow-numpy running", ["admin@nvidia.com", "member@nvidia.com"])
    side.shell_round("slow-numpy running", ["admin@nvidia.com"])
    side.send("slow-numpy running", "admin@nvidia.com", "delete_job " + slow, "delete_job <slow-numpy>")
    side.send("slow-numpy running", "admin@nvidia.com", "abort_job " + slow, "abort_job <slow-numpy>")
    drive.until_finished(slow)
    drive.until_idle()
    side.job_round("slow-numpy aborted", slow, "slow-numpy")
    side.system_round("after abort", ["admin@nvidia.com"])
    # deleted
    one = next(j for j, n in side.names.items() if n == "<one-round>")
    side.send("one-round deleted", "admin@nvidia.com", "delete_job " + one, "delete_job <one-round>")
    side.job_round("one-round deleted", one, "one-round")
    # restart / shutdown flows (a site; the server's own restart would end the sessions). Only the member is
    # refused for sure: the 2.3 default policy lets a lead operate ("restart server" by lead@nvidia.com did restart).
    for line in ("restart client site-2", "shutdown client site-2", "restart server", "shutdown all"):
        side.send("restart", "member@nvidia.com", line)
    side.send("restart", "admin@nvidia.com", "restart client site-2")
    drive.until_site_back("site-2")
    side.send("restart", "admin@nvidia.com", "check_status client site-2")
    side.send("restart", "admin@nvidia.com", "shutdown client nope")
    side.send("restart", "admin@nvidia.com", "restart client")
    side.send("restart", "admin@nvidia.com", "shutdown bogus")


class RealDriver(Driver):
    def __init__(self, side: Side, jobs: Path) -> None:
        self.side, self.jobs = side, jobs

    def submit(self, name: str) -> str:
        return self.side.admin.submit_job(str(self.jobs / name))

    def _status(self, job_id: str) -> str:
        return str(self.side.admin.get_job_meta(job_id)["status"])

    def until_scheduling_tried(self, job_id: str) -> None:
        """The scheduler has looked at the job: its try shows in the server's log (bounded wait)."""
        log = self.side.server_log
        wait_for(lambda: f"Try to schedule job {job_id}" in log.read_text(errors="replace"), bool, 60, "scheduling")

    def until_running(self, job_id: str) -> None:
        wait_for(lambda: self._status(job_id), lambda s: s == "RUNNING" or s.startswith("FINISHED"), 120, job_id)
        # both sites are training: their job processes answer check_status
        wait_for(
            lambda: [r["status"] for r in self.side.admin.get_client_job_status() or []],
            lambda s: s == ["started", "started"],
            60,
            "client job processes",
        )

    def until_finished(self, job_id: str) -> None:
        wait_for(lambda: self._status(job_id), lambda s: s.startswith("FINISHED"), 300, job_id)

    def until_idle(self) -> None:
        admin = self.side.admin
        wait_for(lambda: admin.get_system_info().server_info.status, lambda s: s == "stopped", 120, "engine")
        wait_for(lambda: admin.get_client_job_status(), lambda rows: not rows or all(r["job_id"] == "?" for r in rows),
                 60, "client job processes")  # fmt: skip

    def until_site_back(self, site: str) -> None:
        time.sleep(1.0)  # the site's shutdown is asynchronous; give it a moment to drop off before polling
        wait_for(lambda: self.side.admin.get_connected_client_list(), lambda c: site in [x.name for x in c], 180,
                 f"{site} registered again")  # fmt: skip


class FakeDriver(Driver):
    def __init__(self, side: Side, server: FakeFlareServer, clock: VirtualClock, jobs: Path) -> None:
        self.side, self.server, self.clock, self.jobs = side, server, clock, jobs

    def submit(self, name: str) -> str:
        return self.side.admin.submit_job(str(self.jobs / name))

    def until_running(self, job_id: str) -> None:
        self.server.jobs.advance_to(job_id, "RUNNING")
        self.clock.advance(5)

    def until_scheduling_tried(self, job_id: str) -> None:
        """The scheduler's first try comes when the job's queued phase is over: move the clock to it (bounded)."""
        for _ in range(60):
            if self.server.jobs.meta(job_id).get("schedule_count") or self.server.jobs.status(job_id).finished:
                return
            self.clock.advance(0.5)
        raise RuntimeError(f"fake scheduler never tried {job_id}")

    def until_finished(self, job_id: str) -> None:
        if not self.server.jobs.status(job_id).finished:
            self.server.jobs.run_to_completion(job_id)

    def until_idle(self) -> None:
        self.clock.advance(5)

    def until_site_back(self, site: str) -> None:
        for _ in range(60):
            if site in [c.name for c in self.side.admin.get_connected_client_list()]:
                return
            self.clock.advance(1)
        raise RuntimeError(f"fake {site} never registered again")


def run_real(prod: Path, jobs: Path) -> dict[str, Any]:
    sessions = {u: new_secure_session(u, str(prod / u)) for u in USERS}
    paths = {
        str(prod / "localhost"): "<SERVER_WS>",
        str(prod / "site-1"): "<SITE1_WS>",
        str(prod / "site-2"): "<SITE2_WS>",
        str(prod): "<PROD>",
        # provision.sh gave this deployment its own job store in resources.json.default; undo that edit
        str(prod.parents[2] / "jobs-storage"): "/tmp/nvflare/jobs-storage",
        str(prod.parents[2] / "snapshot-storage"): "/tmp/nvflare/snapshot-storage",
    }
    side = Side(sessions, paths)
    side.server_log = prod / "localhost" / "log.txt"
    try:
        scenario(side, RealDriver(side, jobs))
        return side.out
    finally:
        for s in sessions.values():
            s.close()


def run_fake(jobs: Path) -> dict[str, Any]:
    clock = VirtualClock()
    with FakeFlareServer(project=SAME_PROJECT, clock=clock) as server:
        # rounds, result files and apps that fail to load follow each job's own config; only the slow job is
        # scripted (it runs until aborted, as the real one outlasts the replay)
        server.jobs.script(JobScript.hangs(), name="slow-numpy")
        sessions = {u: server.session(u) for u in USERS}
        paths = {str(server.sites.workspace(t)): f"<{t.upper().replace('-', '')}_WS>" for t in TARGETS}
        side = Side(sessions, paths)
        try:
            scenario(side, FakeDriver(side, server, clock, jobs))
            return side.out
        finally:
            for s in sessions.values():
                s.close()


# ------------------------------------------------------------------------------------ certificates
def tls_outcome(host: str, port: int, ca: Path, cert: Optional[tuple[Path, Path]]) -> str:
    """What a client presenting ``cert`` (or none) sees: the handshake or first-read error, or ``accepted``."""
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    if cert is not None:
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    try:
        with socket.create_connection((host, port), timeout=10) as raw, context.wrap_socket(raw) as tls:
            tls.settimeout(3)  # a TLS 1.3 server's verdict on the client certificate comes with the first read
            try:
                data = tls.recv(1)
            except TimeoutError:
                return "accepted"
            return "accepted" if data else "accepted, then closed"
    except ssl.SSLError as exc:
        return f"{type(exc).__name__} {exc.reason or exc.strerror or exc.args[0]}"
    except OSError as exc:
        return f"{type(exc).__name__}"


def foreign_kit(folder: Path) -> tuple[Path, Path]:
    """A client certificate signed by a CA the federation does not trust."""
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    cert = trustme.CA().issue_cert("admin@nvidia.com")
    cert.cert_chain_pems[0].write_to_path(str(folder / "client.crt"))
    cert.private_key_pem.write_to_path(str(folder / "client.key"))
    return folder / "client.crt", folder / "client.key"


def certificate_round(host: str, port: int, ca: Path, kit: Path, foreign: tuple[Path, Path]) -> dict[str, str]:
    own = (kit / "client.crt", kit / "client.key")
    return {
        "tls | own kit": tls_outcome(host, port, ca, own),
        "tls | foreign-CA client certificate": tls_outcome(host, port, ca, foreign),
        "tls | no client certificate": tls_outcome(host, port, ca, None),
    }


# ------------------------------------------------------------------------------------ classification
def classify(real: dict[str, Any], fake: dict[str, Any]) -> dict[str, dict[str, str]]:
    classes = {}
    for key, reply in real.items():
        other = fake.get(key, {"missing": "no such exchange on the fake"})
        if reply == other:
            kind = "identical"
        elif coarse(reply, key.split(" | ")[-1]) == coarse(other, key.split(" | ")[-1]):
            kind = "moment-dependent"
        else:
            kind = "different"
        phase = key.split(" | ")[0]
        owner = next((o for prefix, o in OWNERS.items() if phase.startswith(prefix)), "diff")
        classes[key] = {"class": kind, "owner": owner if kind == "different" else ""}
    return classes


CLASSES = ("identical", "moment-dependent", "different")


def category(key: str) -> str:
    """An exchange's category: the TLS probe, or the job state / engine phase it was sent in."""
    phase = key.split(" | ")[0]
    return "tls" if phase == "tls" else phase


def command_family(key: str) -> str:
    """An exchange's command family: job (a line naming a job), shell, restart/shutdown, system or the TLS probe."""
    if key.startswith("tls |"):
        return "tls"
    line = key.split(" | ")[-1]
    word = line.split()[0]
    if word in ("restart", "shutdown"):
        return "restart/shutdown"
    if "<" in line:  # a job id, replaced by its job's <name> in the key
        return "job"
    if word in {t.split()[0] for t in SHELL_LINES}:
        return "shell"
    return "system"


def _tally(classes: dict[str, dict[str, str]], by: Callable[[str], str]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter] = {}
    for key, c in classes.items():
        table.setdefault(by(key), Counter())[c["class"]] += 1
    return {name: {k: counts.get(k, 0) for k in CLASSES} for name, counts in table.items()}


def summary(classes: dict[str, dict[str, str]]) -> dict[str, Any]:
    counts = Counter(c["class"] for c in classes.values())
    total = len(classes)
    owners = Counter(c["owner"] for c in classes.values() if c["class"] == "different")
    return {
        "total": total,
        "counts": {k: counts.get(k, 0) for k in CLASSES},
        "by_category": _tally(classes, category),
        "by_command_family": _tally(classes, command_family),
        "percent": {
            "identical": round(100 * counts["identical"] / total, 1),
            "identical_or_moment_dependent": round(100 * (counts["identical"] + counts["moment-dependent"]) / total, 1),
        },
        "different_by_owner": dict(owners),
    }


def render(doc: Any) -> list[str]:
    return json.dumps(doc, indent=1, sort_keys=True).splitlines()


def markdown(real: dict[str, Any], fake: dict[str, Any], classes: dict[str, dict[str, str]], total: dict) -> str:
    out = [
        "# Differential: real FLARE 2.3.12 vs the fake",
        "",
        f"{total['total']} exchanges: " + ", ".join(f"{k} {v}" for k, v in total["counts"].items()),
        f"({total['percent']['identical']}% identical, "
        f"{total['percent']['identical_or_moment_dependent']}% identical or moment-dependent); "
        f"differences by owner: {total['different_by_owner']}",
        "",
    ]
    for title, table in (("category", total["by_category"]), ("command family", total["by_command_family"])):
        out += [f"| {title} | identical | moment-dependent | different |", "|---|---|---|---|"]
        out += [f"| {name} | " + " | ".join(str(row[k]) for k in CLASSES) + " |" for name, row in table.items()]
        out.append("")
    for key, c in classes.items():
        if c["class"] != "different":
            continue
        out.append(f"## {key} (owner: {c['owner']})")
        out.append("```diff")
        out += list(difflib.unified_diff(render(real[key]), render(fake.get(key)), "real", "fake", n=1, lineterm=""))
        out.append("```")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prod", default="/tmp/realflare/workspace/realflare/prod_00")
    parser.add_argument("--jobs", default="/tmp/realflare/jobs")
    parser.add_argument("--out", default="/tmp/realflare/differential")
    parser.add_argument("--admin-port", type=int, default=8103)
    parser.add_argument("--real-json", help="reuse a captured real.json instead of asking the real server")
    args = parser.parse_args()
    out, prod = Path(args.out), Path(args.prod)
    out.mkdir(parents=True, exist_ok=True)
    foreign = foreign_kit(out / "foreign")
    kit = prod / "admin@nvidia.com" / "startup"
    if args.real_json:
        real = json.loads(Path(args.real_json).read_text())
    else:
        real = certificate_round("localhost", args.admin_port, kit / "rootCA.pem", kit, foreign)
        real.update(run_real(prod, Path(args.jobs)))
        (out / "real.json").write_text(json.dumps(real, indent=1, sort_keys=True))
    with FakeFlareServer() as server:
        fake_kit = Path(server.startup_kit("admin@nvidia.com")) / "startup"
        fake = certificate_round("127.0.0.1", server.port, fake_kit / "rootCA.pem", fake_kit, foreign)
    fake.update(run_fake(Path(args.jobs)))
    (out / "fake.json").write_text(json.dumps(fake, indent=1, sort_keys=True))
    classes = classify(real, fake)
    total = summary(classes)
    (out / "classes.json").write_text(json.dumps({"summary": total, "exchanges": classes}, indent=1))
    (out / "differential.md").write_text(markdown(real, fake, classes, total))
    print(json.dumps(total, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
