"""A finished job's downloaded run workspace per series, as the real 2.4.2 / 2.5.2 / 2.6.3 servers send it
(scripts/real_flare_socket/captures, ``session: download_job_result(FIN)``): 2.4+ add ``stats_pool_summary.json``,
2.6 also ``audit.log``, ``log.json``, ``log_error.txt`` and ``log_fl.txt``. Our client downloads over TLS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeserver import FakeFlareServer, JobScript
from fakeserver.example_jobs import example_job
from fakeserver.protocol import messages as msg
from flare_api import VirtualClock, new_secure_session
from tests.helpers import ADMIN

pytestmark = pytest.mark.fake_flare_only

CAPTURES = Path(__file__).resolve().parents[2] / "scripts" / "real_flare_socket" / "captures"
RELEASES = {"2.3": None, "2.4": "2.4.2", "2.5": "2.5.2", "2.6": "2.6.3"}
BASE = {"fl_app.txt", "log.txt", "meta.json"}
#: The pools of a real 2.5.2 server's stats_pool_summary.json (a finished hello-numpy, /tmp/realflare25).
REAL_POOLS = {
    "msg_travel", "received_msg_counters", "received_msg_sizes", "received_stream_counters", "received_stream_sizes",
    "request_processing", "request_response", "sent_msg_counters", "sent_msg_sizes", "sent_stream_counters",
    "sent_stream_sizes", "sfm_send_frame",
}  # fmt: skip


@pytest.fixture(params=sorted(RELEASES))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    workspace = tmp_path_factory.mktemp(f"runfiles-{request.param}")
    with FakeFlareServer(
        workspace=workspace, clock=VirtualClock(), intercept=False, flare_version=request.param
    ) as fake:
        fake.jobs.script(JobScript.completes(after=15, rounds=3), name="hello-numpy")
        yield fake
        fake.raise_errors()


def _workspace_files(root: Path) -> set[str]:
    """The top-level files of the downloaded run workspace (app_server/ and models/ are the 2.3 ones)."""
    return {p.name for p in (root / "workspace").iterdir() if p.is_file()}


def _real_workspace_files(release: str) -> set[str]:
    capture = json.loads((CAPTURES / f"real-{release}.json").read_text())
    files = capture["session: download_job_result(FIN)"]["returned"]["files"]
    return {f.split("/", 1)[1] for f in files if f.startswith("workspace/") and f.count("/") == 1}


def test_the_run_workspace_holds_what_the_real_server_of_the_series_writes(server: FakeFlareServer) -> None:
    with new_secure_session(ADMIN, server.startup_kit(ADMIN), timeout=10.0) as session:
        job_id = session.submit_job(str(example_job()))
        server.jobs.run_to_completion(job_id)
        root = Path(session.download_job_result(job_id))
    got = _workspace_files(root)
    release = RELEASES[server.flare_version.value]
    if release is None:
        assert got == BASE  # 2.3.12 results: the server's run folder only
        return
    assert got == _real_workspace_files(release)
    summary = json.loads((root / "workspace" / "stats_pool_summary.json").read_text())
    assert set(summary) == REAL_POOLS
    assert summary["sent_msg_counters"] == {
        "type": "counter",
        "pool": {
            "name": "sent_msg_counters",
            "description": msg.POOLS["sent_msg_counters"][1],
            "counter_names": [],
            "cat_data": {},
        },
    }
    if release == "2.6.3":
        log_lines = (root / "workspace" / "log.txt").read_text().splitlines()
        records = [json.loads(line) for line in (root / "workspace" / "log.json").read_text().splitlines()]
        assert len(records) == len(log_lines) > 0
        assert records[0]["asctime"] in log_lines[0] and records[-1]["message"] in log_lines[-1]
        assert records[0]["fl_ctx"] == f"[identity=server, run={job_id}]"
        assert (root / "workspace" / "log_fl.txt").read_text().splitlines() == log_lines
        assert (root / "workspace" / "log_error.txt").read_text() == ""  # a completed run logs no error
