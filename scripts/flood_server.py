"""Flood a fake server with connections that never ask, and measure a legitimate client's latency meanwhile.

Three processes on loopback: the server (default options, real clock), the flooder, and this one, the
legitimate client. The flooder keeps ``--idle`` TLS connections that complete the handshake (with a valid
certificate) and never send a request, ``--trickle`` TCP connections that send one byte of a TLS
ClientHello a second, and ``--silent`` TCP connections that send nothing; whatever the server closes is
reopened. The client times ``--calls`` requests (a new TLS connection each: handshake, login, reply)
before the flood and during it, paced ``--pace`` seconds apart, and reads the server's file descriptors,
threads, RSS and connection counters before, during and after. Exit 1 if a call failed or the flood's
p50 or p99 is more than ``--max-ratio`` times the idle one. Stops by itself (bounded counts and pacing).

    python scripts/flood_server.py
    python scripts/flood_server.py --idle 50 --trickle 50 --silent 50 --calls 50
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN = "admin@nvidia.com"
#: The start of a TLS 1.2 ClientHello record: a trickler sends it byte by byte, then zeros.
CLIENT_HELLO_START = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64)


# ------------------------------------------------------------------------------------------- the server
def serve(first_byte: str, handshake: str) -> None:
    """The server process: answers ``probe`` on stdin with one JSON line; stops at ``quit`` or EOF."""
    from fakeserver import FakeFlareServer
    from fakeserver.serving import listener

    if first_byte:  # until the facade passes it through: the listener reads its default at construction
        listener.DEFAULT_FIRST_BYTE_TIMEOUT = float(first_byte)

    options = {"handshake_timeout": float(handshake)} if handshake else {}
    with tempfile.TemporaryDirectory() as folder, FakeFlareServer(workspace=folder, **options) as server:  # type: ignore[arg-type]
        kit = server.startup_kit(ADMIN)
        print(json.dumps({"host": server.address[0], "port": server.address[1], "kit": str(kit)}), flush=True)
        for line in sys.stdin:
            if line.strip() != "probe":
                break
            status = dict(row.split(":", 1) for row in Path("/proc/self/status").read_text().splitlines())
            print(
                json.dumps(
                    {
                        "fds": len(os.listdir("/proc/self/fd")),
                        "threads": threading.active_count(),
                        "rss_mb": int(status["VmRSS"].split()[0]) // 1024,
                        **server.stats.snapshot(),
                    }
                ),
                flush=True,
            )


# ------------------------------------------------------------------------------------------- the flooder
def flood(host: str, port: int, kit: str, idle: int, trickle: int, silent: int) -> None:
    """The flooder process: keeps the three kinds of connection open until stdin closes."""
    context = _client_context(kit)
    kinds = ["idle"] * idle + ["trickle"] * trickle + ["silent"] * silent
    socks: list[Optional[socket.socket]] = [None] * len(kinds)
    sent = [0] * len(kinds)
    opened = {"idle": 0, "trickle": 0, "silent": 0}
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    selector = selectors.DefaultSelector()

    def open_one(index: int) -> None:
        try:
            plain = socket.create_connection((host, port), timeout=10)
            sock: socket.socket = context.wrap_socket(plain) if kinds[index] == "idle" else plain
        except OSError:
            socks[index] = None
            return
        sock.setblocking(False)
        socks[index] = sock
        sent[index] = 0
        opened[kinds[index]] += 1
        selector.register(sock, selectors.EVENT_READ, index)

    def close_one(index: int) -> None:
        sock = socks[index]
        if sock is not None:
            selector.unregister(sock)
            sock.close()
        socks[index] = None

    for index in range(len(kinds)):
        open_one(index)
    print(json.dumps({"established": sum(s is not None for s in socks)}), flush=True)
    next_trickle = time.monotonic() + 1.0
    while not stop.is_set():
        for key, _ in selector.select(0.2):
            index = key.data
            try:
                data = socks[index].recv(4096)  # type: ignore[union-attr]
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except OSError:
                data = b""
            if not data:  # the server hung up: come back
                close_one(index)
        if time.monotonic() >= next_trickle:
            next_trickle += 1.0
            for index, kind in enumerate(kinds):
                sock = socks[index]
                if kind == "trickle" and sock is not None:
                    byte = CLIENT_HELLO_START[sent[index] : sent[index] + 1] or b"\x00"
                    try:
                        sock.send(byte)
                        sent[index] += 1
                    except OSError:
                        close_one(index)
        for index in range(len(kinds)):
            if socks[index] is None and not stop.is_set():
                open_one(index)
    print(json.dumps({"opened": opened}), flush=True)


def _client_context(kit: str) -> ssl.SSLContext:
    from flare_api.startup_kit import load_startup_kit
    from flare_api.transport import client_ssl_context

    loaded = load_startup_kit(kit)
    assert loaded.ca_cert and loaded.client_cert and loaded.client_key
    return client_ssl_context(loaded.ca_cert, loaded.client_cert, loaded.client_key)


# ------------------------------------------------------------------------------------------- the client
def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def _ask(child: subprocess.Popen[str], line: Optional[str]) -> dict[str, Any]:
    assert child.stdin is not None and child.stdout is not None
    if line is not None:
        child.stdin.write(line + "\n")
        child.stdin.flush()
    return dict(json.loads(child.stdout.readline()))


def _calls(host: str, port: int, context: ssl.SSLContext, count: int, pace: float) -> tuple[list[float], int]:
    """``count`` logins, each on a new TLS connection: their latencies (ms) and how many failed."""
    from flare_api.transport import Transport

    latencies: list[float] = []
    failures = 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            reply = Transport(host, port, context, timeout=10.0).request(f"_cert_login {ADMIN}")
            ok = reply is not None and reply.items[0].data == "OK"
        except Exception:
            ok = False
        latencies.append((time.perf_counter() - started) * 1000)
        failures += not ok
        time.sleep(pace)
    return latencies, failures


def _percentiles(latencies: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 2), "p99_ms": round(cuts[98], 2), "max_ms": round(max(latencies), 2)}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--silent", type=int, default=200)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.1)
    parser.add_argument("--max-ratio", type=float, default=2.0)
    parser.add_argument("--first-byte", type=float, default=None, help="the server's first-byte deadline (s)")
    parser.add_argument("--handshake", type=float, default=2.0, help="the server's handshake deadline (s)")
    args = parser.parse_args(argv)

    server = _child("--serve", str(args.first_byte or ""), str(args.handshake or ""))
    try:
        ready = _ask(server, None)
        host, port = ready["host"], int(ready["port"])
        context = _client_context(ready["kit"])
        _calls(host, port, context, 10, 0.0)  # warm up
        before = _ask(server, "probe")
        idle_latencies, idle_failures = _calls(host, port, context, args.calls, args.pace)
        flooder = _child("--flood", host, str(port), ready["kit"], str(args.idle), str(args.trickle), str(args.silent))
        established = _ask(flooder, None)
        flood_latencies, flood_failures = _calls(host, port, context, args.calls, args.pace)
        during = _ask(server, "probe")
        assert flooder.stdin is not None
        flooder.stdin.close()
        opened = _ask(flooder, None)
        flooder.wait(timeout=60)
        time.sleep(3)  # let the server see the flood's last connections close
        after = _ask(server, "probe")
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=60)
    idle_p, flood_p = _percentiles(idle_latencies), _percentiles(flood_latencies)
    ratios = {key: round(flood_p[key] / idle_p[key], 2) for key in ("p50_ms", "p99_ms")}
    summary = {
        "flood": {"idle_tls": args.idle, "trickling": args.trickle, "tls_less": args.silent},
        **established,
        **opened,
        "calls": args.calls,
        "idle": {**idle_p, "failures": idle_failures},
        "flooded": {**flood_p, "failures": flood_failures},
        "ratio": ratios,
        "server_before": before,
        "server_during": during,
        "server_after": after,
    }
    print(json.dumps(summary, indent=1), flush=True)
    failed = idle_failures or flood_failures or any(r > args.max_ratio for r in ratios.values())
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["--flood"]:
        host, port, kit, idle, trickle, silent = sys.argv[2:8]
        flood(host, int(port), kit, int(idle), int(trickle), int(silent))
    else:
        sys.exit(main())
