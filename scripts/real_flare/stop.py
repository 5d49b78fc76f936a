"""Stops the real deployment through the admin API: ``shutdown all`` (clients first, then the server).

Aborts unfinished jobs first (FLARE refuses shutdown while a job runs) and waits until the job runner
has let go of them. Exit status 0 if the shutdown command was accepted.
"""

from __future__ import annotations

import argparse
import sys
import time

from flare_api import JobsStillRunning, new_secure_session


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kit", required=True)
    parser.add_argument("--user", default="admin@nvidia.com")
    parser.add_argument("--deadline", type=float, default=60.0)
    args = parser.parse_args()
    try:
        session = new_secure_session(args.user, args.kit, timeout=5.0)
    except Exception as exc:
        print(f"server not reachable ({type(exc).__name__}: {exc}); nothing to shut down via the API")
        return 1
    with session:
        for job in session.list_jobs():
            if not job["status"].startswith("FINISHED"):
                print(f"aborting {job['job_id']} ({job['status']})")
                session.abort_job(job["job_id"])
        end = time.monotonic() + args.deadline
        while True:
            try:
                session.shutdown("all")
                print("shutdown all: accepted")
                return 0
            except JobsStillRunning:
                if time.monotonic() > end:
                    raise
                time.sleep(1.0)


if __name__ == "__main__":
    sys.exit(main())
