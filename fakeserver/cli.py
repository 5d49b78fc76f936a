"""``flare-harness``: provision startup kits, serve the fake FLARE admin server, or run the demo.

Errors are one line on stderr (``flare-harness: error: ...``), never a traceback, and each kind has its
own exit code (:data:`EXIT_CODES`). Host, port and workspace are checked before anything is written.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Callable, Optional

from .model.project import ProvisionError, check_host
from .protocol.versions import FlareVersion
from .provision import DEFAULT_PROJECT, provision
from .server import FakeFlareServer
from .workspace_lock import WorkspaceBusy, WorkspaceLock, check_free

DEFAULT_WORKSPACE = "certs"

EXIT_OK = 0
#: ``serve`` stopped, but the fake recorded unexpected exceptions (bugs in the fake) while serving.
EXIT_SERVER_ERRORS = 1
#: Bad command line (argparse's own code): unknown command or flag, a port outside 0..65535, an
#: unwritable ``--record`` file.
EXIT_USAGE = 2
#: The port is already in use (or not ours to bind, e.g. below 1024 without privileges).
EXIT_PORT_UNAVAILABLE = 3
#: The host does not resolve to a local IPv4 address we can listen on.
EXIT_BAD_HOST = 4
#: The workspace is not a folder, or cannot be created or written.
EXIT_BAD_WORKSPACE = 5
#: A running ``flare-harness serve`` owns the workspace (its lock file is held).
EXIT_WORKSPACE_BUSY = 6

#: Exit code → meaning, as ``flare-harness --help`` lists them (and docs/guide.md).
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_SERVER_ERRORS: "serve: the fake recorded unexpected internal errors",
    EXIT_USAGE: "bad command line",
    EXIT_PORT_UNAVAILABLE: "the port is in use or may not be bound",
    EXIT_BAD_HOST: "the host is not a local IPv4 address",
    EXIT_BAD_WORKSPACE: "the workspace is not a writable folder",
    EXIT_WORKSPACE_BUSY: "a running 'flare-harness serve' owns the workspace",
}


class CliError(SystemExit):
    """A one-line error with its exit code; ``main`` prints it and lets it exit (no traceback)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flare-harness")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
        return "unknown"


def _epilog() -> str:
    return "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flare-harness",
        description="A fake NVIDIA FLARE 2.3 admin server: provision startup kits, serve, or run the demo.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flare-harness {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{serve,provision,demo}")

    serve = sub.add_parser(
        "serve",
        help="provision the default project and serve until SIGINT/SIGTERM",
        description="Provision the default project into the workspace, serve until SIGINT/SIGTERM, and print "
        "one JSON line when ready and one when stopped.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="where startup kits go (default: certs/)")
    serve.add_argument("--host", default="127.0.0.1", help="IPv4 address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="admin port (default: 0, any free port)")
    serve.add_argument("--seed", type=int, default=0, help="seed of job ids and tokens (default: 0)")
    serve.add_argument(
        "--flare-version",
        default="2.3",
        choices=[v.value for v in FlareVersion],
        help="the FLARE series to emulate (default: 2.3)",
    )
    serve.add_argument("--log-requests", action="store_true", help="print one line per request to stderr")
    serve.add_argument(
        "--record", metavar="FILE", default=None, help="append every request and reply to FILE as JSON lines"
    )

    prov = sub.add_parser(
        "provision",
        help="write the default project's startup kits and exit",
        description="Write the default project's startup kits into the workspace and print them as JSON.",
    )
    prov.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="where startup kits go (default: certs/)")

    demo = sub.add_parser(
        "demo",
        help="start a server in-process, log in, submit and monitor a job",
        description="Start a server with fresh certificates, log in, submit the bundled hello-numpy job, "
        "monitor it on a virtual clock, download and list the result.",
    )
    demo.add_argument("--workspace", default=None, help="keep the kits and downloads here (default: a temp dir)")
    return parser


# ----------------------------------------------------------------------------- checks (nothing written)
def check_port_range(port: int) -> int:
    """``--port`` must be a TCP port number or 0 (any free port)."""
    if not 0 <= port < 65536:
        raise CliError(EXIT_USAGE, f"--port must be between 0 and 65535, got {port}")
    return port


def check_endpoint(host: str, port: int) -> None:
    """Bind a throw-away socket the way the listener will, so a bad host or a taken port fails up front."""
    try:
        check_host(host)
        socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
    except (ProvisionError, socket.gaierror, UnicodeError) as exc:
        raise CliError(EXIT_BAD_HOST, f"--host {host!r} is not a usable IPv4 host ({exc})") from None
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        probe.listen(1)
    except OSError as exc:
        raise _bind_error(host, port, exc) from None
    finally:
        probe.close()


def _bind_error(host: str, port: int, exc: OSError) -> CliError:
    if exc.errno in (errno.EADDRINUSE, errno.EACCES):
        return CliError(EXIT_PORT_UNAVAILABLE, f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    return CliError(EXIT_BAD_HOST, f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def check_workspace(workspace: Path) -> None:
    """The workspace is a folder we can write, or can be created; and no running ``serve`` owns it."""
    if workspace.exists():
        if not workspace.is_dir():
            raise CliError(EXIT_BAD_WORKSPACE, f"--workspace {workspace} exists and is not a folder")
        if not os.access(workspace, os.W_OK | os.X_OK):
            raise CliError(EXIT_BAD_WORKSPACE, f"--workspace {workspace} is not writable")
        try:
            check_free(workspace)
        except WorkspaceBusy as exc:
            raise CliError(EXIT_WORKSPACE_BUSY, str(exc)) from None
        return
    ancestor = workspace.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise CliError(EXIT_BAD_WORKSPACE, f"--workspace {workspace} cannot be created: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise CliError(EXIT_BAD_WORKSPACE, f"--workspace {workspace} cannot be created: {ancestor} is not writable")


def check_record_file(path: Path) -> None:
    """``--record FILE`` must be a file (or not exist yet) in a writable folder."""
    folder = path.absolute().parent
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(EXIT_USAGE, f"--record {path} cannot be written (not a file in a writable folder)")


def _make_workspace(workspace: Path) -> None:
    try:
        workspace.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(EXIT_BAD_WORKSPACE, f"--workspace {workspace} cannot be created: {exc.strerror}") from None


# ----------------------------------------------------------------------------- commands
def serve(
    workspace: str,
    host: str,
    port: int,
    seed: int,
    *,
    log_requests: bool = False,
    record: Optional[str] = None,
    flare_version: str = "2.3",
) -> int:
    """Run the server in the foreground; print one ``ready`` JSON line once it accepts connections.

    ``log_requests`` prints each call of the server's call log to stderr; ``record`` appends each
    request and reply to that file as JSON lines (see ``CallLog.record_to``).
    """
    root = Path(workspace)
    check_endpoint(host, check_port_range(port))
    check_workspace(root)
    if record is not None:
        check_record_file(Path(record))
    _make_workspace(root)
    lock = WorkspaceLock(root)
    try:
        lock.acquire()
    except WorkspaceBusy as exc:  # another serve won the race since check_workspace
        raise CliError(EXIT_WORKSPACE_BUSY, str(exc)) from None
    try:
        return _serve_locked(root, host, port, seed, log_requests, record, flare_version)
    finally:
        lock.release()


def _serve_locked(
    root: Path, host: str, port: int, seed: int, log_requests: bool, record: Optional[str], flare_version: str = "2.3"
) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server = FakeFlareServer(workspace=root, host=host, port=port, seed=seed, flare_version=flare_version)
        try:
            server.start()
        except OSError as exc:  # the port was taken between the check and the bind
            raise _bind_error(host, port, exc) from None
        try:
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
        finally:
            server.stop()
        print(json.dumps({"event": "stopped", "unexpected_errors": len(errors)}), flush=True)
        return EXIT_SERVER_ERRORS if errors else EXIT_OK
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def provision_command(workspace: str) -> int:
    """Write the default project's kits into ``workspace`` unless a running ``serve`` owns it."""
    root = Path(workspace)
    check_workspace(root)
    try:
        provisioned = provision(DEFAULT_PROJECT, root)
    except OSError as exc:
        raise CliError(EXIT_BAD_WORKSPACE, f"--workspace {root}: {exc.strerror or exc}") from None
    print(json.dumps({"event": "provisioned", "startup_kits": {u: str(p) for u, p in provisioned.kits.items()}}))
    return EXIT_OK


def demo_command(workspace: Optional[str]) -> int:
    """The quick-start demo, in a temporary folder or in ``workspace``."""
    from .demo import run_demo

    if workspace is not None:
        check_workspace(Path(workspace))
    return run_demo(Path(workspace) if workspace else None, out=sys.stdout)


def _quiet_closed_stdout() -> None:
    """The reader of stdout went away (``| head -1``): point stdout at /dev/null so the exit flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``flare-harness``: returns the exit code, or raises :class:`CliError` (a SystemExit)."""
    args = _parser().parse_args(argv)
    commands: dict[str, Callable[[], int]] = {
        "serve": lambda: serve(
            args.workspace,
            args.host,
            args.port,
            args.seed,
            log_requests=args.log_requests,
            record=args.record,
            flare_version=args.flare_version,
        ),
        "provision": lambda: provision_command(args.workspace),
        "demo": lambda: demo_command(args.workspace),
    }
    try:
        code = commands[args.command]()
        sys.stdout.flush()  # inside the try: a reader that went away surfaces here, not at interpreter exit
        return code
    except CliError as error:
        print(f"flare-harness: error: {error.message}", file=sys.stderr)
        raise
    except BrokenPipeError:
        _quiet_closed_stdout()
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
