"""``flare-harness``: provision startup kits, serve the fake FLARE admin server, or run the demo."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Optional

from .provision import DEFAULT_PROJECT, provision
from .server import FakeFlareServer

DEFAULT_WORKSPACE = "certs"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flare-harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="provision the default project and serve until SIGINT/SIGTERM")
    serve.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="where startup kits go (default: certs/)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="admin port (default: 0, any free port)")
    serve.add_argument("--seed", type=int, default=0, help="seed of job ids and tokens (default: 0)")
    serve.add_argument("--log-requests", action="store_true", help="print one line per request to stderr")
    serve.add_argument(
        "--record", metavar="FILE", default=None, help="append every request and reply to FILE as JSON lines"
    )

    prov = sub.add_parser("provision", help="write the default project's startup kits and exit")
    prov.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="where startup kits go (default: certs/)")

    demo = sub.add_parser("demo", help="start a server in-process, log in, submit and monitor a job")
    demo.add_argument("--workspace", default=None, help="keep the kits and downloads here (default: a temp dir)")
    return parser


def _port(value: int) -> int:
    if not 0 <= value < 65536:
        raise SystemExit(f"flare-harness: --port must be between 0 and 65535, got {value}")
    return value


def serve(
    workspace: str, host: str, port: int, seed: int, *, log_requests: bool = False, record: Optional[str] = None
) -> int:
    """Run the server in the foreground; print one ``ready`` JSON line once it accepts connections.

    ``log_requests`` prints each call of the server's call log to stderr; ``record`` appends each
    request and reply to that file as JSON lines (see ``CallLog.record_to``).
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with FakeFlareServer(workspace=workspace, host=host, port=_port(port), seed=seed) as server:
            if log_requests:
                server.calls.subscribe(lambda call, exchange: print(call, file=sys.stderr, flush=True))
            stop_recording = server.calls.record_to(record) if record is not None else None
            ready = {
                "event": "ready",
                "host": server.address[0],
                "admin_port": server.address[1],
                "startup_kits": {user: str(server.startup_kit(user)) for user in server.provisioned.kits},
            }
            print(json.dumps(ready), flush=True)
            while not stop.wait(0.5):
                pass
            if stop_recording is not None:
                stop_recording()
            errors = server.errors
        print(json.dumps({"event": "stopped", "unexpected_errors": len(errors)}), flush=True)
        return 1 if errors else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(
            args.workspace, args.host, args.port, args.seed, log_requests=args.log_requests, record=args.record
        )
    if args.command == "provision":
        provisioned = provision(DEFAULT_PROJECT, args.workspace)
        print(json.dumps({"event": "provisioned", "startup_kits": {u: str(p) for u, p in provisioned.kits.items()}}))
        return 0
    from .demo import run_demo

    return run_demo(Path(args.workspace) if args.workspace else None, out=sys.stdout)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
