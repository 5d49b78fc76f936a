"""list_jobs' cached row texts cannot go stale: after any sequence of job changes (submissions with any
timeline, time passing, aborts, deletions, a meta changed behind the store's back) the listing spliced from
the cache equals one built afresh with every cache dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeserver import FakeFlareServer, JobScript, Phase
from flare_api import FlareError, Session, VirtualClock
from tests.bench import history
from tests.helpers import examples

SCRIPTS = [
    JobScript(queued=Phase.after(0.0), deploying=Phase.after(1.0), running=Phase.after(5.0), rounds=2),
    JobScript(queued=Phase.after(3.0), deploying=Phase.after(0.0), running=Phase.after(60.0), rounds=3),
    JobScript(queued=Phase.after(0.0), deploying=Phase.after(0.0), running=Phase.after(0.0), rounds=1),
]
OPS = st.one_of(
    st.tuples(st.just("submit"), st.integers(0, len(SCRIPTS) - 1)),
    st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 2.0, 4.0, 30.0, 120.0])),
    st.tuples(st.just("abort"), st.integers(0, 20)),
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("rename"), st.integers(0, 20), st.one_of(st.text(max_size=6), st.integers(0, 3), st.none())),
    st.tuples(st.just("list"), st.just(0)),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFlareServer]:
    with FakeFlareServer(workspace=tmp_path_factory.mktemp("rows"), clock=VirtualClock()) as running:
        yield running


def _apply(server: FakeFlareServer, session: Session, folder: Path, op: tuple[Any, ...]) -> None:
    clock = server.clock
    assert isinstance(clock, VirtualClock)
    ids = server.jobs.ids()
    kind = op[0]
    if kind == "submit":
        server.jobs.script_next(SCRIPTS[op[1]])
        session.submit_job(folder)
    elif kind == "advance":
        clock.advance(op[1])
    elif kind == "list":
        session.list_jobs()
    elif ids:
        job_id = ids[op[1] % len(ids)]
        try:
            if kind == "abort":
                session.abort_job(job_id)
            elif kind == "delete":
                session.delete_job(job_id)
            else:  # any change to the meta, even one the store did not make
                state = server._state
                with state.lock:
                    state.jobs.require(job_id).meta["name"] = op[2]
        except FlareError:
            pass  # e.g. aborting a finished job: refused, nothing changed


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, max_size=25))
def test_the_spliced_listing_equals_a_fresh_one(server: FakeFlareServer, tmp_path: Path, ops: list) -> None:
    server.reset()
    folder = history.write_job_folder(tmp_path)
    with server.session(history.ADMIN, in_process=True) as session:
        for op in ops:
            _apply(server, session, folder, op)
        cached = session.do_command("list_jobs")
        state = server._state
        with state.lock:
            for record in state.jobs:
                record.list_row = None
        fresh = session.do_command("list_jobs")
    cached.pop("time")
    fresh.pop("time")  # when the reply was written
    assert cached == fresh
