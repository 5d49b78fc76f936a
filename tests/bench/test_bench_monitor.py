"""A one-hour job monitored every 2 s on a shared virtual clock: how much wall time does it take?

Both transports run FLARE's protocol bytes; TLS also opens one connection per poll, as FLARE does.
"""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from flare_api import MonitorReturnCode, VirtualClock

HOUR_JOB = JobScript(queued=Phase.after(1.0), deploying=Phase.after(1.0), running=Phase.after(3600.0))


@pytest.mark.parametrize("in_process", [True, False], ids=["in_process", "tls"])
def test_one_hour_virtual_job_monitored_every_2s(benchmark, tmp_path, in_process: bool) -> None:
    clock = VirtualClock()
    polls: list[int] = []
    with FakeFlareServer(workspace=tmp_path, clock=clock, default_script=HOUR_JOB) as server:
        with server.session(in_process=in_process) as session:

            def run() -> None:
                job_id = session.submit_job(str(example_job()))
                count = [0]

                def cb(*_: object) -> bool:
                    count[0] += 1
                    return True

                assert session.monitor_job(job_id, poll_interval=2.0, cb=cb) is MonitorReturnCode.JOB_FINISHED
                polls.append(count[0])

            benchmark.pedantic(run, rounds=3 if in_process else 1, iterations=1)
        server.raise_errors()
    assert polls and all(p == 1802 for p in polls)  # polls at t = 0, 2, ..., 3602 s
