"""Measure the hostile-input figures of docs/robustness.md: a fake server in its own process, attacked over TLS.

The server runs in a child process (virtual clock); this process is the client. For each attack the
child's peak RSS is reset (``/proc/self/clear_refs``), the attack is sent, and one JSON line reports the
server's CPU seconds, its peak RSS and growth over its RSS before the attack, its workspace size, and
what it answered. Linux only. Figures depend on the machine.

    python scripts/measure_robustness.py            # every attack
    python scripts/measure_robustness.py zip_bomb   # some of: zip_bomb random_60mb grep ls_flags errors
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------- the server
def serve() -> None:
    """The child: a fake server; answers one-line commands on stdin with one JSON line on stdout."""
    import resource
    import time

    from fakeserver import FakeFlareServer
    from flare_api import VirtualClock

    def memory() -> dict[str, int]:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        return {key: int(fields[key].split()[0]) // 1024 for key in ("VmRSS", "VmHWM")}

    with tempfile.TemporaryDirectory() as folder, FakeFlareServer(clock=VirtualClock(), workspace=folder) as server:
        kit = server.startup_kit()
        print(json.dumps({"host": server.address[0], "port": server.address[1], "kit": str(kit)}), flush=True)
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "before":
                Path("/proc/self/clear_refs").write_text("5")
                out: dict[str, Any] = {**memory(), "cpu": time.process_time()}
            elif command == "after":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                disk = sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
                out = {**memory(), "cpu": usage.ru_utime + usage.ru_stime, "disk_mb": disk // (1024 * 1024)}
            elif command == "run":
                server.jobs.run_to_completion(arg)
                out = {}
            elif command == "file":
                (server.sites.workspace("server") / "big.txt").write_bytes(b"a" * 100_000 + b"\n")
                out = {}
            elif command == "errors":
                for _ in range(30):
                    server._state.record_error("ls server " + "x" * 10_000_000, ValueError("boom"))
                out = {"records": len(server.errors), "chars": sum(len(e.command) for e in server.errors)}
            else:
                return
            print(json.dumps(out), flush=True)


# ------------------------------------------------------------------------------------------- the client
class Client:
    def __init__(self) -> None:
        self.child = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        ready = json.loads(self.ask(None))
        from flare_api.startup_kit import load_startup_kit
        from flare_api.transport import Transport, client_ssl_context

        kit = load_startup_kit(ready["kit"])
        assert kit.ca_cert and kit.client_cert and kit.client_key
        context = client_ssl_context(kit.ca_cert, kit.client_cert, kit.client_key)
        self.transport = Transport(ready["host"], ready["port"], context, timeout=600.0)
        login = self.transport.request("_cert_login admin@nvidia.com")
        assert login is not None
        self.token = next(item.data for item in login.items if item.type.value == "token")

    def ask(self, command: str | None) -> str:
        assert self.child.stdin is not None and self.child.stdout is not None
        if command is not None:
            self.child.stdin.write(command + "\n")
            self.child.stdin.flush()
        return self.child.stdout.readline()

    def reply(self, line: str) -> dict[str, Any]:
        document = self.transport.request(line, self.token)
        assert document is not None, "no reply document"
        items = [{**item.to_json(), "data": str(item.data)[:120]} for item in document.items]
        return {"meta": document.meta, "items": items}

    def close(self) -> None:
        self.ask("quit")
        self.child.wait(timeout=60)


def _job(extra: list[tuple[str, bytes]], method: int) -> str:
    meta = {"name": "j", "deploy_map": {"app": ["@ALL"]}, "min_clients": 1}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("j/meta.json", json.dumps(meta))
        for folder in ("j/app/", "j/app/config/"):
            archive.writestr(folder, b"")
        archive.writestr("j/app/config/config_fed_server.json", b"{}")
        archive.writestr("j/app/config/config_fed_client.json", b"{}")
        for name, data in extra:
            archive.writestr(name, data, compress_type=method)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _submit_run_download(client: Client, payload: str) -> list[dict[str, Any]]:
    answers = [client.reply(f"submit_job j {payload}")]
    job_id = answers[0]["meta"].get("job_id")
    if job_id:
        client.ask(f"run {job_id}")
        answers.append(client.reply(f"download_job {job_id}"))
    return answers


#: name -> (prepare input, not measured) -> send it (measured)
ATTACKS: dict[str, Callable[[Client], Callable[[], Any]]] = {
    "zip_bomb": lambda c: (
        lambda p: lambda: _submit_run_download(c, p)
    )(_job([("j/app/custom/zeros.bin", bytes(1 << 30))], zipfile.ZIP_DEFLATED)),
    "random_60mb": lambda c: (
        lambda p: lambda: _submit_run_download(c, p)
    )(_job([("j/app/custom/random.bin", os.urandom(60 * 1024 * 1024))], zipfile.ZIP_STORED)),
    "grep": lambda c: (c.ask("file"), lambda: [c.reply("grep server '\\(a*\\)*b' big.txt"),
                                                c.reply("grep server '\\(a*\\)*\\1b' big.txt")])[1],
    "ls_flags": lambda c: lambda: c.reply("ls server " + " ".join(["-l"] * 10_000)),
    "errors": lambda c: lambda: json.loads(c.ask("errors")),
}  # fmt: skip


def measure(name: str) -> dict[str, Any]:
    client = Client()
    try:
        send = ATTACKS[name](client)
        before = json.loads(client.ask("before"))
        answer = send()
        after = json.loads(client.ask("after"))
    finally:
        client.close()
    return {
        "attack": name,
        "server_cpu_s": round(after["cpu"] - before["cpu"], 2),
        "server_peak_rss_mb": after["VmHWM"],
        "server_rss_growth_mb": after["VmHWM"] - before["VmRSS"],
        "workspace_mb": after["disk_mb"],
        "answer": json.dumps(answer)[:400],
    }


def main(argv: list[str]) -> int:
    if argv == ["--serve"]:
        serve()
        return 0
    sys.path.insert(0, str(ROOT))
    for name in argv or list(ATTACKS):
        if name not in ATTACKS:
            raise SystemExit(f"unknown attack {name!r}; choose from {', '.join(ATTACKS)}")
        print(json.dumps(measure(name)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
