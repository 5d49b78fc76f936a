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

    prov = sub.add_parser("provision", help="write the default project's startup kits and exit")
    prov.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="where startup kits go (default: certs/)")

    demo = sub.add_parser("demo", help="start a server in-process, log in, submit and monitor a job")
    demo.add_argument("--workspace", default=None, help="keep the kits and downloads here (default: a temp dir)")
    return parser


def _port(value: int) -> int:
    if not 0 <= value < 65536:
        raise SystemExit(f"flare-harness: --port must be between 0 and 65535, got {value}")
    return value


def serve(workspace: str, host: str, port: int, seed: int) -> int:
    """Run the server in the foreground; print one ``ready`` JSON line once it accepts connections."""
    stop = threading.Event()

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with FakeFlareServer(workspace=workspace, host=host, port=_port(port), seed=seed) as server:
            ready = {
                "event": "ready",
                "host": server.address[0],
                "admin_port": server.address[1],
                "startup_kits": {user: str(server.startup_kit(user)) for user in server.provisioned.kits},
            }
            print(json.dumps(ready), flush=True)
            while not stop.wait(0.5):
                pass
            errors = server.errors
        print(json.dumps({"event": "stopped", "unexpected_errors": len(errors)}), flush=True)
        return 1 if errors else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.workspace, args.host, args.port, args.seed)
    if args.command == "provision":
        provisioned = provision(DEFAULT_PROJECT, args.workspace)
        print(json.dumps({"event": "provisioned", "startup_kits": {u: str(p) for u, p in provisioned.kits.items()}}))
        return 0
    from .demo import run_demo

    return run_demo(Path(args.workspace) if args.workspace else None, out=sys.stdout)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
