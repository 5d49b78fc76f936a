"""list_jobs served from the store's indexes answers exactly as FLARE's walk over every job does.

The reference is FLARE's own algorithm (filter every job, stable sort by submit_time, cut to -m) on the
same store; the jobs have equal and out-of-order submit times, missing or non-string names, several
submitters, and deletions.
"""

from __future__ import annotations

import argparse
import random
from typing import Any, Optional

from hypothesis import given, settings
from hypothesis import strategies as st

from fakeserver.commands.job_mgmt import _matches, _select
from fakeserver.model.jobs import JobStore


class SettableClock:
    """A clock a test sets to any time, backwards too (a real clock can step back)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now


def reference(store: JobStore, options: argparse.Namespace, user: Optional[str]) -> list[str]:
    """FLARE 2.3.12's list_jobs selection: every job tested, sorted, then cut."""
    jobs = [record.meta for record in store]
    selected = [m for m in jobs if _matches(m, options.job_id, options.n, user)]
    selected.sort(key=lambda m: m.get("submit_time", 0.0), reverse=bool(options.r))
    if options.m:
        selected = selected[: options.m] if options.r else selected[-options.m :]
    return [m["job_id"] for m in selected]


def outcome(action: Any) -> tuple[str, Any]:
    try:
        return "ok", action()
    except Exception as exc:  # compared, not swallowed: both sides must fail the same way
        return "error", f"{type(exc).__name__}: {exc}"


NAMES = st.one_of(st.none(), st.sampled_from(["alpha", "Alpha-2", "beta", "", "ALP"]), st.integers(0, 3))
JOB = st.tuples(NAMES, st.sampled_from(["alice", "bob", None]), st.sampled_from([0.0, 0.0, 1.0, 2.5, -3.0]))


@settings(max_examples=400, deadline=None)
@given(
    jobs=st.lists(JOB, max_size=25),
    deletions=st.lists(st.integers(0, 24), max_size=5),
    id_prefix=st.one_of(st.none(), st.text("0123456789abcdefABCDEF-", max_size=3)),
    name_prefix=st.one_of(st.none(), st.sampled_from(["", "a", "AL", "b", "z"])),
    user=st.one_of(st.none(), st.sampled_from(["alice", "bob", "carol"])),
    reverse=st.booleans(),
    limit=st.one_of(st.none(), st.integers(-4, 30)),
    seed=st.integers(0, 2**32),
)
def test_indexed_selection_equals_flares_walk(
    jobs: list[tuple[Any, Optional[str], float]],
    deletions: list[int],
    id_prefix: Optional[str],
    name_prefix: Optional[str],
    user: Optional[str],
    reverse: bool,
    limit: Optional[int],
    seed: int,
) -> None:
    clock = SettableClock()
    store = JobStore(clock, random.Random(seed), lambda: [])
    for name, submitter, step in jobs:
        clock.now += step
        meta: dict[str, Any] = {"deploy_map": {}}
        if name is not None:
            meta["name"] = name
        if submitter is not None:
            meta["submitter_name"] = submitter
        store.create(meta, b"")
    ids = [record.job_id for record in store]
    for index in deletions:
        if index < len(ids) and store.get(ids[index]) is not None:
            store.delete(ids[index])
    options = argparse.Namespace(job_id=id_prefix, n=name_prefix, u=user is not None, r=reverse, m=limit, d=False)
    got = outcome(lambda: [record.job_id for record in _select(store, options, user)])
    assert got == outcome(lambda: reference(store, options, user))


def test_prefix_of_a_real_id_finds_it_among_many() -> None:
    clock = SettableClock()
    store = JobStore(clock, random.Random(7), lambda: [])
    records = [store.create({"name": f"job{i}", "submitter_name": "alice"}, b"") for i in range(500)]
    target = records[123]
    options = argparse.Namespace(job_id=target.job_id[:8].upper(), n=None, u=False, r=False, m=None, d=False)
    assert [r.job_id for r in _select(store, options, None)] == [target.job_id]
