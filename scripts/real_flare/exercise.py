"""Exercises flare_api against a REAL NVIDIA FLARE 2.3 deployment and records pass/fail per check.

Usage (the deployment from start.sh running, jobs written by make_jobs.py):

    python scripts/real_flare/exercise.py --prod /tmp/realflare/workspace/realflare/prod_00 \
        --jobs /tmp/realflare/jobs --out /tmp/realflare/exercise.json

Every check runs even if an earlier one failed; the summary lists each with PASS/FAIL and details.
Exit status: 0 if all passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from flare_api import (
    AuthorizationError,
    InvalidJobDefinition,
    JobNotDone,
    JobNotFound,
    JobsStillRunning,
    MonitorReturnCode,
    Session,
    new_secure_session,
)

RESULTS: list[dict[str, Any]] = []


class CheckFailed(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@contextmanager
def check(name: str) -> Iterator[dict[str, Any]]:
    record: dict[str, Any] = {"name": name, "ok": True, "details": ""}
    started = time.monotonic()
    try:
        yield record
    except Exception as exc:
        record["ok"] = False
        record["error"] = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
        if not isinstance(exc, CheckFailed):
            record["traceback"] = traceback.format_exc(limit=6)
    record["seconds"] = round(time.monotonic() - started, 2)
    RESULTS.append(record)
    flag = "PASS" if record["ok"] else "FAIL"
    extra = record.get("error") or record["details"]
    print(f"[{flag}] {name} ({record['seconds']}s){': ' + str(extra)[:300] if extra else ''}", flush=True)


def raises(exc_type: type, fn: Callable[[], Any]) -> BaseException:
    try:
        value = fn()
    except exc_type as exc:
        return exc
    raise CheckFailed(f"expected {exc_type.__name__}, got a return value {value!r:.200}")


def wait_status(session: Session, job_id: str, wanted: Callable[[str], bool], deadline: float) -> str:
    end = time.monotonic() + deadline
    status = ""
    while time.monotonic() < end:
        status = session.get_job_meta(job_id)["status"]
        if wanted(status):
            return status
        time.sleep(1.0)
    raise CheckFailed(f"job {job_id} still {status} after {deadline}s")


def run(prod: Path, jobs: Path) -> None:
    kit = {
        user: str(prod / user)
        for user in (
            "admin@nvidia.com",
            "lead@nvidia.com",
            "member@nvidia.com",
            "lead@other.org",
            "orgadmin@nvidia.com",
        )
    }
    hello, slow, bad = str(jobs / "hello-numpy"), str(jobs / "slow-numpy"), str(jobs / "bad-no-deploy-map")
    admin = new_secure_session("admin@nvidia.com", kit["admin@nvidia.com"])
    state: dict[str, Any] = {}

    with check("get_system_info") as r:
        info = admin.get_system_info()
        names = sorted(c.name for c in info.client_info)
        r["details"] = f"server {info.server_info}; clients {names}; jobs {len(info.job_info)}"
        expect(info.server_info.status in ("started", "stopped"), f"status {info.server_info.status}")
        expect(isinstance(info.server_info.start_time, float), "start_time not float")
        expect(names == ["site-1", "site-2"], f"clients {names}")

    with check("submit_job hello-numpy + monitor_job with callback") as r:
        job_id = admin.submit_job(hello)
        state["hello"] = job_id
        seen: list[str] = []

        def cb(session: Session, jid: str, meta: dict, tag: str, counter: dict) -> bool:
            counter["n"] += 1
            if not seen or seen[-1] != meta["status"]:
                seen.append(meta["status"])
            return session is admin and jid == job_id and tag == "x"

        counter = {"n": 0}
        code = admin.monitor_job(job_id, 300, 1.0, cb, "x", counter=counter)
        r["details"] = f"job {job_id}: {code!r}, statuses {seen}, {counter['n']} callbacks"
        expect(code is MonitorReturnCode.JOB_FINISHED, f"code {code!r}")
        expect(seen[-1] == "FINISHED:COMPLETED", f"statuses {seen}")

    with check("monitor_job: callback returning False -> ENDED_BY_CB") as r:
        code1 = admin.monitor_job(state["hello"], 0, 0.1, lambda s, j, m: False)
        r["details"] = f"{code1!r}"
        expect(code1 is MonitorReturnCode.ENDED_BY_CB, f"{code1!r}")

    with check("get_job_meta (finished job)") as r:
        meta = admin.get_job_meta(state["hello"])
        r["details"] = json.dumps(meta, sort_keys=True)
        expect(meta["job_id"] == state["hello"], "job_id")
        expect(meta["submitter_name"] == "admin@nvidia.com", "submitter")
        expect(meta["status"] == "FINISHED:COMPLETED", meta["status"])
        expect(meta["deploy_map"] == {"app": ["@ALL"]}, "deploy_map")

    with check("list_jobs flag combinations") as r:
        plain = admin.list_jobs()
        detailed = admin.list_jobs(detailed=True)
        limited = admin.list_jobs(limit=1)
        rev = admin.list_jobs(reverse=True)
        by_id = admin.list_jobs(id_prefix=state["hello"][:8])
        by_name = admin.list_jobs(name_prefix="hello")
        none = admin.list_jobs(name_prefix="no-such-name")
        combo = admin.list_jobs(detailed=True, limit=1, name_prefix="hello", reverse=True, id_prefix=state["hello"])
        r["details"] = (
            f"plain[0]={plain[0] if plain else None}; keys(plain)={sorted(plain[0]) if plain else None}; "
            f"keys(detailed)={sorted(detailed[0]) if detailed else None}; n={len(plain)}, limited={len(limited)}, "
            f"by_id={len(by_id)}, by_name={len(by_name)}, none={none}, combo={len(combo)}"
        )
        expect(len(plain) >= 1 and len(detailed) == len(plain), "counts")
        expect(set(plain[0]) == {"job_id", "job_name", "status", "submit_time", "duration"}, f"{sorted(plain[0])}")
        expect("deploy_map" in detailed[0], "detailed has deploy_map")
        expect(len(limited) == 1, f"limit {len(limited)}")
        expect([j["job_id"] for j in by_id] == [state["hello"]], "id prefix")
        expect(all(j["job_name"].startswith("hello") for j in by_name) and by_name, "name prefix")
        expect(none == [], "no match")
        expect([j["job_id"] for j in combo] == [state["hello"]], "combo")
        expect(
            [j["job_id"] for j in rev] == list(reversed([j["job_id"] for j in plain])) or len(plain) == 1,
            "reverse is the reverse order",
        )

    with check("download_job_result") as r:
        path = admin.download_job_result(state["hello"])
        tree = sorted(str(p.relative_to(path)) for p in Path(path).rglob("*"))
        r["details"] = f"{path}: {len(tree)} entries, e.g. {tree[:12]}"
        expect(os.path.isdir(path), "not a folder")
        expect(os.path.isdir(os.path.join(path, "job")), "no job/ folder")
        expect(os.path.isdir(os.path.join(path, "workspace")), "no workspace/ folder")

    with check("clone_job (finished job) and let the clone complete") as r:
        clone_id = admin.clone_job(state["hello"])
        meta = admin.get_job_meta(clone_id)
        state["clone"] = clone_id
        final = admin.wait_for_job(clone_id, 300, 1.0)
        r["details"] = f"clone {clone_id}: cloned_from={meta.get('cloned_from')} final={final['status']}"
        expect(clone_id != state["hello"], "same id")
        expect(meta.get("cloned_from") == state["hello"], "cloned_from")
        expect(final["status"] == "FINISHED:COMPLETED", final["status"])

    with check("slow job: RUNNING, show_stats server/client, show_errors") as r:
        slow_id = admin.submit_job(slow)
        state["slow"] = slow_id
        wait_status(admin, slow_id, lambda s: s == "RUNNING", 60)
        time.sleep(5)  # let a round start on the clients
        stats_server = admin.show_stats(slow_id, "server")
        stats_client = admin.show_stats(slow_id, "client")
        stats_one = admin.show_stats(slow_id, "client", ["site-1"])
        errors = admin.show_errors(slow_id, "all")
        r["details"] = f"server={stats_server}; client={stats_client}; site-1={stats_one}; errors={errors}"
        expect("server" in stats_server, "server key")
        expect(set(stats_client) == {"site-1", "site-2"}, f"client keys {sorted(stats_client)}")
        expect(set(stats_one) == {"site-1"}, "one site")

    with check("member: show_stats of a running job is allowed (view: any)") as r:
        viewer = new_secure_session("member@nvidia.com", kit["member@nvidia.com"])
        stats = viewer.show_stats(state["slow"], "all")
        viewer.close()
        r["details"] = str(stats)[:300]
        expect(set(stats) == {"server", "site-1", "site-2"}, f"{sorted(stats)}")

    with check("check_status client (get_client_job_status) while a job runs") as r:
        rows = admin.get_client_job_status()
        clients = admin.get_connected_client_list()
        r["details"] = f"rows={rows}; connected={[c.name for c in clients]}"
        expect(rows is not None and {row["client_name"] for row in rows} == {"site-1", "site-2"}, "rows")
        expect(all(row["job_id"] == state["slow"] for row in rows), "job ids")

    with check("delete_job on a RUNNING job -> JobNotDone") as r:
        exc = raises(JobNotDone, lambda: admin.delete_job(state["slow"]))
        r["details"] = f"{type(exc).__name__}: {exc}"

    with check("abort_job on a RUNNING job -> FINISHED:ABORTED") as r:
        admin.abort_job(state["slow"])
        status = wait_status(admin, state["slow"], lambda s: s.startswith("FINISHED"), 60)
        r["details"] = status
        expect(status == "FINISHED:ABORTED", status)

    with check("abort_job on a finished job") as r:
        try:
            admin.abort_job(state["hello"])
            r["details"] = "returned None"
        except Exception as exc:  # recorded; FLARE 2.3 replies an error here
            r["details"] = f"raised {type(exc).__name__}: {exc}"

    with check("delete_job (finished clone) then JobNotFound") as r:
        admin.delete_job(state["clone"])
        exc = raises(JobNotFound, lambda: admin.get_job_meta(state["clone"]))
        r["details"] = f"{type(exc).__name__}: {exc}"

    with check("JobNotFound: get_job_meta/abort/delete/clone/download of an unknown id") as r:
        msgs = []
        for name in ("get_job_meta", "abort_job", "delete_job", "clone_job", "download_job_result"):
            exc = raises(JobNotFound, lambda name=name: getattr(admin, name)("00000000-no-such-job"))
            msgs.append(f"{name}: {exc}")
        r["details"] = "; ".join(msgs)

    with check("InvalidJobDefinition: empty deploy_map; not a folder") as r:
        e1 = raises(InvalidJobDefinition, lambda: admin.submit_job(bad))
        e2 = raises(InvalidJobDefinition, lambda: admin.submit_job("/tmp/realflare/no-such-folder"))
        r["details"] = f"{e1} | {e2}"
        expect("deploy_map is empty" in str(e1), str(e1))

    with check("shell: ls/pwd/cat/head/tail/grep on server and site-1") as r:
        out = {
            "ls server": admin.ls_target("server"),
            "ls site-1 -l": admin.ls_target("site-1", "-l"),
            "pwd server": admin.get_working_directory("server"),
            "pwd site-1": admin.get_working_directory("site-1"),
            "cat server log.txt": admin.cat_target("server", file="log.txt"),
            "head site-1 log": admin.head_target_log("site-1"),
            "tail server log": admin.tail_target_log("server"),
            "tail site-1 -n 3 log.txt": admin.tail_target("site-1", "-n 3", "log.txt"),
            "grep server": admin.grep_target("server", "-n", "Admin Server", "log.txt"),
        }
        r["details"] = {k: v[:160] for k, v in out.items()}
        expect("log.txt" in out["ls server"] and "startup" in out["ls server"], "ls server")
        expect(out["pwd site-1"].rstrip("/").endswith("site-1"), out["pwd site-1"])
        expect(len(out["tail site-1 -n 3 log.txt"].strip().splitlines()) == 3, "tail -n 3")
        expect("Admin Server" in out["grep server"], "grep")

    with check("sys_info server/client (do_command) and report_resources") as r:
        si_server = admin.do_command("sys_info server")
        si_client = admin.do_command("sys_info client site-1")
        rr_server = admin.report_resources("server")
        rr_client = admin.report_resources("client")
        r["details"] = (
            f"sys_info server items={[i['type'] for i in si_server['data']]}; "
            f"sys_info client items={[i['type'] for i in si_client['data']]}; "
            f"report_resources server={rr_server}; client={rr_client}"
        )
        expect(rr_server == {"server": "unlimited"}, f"{rr_server}")
        expect(set(rr_client) == {"site-1", "site-2"}, f"{rr_client}")

    with check("set_timeout / unset_timeout") as r:
        admin.set_timeout(5)
        admin.unset_timeout()
        r["details"] = "ok"

    with check("get_cell_conn_info('server')") as r:
        info = admin.get_cell_conn_info("server")
        r["details"] = str(info)[:300]

    member = new_secure_session("member@nvidia.com", kit["member@nvidia.com"])
    with check("member: allowed views (list_jobs, get_job_meta, check_status, system info)") as r:
        listed = member.list_jobs()
        meta = member.get_job_meta(state["hello"])
        info = member.get_system_info()
        rows = member.get_client_job_status()
        r["details"] = f"{len(listed)} jobs, meta {meta['status']}, {len(info.client_info)} clients, rows {rows}"

    denials: dict[str, str] = {}
    member_cases: dict[str, Callable[[], Any]] = {
        "submit_job": lambda: member.submit_job(hello),
        "clone_job": lambda: member.clone_job(state["hello"]),
        "abort_job": lambda: member.abort_job(state["hello"]),
        "delete_job": lambda: member.delete_job(state["hello"]),
        "download_job_result": lambda: member.download_job_result(state["hello"]),
        "ls server": lambda: member.ls_target("server"),
        "tail site-1 log": lambda: member.tail_target_log("site-1"),
        "sys_info server": lambda: member.do_command("sys_info server"),
        "report_resources server": lambda: member.report_resources("server"),
        "set_timeout": lambda: member.set_timeout(5),
        "restart server": lambda: member.restart("server"),
        "shutdown client site-2": lambda: member.shutdown("client", ["site-2"]),
        "remove_client site-2": lambda: member.do_command("remove_client site-2"),
    }
    for label, fn in member_cases.items():
        with check(f"member denied: {label}") as r:
            try:
                value = fn()
            except AuthorizationError as exc:
                r["details"] = str(exc)
                denials[label] = f"AuthorizationError: {exc}"
            except Exception as exc:
                denials[label] = f"{type(exc).__name__}: {exc}"
                raise CheckFailed(f"expected AuthorizationError, got {type(exc).__name__}: {exc}") from None
            else:
                denials[label] = f"returned {value!r:.120}"
                raise CheckFailed(f"not denied: returned {value!r:.200}")
    state["member_denials"] = denials

    # Per-site refusals: FLARE answers these with meta status ok and the refusal as each site's answer.
    with check("member: report_resources client -> each site's answer is the refusal text") as r:
        answers = member.report_resources("client")
        r["details"] = str(answers)
        expect(set(answers) == {"site-1", "site-2"}, f"{answers}")
        expect(all("is not authorized for 'report_resources'" in str(v) for v in answers.values()), f"{answers}")

    with check("member: restart client site-1 (engine idle) -> client_status carries the refusal") as r:
        # FLARE reports "Engine status: stopped" (no job process) a few seconds before its job runner
        # forgets an aborted job; restart refuses with "There are still jobs running" until then.
        end = time.monotonic() + 60
        refusals = 0
        while True:
            try:
                result = member.restart("client", ["site-1"])
                break
            except JobsStillRunning:
                refusals += 1
                if time.monotonic() > end:
                    raise
                time.sleep(1.0)
        r["details"] = f"after {refusals} 'still jobs running' refusals: {result}"
        expect("is not authorized for 'restart'" in str(result.get("client_status", {}).get("site-1")), str(result))
    member.close()

    lead_other = new_secure_session("lead@other.org", kit["lead@other.org"])
    with check("lead@other.org: clone_job of admin's job denied (n:submitter), ls site-2 allowed (o:site)") as r:
        exc = raises(AuthorizationError, lambda: lead_other.clone_job(state["hello"]))
        listing = lead_other.ls_target("site-2")
        exc2 = raises(AuthorizationError, lambda: lead_other.ls_target("site-1"))
        r["details"] = f"{exc} | ls site-2 ok ({len(listing)} chars) | {exc2}"
    lead_other.close()

    orgadmin = new_secure_session("orgadmin@nvidia.com", kit["orgadmin@nvidia.com"])
    with check("orgadmin@nvidia.com: submit_job denied") as r:
        exc = raises(AuthorizationError, lambda: orgadmin.submit_job(hello))
        r["details"] = str(exc)
    orgadmin.close()

    with check("delete_job (finished hello) then JobNotFound") as r:
        admin.delete_job(state["hello"])
        raises(JobNotFound, lambda: admin.get_job_meta(state["hello"]))
        admin.delete_job(state["slow"])
        r["details"] = "deleted hello and slow"

    with check("logout then close") as r:
        admin.logout()
        admin.close()
        r["details"] = "ok"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prod", default="/tmp/realflare/workspace/realflare/prod_00")
    parser.add_argument("--jobs", default="/tmp/realflare/jobs")
    parser.add_argument("--out", default="/tmp/realflare/exercise.json")
    args = parser.parse_args()
    try:
        run(Path(args.prod), Path(args.jobs))
    finally:
        Path(args.out).write_text(json.dumps(RESULTS, indent=2, default=str))
        failed = [r["name"] for r in RESULTS if not r["ok"]]
        print(f"\n{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
        for name in failed:
            print(f"  FAILED: {name}")
    return 1 if any(not r["ok"] for r in RESULTS) else 0


if __name__ == "__main__":
    sys.exit(main())
