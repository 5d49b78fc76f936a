"""Waits until the real FLARE server answers and the given clients are registered (flare_api only)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from flare_api import new_secure_session


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kit", required=True)
    parser.add_argument("--user", default=None)
    parser.add_argument("--clients", nargs="*", default=[])
    parser.add_argument("--deadline", type=float, default=180.0)
    args = parser.parse_args()
    user = args.user or os.path.basename(args.kit.rstrip("/"))
    end = time.monotonic() + args.deadline
    last: object = None
    while time.monotonic() < end:
        try:
            with new_secure_session(user, args.kit, timeout=5.0) as session:
                info = session.get_system_info()
            names = sorted(c.name for c in info.client_info)
            if set(args.clients) <= set(names):
                waited = args.deadline - (end - time.monotonic())
                print(f"ready after {waited:.1f}s: {info.server_info}; clients {names}")
                return 0
            last = f"clients so far: {names}"
        except Exception as exc:  # not up yet
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(2.0)
    print(f"not ready within {args.deadline}s; last: {last}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
