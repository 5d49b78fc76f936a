"""Properties of ``monitor_job`` (reference 8.7) on a virtual clock.

(a) Unit level: ``flare_api.monitor.monitor`` driven by a synthetic ``get_meta`` whose statuses hypothesis
    chooses, checked against a direct transcription of the reference loop.
(b) End to end: ``Session.monitor_job`` over TLS against the session-scoped fake server, with poll-based
    and seconds-based job scripts; the polls made and the statuses seen follow from the script.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Any, Callable, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeserver import FakeFlareServer, JobScript, Phase
from fakeserver.example_jobs import example_job
from fakeserver.model.job_script import LEGAL_TRANSITIONS, RunStatus
from flare_api import (
    InternalError,
    InvalidArgumentError,
    JobNotFound,
    MonitorReturnCode,
    Session,
    SessionClosed,
    VirtualClock,
    new_secure_session,
)
from flare_api.clock import DEFAULT_VIRTUAL_START
from flare_api.monitor import monitor
from tests.helpers import examples

pytestmark = pytest.mark.fake_flare_only

# --------------------------------------------------------------------------------------------- strategies

#: Every terminal status FLARE 2.3 writes (reference 7.2), plus other strings that start with FINISHED.
FLARE_TERMINAL = [s.value for s in RunStatus if s.finished]
TERMINAL = st.one_of(
    st.sampled_from(FLARE_TERMINAL),
    st.just("FINISHED"),
    st.text(max_size=8).map(lambda tail: "FINISHED" + tail),
)
#: Statuses that must not end the loop: FLARE's live ones and any non-empty text not starting with FINISHED.
NON_TERMINAL = st.one_of(
    st.sampled_from(["SUBMITTED", "APPROVED", "DISPATCHED", "RUNNING", "finished:completed", " FINISHED"]),
    st.text(min_size=1, max_size=10).filter(lambda s: not s.startswith("FINISHED")),
)
#: Dyadic values only, so ``k * poll_interval`` and the virtual clock's sums are exact in binary floating point.
POLL_INTERVALS = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 5.0, 10.0])
TIMEOUTS = st.one_of(
    st.integers(-8, 200).map(lambda n: n / 4),
    st.sampled_from([0, -1, 0.0, -0.0, float("inf"), -float("inf")]),
)
FALSY = st.sampled_from([False, None, 0, 0.0, "", [], (), {}])
TRUTHY = st.sampled_from([True, 1, "yes", [0], {"k": 0}, object()])
CLOCK_STARTS = st.sampled_from([0.0, DEFAULT_VIRTUAL_START])
JOB_IDS = st.one_of(st.uuids().map(str), st.text(min_size=1, max_size=12))


class RecordingClock(VirtualClock):
    """A virtual clock that remembers every sleep it was asked for."""

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


class FakeMeta:
    """``get_meta``: hands out a fresh dict per call with the scripted statuses, then RUNNING forever."""

    def __init__(self, job_id: str, statuses: list[Any], *, cap: int = 5000) -> None:
        self.job_id = job_id
        self.statuses = statuses
        self.returned: list[dict[str, Any]] = []
        self.cap = cap

    def status_at(self, k: int) -> Any:
        return self.statuses[k] if k < len(self.statuses) else "RUNNING"

    def __call__(self, job_id: str) -> dict[str, Any]:
        assert job_id is self.job_id, "monitor must pass the job id through unchanged"
        k = len(self.returned)
        assert k < self.cap, "monitor kept polling far beyond what the model allows"
        meta = {"job_id": job_id, "poll": k, "status": self.status_at(k)}
        self.returned.append(meta)
        return meta


class RecordingCallback:
    """A callback returning scripted values (truthy once the script runs out) and recording each call."""

    def __init__(self, returns: list[Any]) -> None:
        self.returns = returns
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def value_at(self, k: int) -> Any:
        return self.returns[k] if k < len(self.returns) else True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        k = len(self.calls)
        self.calls.append((args, kwargs))
        return self.value_at(k)


def reference_loop(
    status_at: Callable[[int], Any],
    cb_value_at: Optional[Callable[[int], Any]],
    timeout: float,
    poll_interval: float,
) -> tuple[MonitorReturnCode, int]:
    """Reference 8.7, transcribed with elapsed time ``k * poll_interval`` at the k-th timeout check.

    Returns the code and the number of polls made.
    """
    k = 0
    while True:
        if timeout > 0 and k * poll_interval > timeout:
            return MonitorReturnCode.TIMEOUT, k
        status = status_at(k)  # the poll
        if cb_value_at is not None and not cb_value_at(k):
            return MonitorReturnCode.ENDED_BY_CB, k + 1
        if not status:
            raise AssertionError("the model is not used for missing statuses")
        if str(status).startswith("FINISHED"):
            return MonitorReturnCode.JOB_FINISHED, k + 1
        k += 1


@st.composite
def monitor_cases(draw: st.DrawFn) -> dict[str, Any]:
    timeout = draw(TIMEOUTS)
    poll_interval = draw(POLL_INTERVALS)
    statuses = draw(st.lists(NON_TERMINAL, max_size=12))
    can_time_out = timeout > 0 and poll_interval > 0 and not math.isinf(timeout)
    # Without a reachable timeout the job must finish at some point (or the callback must stop it).
    if not can_time_out or draw(st.booleans()):
        statuses.append(draw(TERMINAL))
        statuses += draw(st.lists(st.one_of(TERMINAL, NON_TERMINAL), max_size=3))  # never read
    use_cb = draw(st.booleans())
    cb_returns = draw(st.lists(st.one_of(TRUTHY, FALSY), max_size=15)) if use_cb else None
    return {
        "timeout": timeout,
        "poll_interval": poll_interval,
        "statuses": statuses,
        "cb_returns": cb_returns,
        "start": draw(CLOCK_STARTS),
        "job_id": draw(JOB_IDS),
        "cb_args": tuple(draw(st.lists(st.one_of(st.integers(), st.text(), st.builds(object)), max_size=3))),
        "cb_kwargs": draw(
            st.dictionaries(
                st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True),
                st.one_of(st.integers(), st.builds(list)),
                max_size=3,
            )
        ),
    }


# --------------------------------------------------------------------------------------------- (a) unit level


@given(monitor_cases())
def test_monitor_follows_the_reference_loop(case: dict[str, Any]) -> None:
    session = object()
    job_id = case["job_id"]
    clock = RecordingClock(case["start"])
    get_meta = FakeMeta(job_id, case["statuses"])
    cb = RecordingCallback(case["cb_returns"]) if case["cb_returns"] is not None else None
    timeout, poll_interval = case["timeout"], case["poll_interval"]

    args, kwargs = case["cb_args"], case["cb_kwargs"]
    code, last = monitor(session, job_id, get_meta, clock, timeout, poll_interval, cb, args, kwargs)

    want_code, want_polls = reference_loop(get_meta.status_at, cb.value_at if cb else None, timeout, poll_interval)
    polls = len(get_meta.returned)
    assert (code, polls) == (want_code, want_polls)
    assert polls >= 1, "the first poll always happens"
    # The returned meta is the very object the last poll returned (the callback saw it too).
    assert last is get_meta.returned[-1]
    # Virtual time: one sleep of exactly poll_interval between consecutive polls, plus one before a timeout.
    sleeps = polls if code is MonitorReturnCode.TIMEOUT else polls - 1
    assert clock.sleeps == [poll_interval] * sleeps
    assert clock.time() - case["start"] == sleeps * poll_interval
    if code is MonitorReturnCode.TIMEOUT:
        assert timeout > 0
        assert polls * poll_interval > timeout >= (polls - 1) * poll_interval
    if code is MonitorReturnCode.JOB_FINISHED:
        assert str(last["status"]).startswith("FINISHED")
        assert all(not str(m["status"]).startswith("FINISHED") for m in get_meta.returned[:-1])
    if cb is None:
        return
    # Exactly one callback per poll, with the arguments passed through unchanged (same objects).
    assert len(cb.calls) == polls
    for (args, kwargs), meta in zip(cb.calls, get_meta.returned):
        assert len(args) == 3 + len(case["cb_args"])
        assert args[0] is session and args[1] is job_id and args[2] is meta
        assert all(a is b for a, b in zip(args[3:], case["cb_args"]))
        assert kwargs == case["cb_kwargs"]
        assert all(kwargs[key] is value for key, value in case["cb_kwargs"].items())
    if code is MonitorReturnCode.ENDED_BY_CB:
        assert not cb.value_at(polls - 1)
        assert all(cb.value_at(k) for k in range(polls - 1))


@given(
    prefix=st.lists(st.sampled_from(["SUBMITTED", "DISPATCHED", "RUNNING"]), max_size=8),
    terminal=st.sampled_from(FLARE_TERMINAL),
    poll_interval=POLL_INTERVALS,
    start=CLOCK_STARTS,
)
def test_finishing_job_advances_time_by_polls_minus_one_intervals(
    prefix: list[str], terminal: str, poll_interval: float, start: float
) -> None:
    clock = VirtualClock(start)
    get_meta = FakeMeta("job", [*prefix, terminal])
    code, last = monitor(None, get_meta.job_id, get_meta, clock, 0.0, poll_interval, None, (), {})
    assert code is MonitorReturnCode.JOB_FINISHED
    assert last is not None and last["status"] == terminal
    assert len(get_meta.returned) == len(prefix) + 1
    assert clock.time() - start == len(prefix) * poll_interval


@given(
    timeout=st.integers(1, 400).map(lambda n: n / 4),
    poll_interval=st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0, 7.5]),
    start=CLOCK_STARTS,
)
def test_timeout_is_checked_before_each_poll_only(timeout: float, poll_interval: float, start: float) -> None:
    """A job that never finishes: TIMEOUT at the first check k with k * poll_interval > timeout."""
    clock = VirtualClock(start)
    get_meta = FakeMeta("job", [])
    code, last = monitor(None, "job", get_meta, clock, timeout, poll_interval, None, (), {})
    expected = math.floor(Fraction(timeout) / Fraction(poll_interval)) + 1
    assert code is MonitorReturnCode.TIMEOUT
    assert len(get_meta.returned) == expected
    assert last is get_meta.returned[-1]
    assert clock.time() - start == expected * poll_interval


@given(
    timeout=st.sampled_from([0, 0.0, -0.0, -1, -1e9, -float("inf")]),
    polls=st.integers(1, 60),
    poll_interval=st.sampled_from([0.0, 1.0, 60.0, 3600.0]),
)
def test_non_positive_timeout_never_times_out(timeout: float, polls: int, poll_interval: float) -> None:
    clock = VirtualClock()
    get_meta = FakeMeta("job", ["RUNNING"] * (polls - 1) + ["FINISHED:COMPLETED"])
    code, _ = monitor(None, "job", get_meta, clock, timeout, poll_interval, None, (), {})
    assert code is MonitorReturnCode.JOB_FINISHED
    assert len(get_meta.returned) == polls


@given(falsy=FALSY, before=st.integers(0, 6), status=st.one_of(NON_TERMINAL, st.sampled_from(FLARE_TERMINAL)))
def test_any_falsy_callback_return_ends_the_loop(falsy: Any, before: int, status: str) -> None:
    """Even on a finished status: the callback runs before the status check (it sees the final meta)."""
    get_meta = FakeMeta("job", ["RUNNING"] * before + [status])
    cb = RecordingCallback([True] * before + [falsy])
    code, last = monitor(None, "job", get_meta, VirtualClock(), 0.0, 1.0, cb, (), {})
    assert code is MonitorReturnCode.ENDED_BY_CB
    assert len(cb.calls) == len(get_meta.returned) == before + 1
    assert last is get_meta.returned[-1] and last["status"] == status


@given(
    before=st.integers(0, 6),
    missing=st.sampled_from(["absent", "", None]),
    job_id=JOB_IDS,
    with_cb=st.booleans(),
)
def test_missing_status_raises_internal_error(before: int, missing: Any, job_id: str, with_cb: bool) -> None:
    last_meta: dict[str, Any] = {} if missing == "absent" else {"status": missing}
    metas = [{"status": "RUNNING"}] * before + [last_meta]
    calls: list[str] = []

    def get_meta(jid: str) -> dict[str, Any]:
        calls.append(jid)
        return metas[len(calls) - 1]

    cb = RecordingCallback([]) if with_cb else None
    clock = VirtualClock()
    with pytest.raises(InternalError) as excinfo:
        monitor(None, job_id, get_meta, clock, 0.0, 2.0, cb, (), {})
    assert str(excinfo.value) == f"missing status in job {job_id}"
    assert len(calls) == before + 1
    if cb is not None:
        assert len(cb.calls) == before + 1  # the callback saw the status-less meta first
        assert cb.calls[-1][0][2] is metas[-1]
    assert clock.time() == DEFAULT_VIRTUAL_START + 2.0 * before


class Boom(Exception):
    pass


ERRORS = st.sampled_from([Boom, KeyError, ValueError, RuntimeError, JobNotFound, SessionClosed, InternalError, OSError])


@given(error=ERRORS, at=st.integers(0, 6), timeout=st.sampled_from([0.0, 1000.0]))
def test_get_meta_exceptions_propagate_unchanged(error: type[Exception], at: int, timeout: float) -> None:
    raised = error("from get_meta")
    calls = 0

    def get_meta(job_id: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == at + 1:
            raise raised
        return {"status": "RUNNING"}

    cb = RecordingCallback([])
    with pytest.raises(error) as excinfo:
        monitor(None, "job", get_meta, VirtualClock(), timeout, 1.0, cb, (), {})
    assert excinfo.value is raised
    assert calls == at + 1
    assert len(cb.calls) == at  # the failed poll never reached the callback


@given(error=ERRORS, at=st.integers(0, 6), finished=st.booleans())
def test_callback_exceptions_propagate_unchanged(error: type[Exception], at: int, finished: bool) -> None:
    raised = error("from the callback")
    get_meta = FakeMeta("job", ["RUNNING"] * at + ["FINISHED:COMPLETED" if finished else "RUNNING"])
    calls = 0

    def cb(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == at + 1:
            raise raised
        return True

    with pytest.raises(error) as excinfo:
        monitor(None, "job", get_meta, VirtualClock(), 0.0, 1.0, cb, (), {})
    assert excinfo.value is raised
    assert len(get_meta.returned) == calls == at + 1


BAD_NUMBERS = st.sampled_from(["10", None, [], {}, b"1", True, False, object(), 1j])


@given(
    which=st.sampled_from(["negative_poll_interval", "poll_interval_type", "timeout_type", "cb"]),
    negative=st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-9, allow_nan=False)),
    not_a_number=BAD_NUMBERS,
    not_callable=st.sampled_from([1, "cb", b"cb", [], {}, 0.5, True, object()]),
)
def test_bad_arguments_raise_before_any_poll(which: str, negative: float, not_a_number: Any, not_callable: Any) -> None:
    timeout: Any = 0.0
    poll_interval: Any = 1.0
    cb: Any = None
    if which == "negative_poll_interval":
        poll_interval = negative
    elif which == "poll_interval_type":
        poll_interval = not_a_number
    elif which == "timeout_type":
        timeout = not_a_number
    else:
        cb = not_callable
    clock = VirtualClock()
    get_meta = FakeMeta("job", ["FINISHED:COMPLETED"])
    with pytest.raises(InvalidArgumentError):
        monitor(None, "job", get_meta, clock, timeout, poll_interval, cb, (), {})
    assert get_meta.returned == []
    assert clock.time() == DEFAULT_VIRTUAL_START


class TooManyPolls(Exception):
    """Raised by a guard ``get_meta`` so that a runaway monitor loop fails instead of hanging the test."""


@pytest.mark.parametrize(("poll_interval", "timeout"), [(float("nan"), 5.0), (float("inf"), 0.0)], ids=["nan", "inf"])
def test_non_finite_poll_interval_is_refused(poll_interval: float, timeout: float) -> None:
    """Reference 8.7 step 5 sleeps ``poll_interval`` s: FLARE's ``time.sleep(nan)`` raises ValueError and
    ``time.sleep(inf)`` OverflowError after the first poll; we refuse them up front, like a negative interval
    (without the check the loop would poll forever: NaN never moves the clock, inf jumps it to inf)."""
    polls = 0

    def get_meta(job_id: str) -> dict[str, Any]:
        nonlocal polls
        polls += 1
        if polls > 100:
            raise TooManyPolls(f"{polls} polls with poll_interval={poll_interval}, timeout={timeout}")
        return {"status": "RUNNING"}

    with pytest.raises(InvalidArgumentError):
        monitor(None, "job", get_meta, VirtualClock(), timeout, poll_interval, None, (), {})
    assert polls == 0


# --------------------------------------------------------------------------------------------- (b) end to end

USER = "admin@nvidia.com"
HELLO = str(example_job())
RUN_OUTCOMES = {
    "COMPLETED": "FINISHED:COMPLETED",
    "EXECUTION_EXCEPTION": "FINISHED:EXECUTION_EXCEPTION",
    "ABNORMAL": "FINISHED:ABNORMAL",
    "ABORTED": "FINISHED:ABORTED",
    "ABANDONED": "FINISHED:ABANDONED",
}
E2E = settings(
    max_examples=examples(20),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)


@contextlib.contextmanager
def fresh_session(server: FakeFlareServer) -> Iterator[Session]:
    """What the ``flare`` fixture does per test, done per hypothesis example: reset, then log in anew."""
    server.reset()
    session = new_secure_session(USER, server.startup_kit(USER), clock=server.clock)
    try:
        yield session
    finally:
        session.close()


def assert_consecutive_legal(server: FakeFlareServer, job_id: str) -> None:
    record = server.jobs.record(job_id)
    previous = RunStatus.SUBMITTED
    for _, old, new in record.transitions:
        assert old is previous and new in LEGAL_TRANSITIONS[old], record.transitions
        previous = new
    assert previous is record.status


def expected_run(
    status_at: Callable[[int], str], timeout: float, poll_interval: float, stop_at: Optional[int]
) -> tuple[MonitorReturnCode, list[str]]:
    """What monitor_job returns and which statuses its callback sees, by reference 8.7."""
    code, polls = reference_loop(
        status_at, (lambda k: k + 1 != stop_at) if stop_at is not None else (lambda k: True), timeout, poll_interval
    )
    seen = [status_at(k) for k in range(polls)]
    return code, seen


def monitor_and_record(
    server: FakeFlareServer,
    session: Session,
    job_id: str,
    timeout: float,
    poll_interval: float,
    stop_at: Optional[int],
) -> tuple[MonitorReturnCode, list[str], list[float]]:
    seen: list[str] = []
    at: list[float] = []

    def cb(s: Session, jid: str, meta: dict[str, Any], tag: object, *, marker: object) -> bool:
        assert s is session and jid == job_id and tag is TAG and marker is TAG
        seen.append(meta["status"])
        at.append(server.clock.time() - meta["submit_time"])
        return len(seen) != stop_at

    polls_before = sum(1 for a in server.audit if a.command.startswith("get_job_meta"))
    code = session.monitor_job(job_id, timeout, poll_interval, cb, TAG, marker=TAG)
    polls = sum(1 for a in server.audit if a.command.startswith("get_job_meta")) - polls_before
    assert polls == len(seen), "one get_job_meta per poll, one callback per poll"
    return code, seen, at


TAG = object()


@pytest.fixture
def e2e_server(flare_server: FakeFlareServer) -> Iterator[FakeFlareServer]:
    if not isinstance(flare_server.clock, VirtualClock):
        pytest.skip("needs the fake server on a virtual clock")
    flare_server.reset()  # a test before may have shut the shared server down
    yield flare_server
    assert flare_server.errors == []
    flare_server.reset()


@E2E
@given(
    a=st.integers(0, 4),
    b=st.integers(0, 4),
    c=st.integers(0, 4),
    outcome=st.sampled_from(sorted(RUN_OUTCOMES)),
    poll_interval=st.sampled_from([0.0, 0.5, 1.0, 2.0, 30.0]),
    timeout=st.one_of(st.just(0.0), st.integers(1, 12).map(float)),
    stop_at=st.one_of(st.none(), st.integers(1, 14)),
)
def test_by_polls_script_sets_polls_and_statuses_seen(
    e2e_server: FakeFlareServer,
    a: int,
    b: int,
    c: int,
    outcome: str,
    poll_interval: float,
    timeout: float,
    stop_at: Optional[int],
) -> None:
    """A phase of N polls is seen by exactly N reads; a 0-poll phase is never seen; the callback sees it all."""
    server = e2e_server
    final = RUN_OUTCOMES[outcome]
    script_statuses = ["SUBMITTED"] * a + ["DISPATCHED"] * b + ["RUNNING"] * c + [final]

    def status_at(k: int) -> str:
        return script_statuses[min(k, len(script_statuses) - 1)]

    want_code, want_seen = expected_run(status_at, timeout, poll_interval, stop_at)
    with fresh_session(server) as session:
        server.jobs.script_next(JobScript.by_polls(submitted=a, dispatched=b, running=c, outcome=outcome))
        job_id = session.submit_job(HELLO)
        start = server.clock.time()
        code, seen, _ = monitor_and_record(server, session, job_id, timeout, poll_interval, stop_at)
        assert (code, seen) == (want_code, want_seen)
        if stop_at is None and timeout == 0.0:
            assert code is MonitorReturnCode.JOB_FINISHED
            assert len(seen) == a + b + c + 1
        assert server.clock.time() - start == poll_interval * (
            len(seen) if code is MonitorReturnCode.TIMEOUT else len(seen) - 1
        )
        assert server.jobs.status(job_id).value == seen[-1]
        assert_consecutive_legal(server, job_id)
    assert server.errors == []


HALF_SECONDS = st.integers(0, 12).map(lambda n: n / 2)


@settings(E2E, max_examples=examples(15))
@given(
    queued=HALF_SECONDS,
    deploying=HALF_SECONDS,
    running=HALF_SECONDS,
    outcome=st.sampled_from(sorted(RUN_OUTCOMES)),
    poll_interval=st.sampled_from([0.5, 1.0, 1.5, 2.0, 4.0, 10.0]),
)
def test_seconds_script_finishes_after_the_polls_the_arithmetic_implies(
    e2e_server: FakeFlareServer, queued: float, deploying: float, running: float, outcome: str, poll_interval: float
) -> None:
    """Poll k happens k * poll_interval after submission and sees the phase that covers that instant."""
    server = e2e_server
    final = RUN_OUTCOMES[outcome]
    total = Fraction(queued) + Fraction(deploying) + Fraction(running)
    want_polls = math.ceil(total / Fraction(poll_interval)) + 1

    def status_at(k: int) -> str:
        t = k * Fraction(poll_interval)
        if t < Fraction(queued):
            return "SUBMITTED"
        if t < Fraction(queued) + Fraction(deploying):
            return "DISPATCHED"
        if t < total:
            return "RUNNING"
        return final

    want_code, want_seen = expected_run(status_at, 0.0, poll_interval, None)
    assert want_code is MonitorReturnCode.JOB_FINISHED and len(want_seen) == want_polls
    with fresh_session(server) as session:
        server.jobs.script_next(
            JobScript(
                outcome=outcome,
                queued=Phase.after(queued),
                deploying=Phase.after(deploying),
                running=Phase.after(running),
            )
        )
        job_id = session.submit_job(HELLO)
        code, seen, at = monitor_and_record(server, session, job_id, 0.0, poll_interval, None)
        assert code is MonitorReturnCode.JOB_FINISHED
        assert seen == want_seen
        assert at == [k * poll_interval for k in range(want_polls)]
        meta = server.jobs.meta(job_id)
        assert meta["status"] == final
        assert_consecutive_legal(server, job_id)
        # Each transition happened at the instant the script says, not at the poll that noticed it.
        times = [when - meta["submit_time"] for when, _, _ in server.jobs.record(job_id).transitions]
        assert times == [queued, queued + deploying, queued + deploying + running]
    assert server.errors == []
