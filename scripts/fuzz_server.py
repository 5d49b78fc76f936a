"""Fuzz a running fake server with malformed requests: in-process for volume, a sample over real TLS.

Every input is a mutation of a real request (or plain noise): truncated or bit-flipped frames, wrong JSON
shapes, deep nesting, non-UTF-8, hostile words and numbers, forged tokens, several documents in one frame.
The run fails (exit 1) on any error the server records (an unexpected exception), on a hang (an input not
answered within ``--hang-seconds``), or if a legitimate request stops working. Loopback only; bounded by
the counts given; seeded, so a failure can be replayed.

    python scripts/fuzz_server.py                       # 100,000 in-process + 2,000 over TLS
    python scripts/fuzz_server.py --count 1000 --tls 100 --seed 7
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import random
import socket
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakeserver import FakeFlareServer
from flare_api import VirtualClock
from flare_api.errors import NoConnection
from flare_api.wire import Document, StreamAccumulator, encode_stream

ADMIN = "admin@nvidia.com"
USERS = (ADMIN, "lead@nvidia.com", "lead@other.org", "member@nvidia.com")
#: Command lines the mutations start from (never ``shutdown``/``restart``: they stop the server legitimately).
LINES = (
    "_commands",
    "list_jobs",
    "list_jobs -d -m 5 -r",
    "check_status server",
    "check_status client site-1",
    "get_job_meta {job}",
    "abort_job {job}",
    "clone_job {job}",
    "download_job {job}",
    "delete_job {job}",
    "list_job {job}",
    "show_stats {job} server",
    "show_errors {job} client",
    "ls server -l",
    "cat server/log.txt",
    "grep -n a server/log.txt",
    "tail -n 5 server/log.txt",
    "head -c 10 server/log.txt",
    "pwd server",
    "cells",
    "stress 5",
    "speed server site-1 3 10",
    "route site-1",
    "peers server",
    "conns site-1",
    "msg_stats server",
    "show_pool server cell_pool p",
    "sys_info server",
    "report_resources all",
    "report_env all",
    "get_active_sessions",
    "_cert_login {user}",
    "submit_job j {zip}",
    "list_sp",
    "get_scope",
)
WORDS = (
    '"', "'", "\\", "..", "../../..", "/etc/passwd", "\x00", "\ud800", "-" * 3, "-l " * 50, "*", "?",
    "9" * 5000, "-1", "0", "1e309", "nan", "a" * 4097, "@ALL", "site-1", "server", "$(id)", "`id`", "|", ";",
    "\u202e", "\n", "\r\n", "\t", "%s%n", "{}", "[]",
)  # fmt: skip


def job_zip(meta: Any) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("j/meta.json", meta if isinstance(meta, str) else json.dumps(meta))
        archive.writestr("j/app/config/config_fed_server.json", b"{}")
        archive.writestr("j/app/config/config_fed_client.json", b"{}")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


ZIPS = (
    job_zip({"name": "j", "deploy_map": {"app": ["@ALL"]}, "min_clients": 1}),
    job_zip({"name": "j", "deploy_map": {"app": ["@ALL"]}, "schedule_count": "x"}),
    job_zip({"name": "j", "deploy_map": "x", "min_clients": -1, "resource_spec": [1]}),
    job_zip("[1, 2"),
    job_zip({"name": ["j"], "deploy_map": {"app": [None]}, "mandatory_clients": 7}),
    base64.b64encode(b"PK\x05\x06" + bytes(18)).decode(),
    "not base64 !!",
)


class Fuzzer:
    """Seeded generator of malformed request frames."""

    def __init__(self, seed: int, tokens: dict[str, str]) -> None:
        self.rng = random.Random(seed)
        self.tokens = tokens

    def line(self) -> str:
        rng = self.rng
        text = rng.choice(LINES).format(
            job=rng.choice(["x", "*", "", rng.choice(WORDS)]), user=rng.choice(USERS + WORDS), zip=rng.choice(ZIPS)
        )
        words = text.split(" ")
        for _ in range(rng.randrange(3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS))
        if rng.random() < 0.2 and len(words) > 1:
            del words[rng.randrange(1, len(words))]
        return " ".join(words)

    def token(self) -> Optional[str]:
        rng = self.rng
        choice = rng.randrange(5)
        if choice == 0:
            return None
        if choice == 1:
            return rng.choice(WORDS)
        return self.tokens[rng.choice(USERS)]

    def document(self) -> dict[str, Any]:
        return dict(json.loads(Document.request(self.line(), self.token()).to_json()))

    def frame(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(12)
        if kind == 0:  # noise
            noise = rng.randbytes(rng.randrange(300))
            return noise + (b"\x04" if rng.random() < 0.5 else b"")
        if kind == 1:  # a real request cut short
            cut = encode_stream([json.dumps(self.document())])
            return cut[: rng.randrange(len(cut))] + (b"\x04" if rng.random() < 0.5 else b"")
        if kind == 2:  # flipped bytes
            whole = bytearray(encode_stream([json.dumps(self.document())]))
            for _ in range(rng.randrange(1, 6)):
                whole[rng.randrange(len(whole))] = rng.randrange(256)
            return bytes(whole)
        if kind == 3:  # wrong shapes
            value: Any = rng.choice([None, 1, "x", [], {}, [1], [None], [{"type": "command"}], [{"data": 1}]])
            shape: Any = rng.choice(
                [{"data": value}, {"nodata": []}, value, {"data": [{"type": "command", "data": value}]}]
            )
            return encode_stream([json.dumps(shape)])
        if kind == 4:  # deep nesting
            depth = rng.choice([10, 1000, 100_000])
            return encode_stream(["[" * depth + "]" * depth])
        if kind == 5:  # not UTF-8
            return b'{"data": [{"type": "command", "data": "list_jobs \xff\xfe"}]}\x03\x04'
        if kind == 6:  # several documents in one frame
            docs = [json.dumps(self.document()) for _ in range(rng.randrange(2, 4))]
            return encode_stream(docs)
        if kind == 7:  # unknown item types, extra keys
            doc = self.document()
            doc["data"].append({"type": rng.choice(["bogus", "table", "dict", "error"]), "data": rng.choice(WORDS)})
            doc[rng.choice(["meta", "x", ""])] = rng.choice([None, 1, "x", {"status": "ok"}])
            return encode_stream([json.dumps(doc)])
        if kind == 8:  # stray terminators inside
            text = json.dumps(self.document())
            at = rng.randrange(len(text) + 1)
            return text[:at].encode() + rng.choice([b"\x03", b"\x04", b"\x03\x04", b"\x00"]) + text[at:].encode()
        return encode_stream([json.dumps(self.document())])  # a well-formed frame with a hostile line


class Watchdog:
    """Fails the run if the current input is not answered within ``seconds``."""

    def __init__(self, seconds: float, report: Callable[[str], None]) -> None:
        self.seconds = seconds
        self.report = report
        self.current: Optional[tuple[float, bytes]] = None
        self.hangs = 0
        self.done = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self.done.wait(self.seconds / 4):
            current = self.current
            if current is not None and time.monotonic() - current[0] > self.seconds:
                self.hangs += 1
                self.report(f"HANG: no answer within {self.seconds} s to {current[1][:200]!r}")
                self.current = None


def login(server: FakeFlareServer, user: str) -> str:
    reply = server.in_process_transport(user).request(f"_cert_login {user}")
    assert reply is not None and reply.items[0].data == "OK", reply
    return str(reply.items[1].data)


def legit_ok(server: FakeFlareServer, token: str) -> bool:
    reply = server.in_process_transport(ADMIN).request("list_jobs", token)
    return reply is not None and reply.meta.get("status") == "ok"


def over_tls(server: FakeFlareServer, frame: bytes, context: Any, timeout: float) -> str:
    """Send one frame over TLS; ``answered``, ``closed`` or ``no-terminator`` (we hang up ourselves)."""
    received = StreamAccumulator()
    with socket.create_connection(server.address, timeout=timeout) as plain, context.wrap_socket(plain) as sock:
        sock.settimeout(timeout)
        sock.sendall(frame)
        if b"\x04" not in frame:
            return "no-terminator"
        while not received.done:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("hang") from None
            except OSError:
                return "closed"
            if not chunk:
                return "closed"
            received.feed(chunk)
    return "answered"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="malformed inputs in-process")
    parser.add_argument("--tls", type=int, default=2_000, help="malformed inputs over real TLS")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--hang-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    problems: list[str] = []

    def report(text: str) -> None:
        problems.append(text)
        print(text, flush=True)

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder, FakeFlareServer(workspace=folder, clock=VirtualClock()) as server:
        tokens = {user: login(server, user) for user in USERS}
        fuzzer = Fuzzer(args.seed, tokens)
        watchdog = Watchdog(args.hang_seconds, report)
        local = server.in_process_transport(ADMIN)
        restarts = 0
        for index in range(args.count):
            frame = fuzzer.frame()
            watchdog.current = (time.monotonic(), frame)
            try:
                local.exchange(frame)
            except NoConnection:  # a fuzzed line shut the server down (as FLARE would): bring it back
                restarts += 1
                server.reset()
                fuzzer.tokens.update({user: login(server, user) for user in USERS})
            watchdog.current = None
            if server.errors:
                report(f"ERROR at in-process input {index}: {frame[:200]!r}\n{server.errors[-1]}")
                server.errors.clear()
            if index % 1000 == 999:
                if not legit_ok(server, login(server, ADMIN)):
                    report(f"legitimate list_jobs failed after in-process input {index}")
                server.clock.advance(30)  # type: ignore[attr-defined]  # let the scheduler chew on the uploads
                if len(server.jobs) > 500:
                    server.reset()
                    fuzzer.tokens.update({user: login(server, user) for user in USERS})
        in_process_seconds = time.monotonic() - started
        outcomes: dict[str, int] = {}
        context = server.provisioned.client_ssl_context(ADMIN)
        tls_started = time.monotonic()
        for index in range(args.tls):
            frame = fuzzer.frame()
            try:
                outcome = over_tls(server, frame, context, args.hang_seconds)
            except TimeoutError:
                report(f"HANG over TLS at input {index}: {frame[:200]!r}")
                outcome = "hang"
            except NoConnection:
                server.reset()
                outcome = "restarted"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if server.errors:
                report(f"ERROR at TLS input {index}: {frame[:200]!r}\n{server.errors[-1]}")
                server.errors.clear()
        tls_seconds = time.monotonic() - tls_started
        if not legit_ok(server, login(server, ADMIN)):
            report("legitimate list_jobs failed at the end")
        watchdog.done.set()
        summary = {
            "in_process_inputs": args.count,
            "in_process_seconds": round(in_process_seconds, 1),
            "tls_inputs": args.tls,
            "tls_seconds": round(tls_seconds, 1),
            "tls_outcomes": outcomes,
            "server_restarts_by_shutdown": restarts,
            "errors": sum(p.startswith("ERROR") for p in problems),
            "hangs": sum("HANG" in p for p in problems),
            "problems": len(problems),
            "seed": args.seed,
            "stats": server.stats.snapshot(),
        }
    print(json.dumps(summary), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
