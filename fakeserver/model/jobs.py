"""The job store and its scripted state machine, advanced lazily on the server clock.

Nothing runs in the background: before every request the server calls :meth:`JobStore.sync`, which
replays every scheduler attempt and phase end due up to "now" in time order. The due events sit in a
priority queue (``heapq`` keyed by time, then submit order), so a sync costs O(k log n) for k due events
whatever the number of stored jobs; a job's entry is refreshed whenever its state changes and stale
entries are skipped. With a virtual clock a
job that runs for an hour is one ``clock.advance(3600)`` away; with the real clock it takes an hour.
The scheduler follows FLARE 2.3.12 (reference 7.3): attempts with back-off, ``max_jobs`` concurrent
jobs, ``min_clients``/``mandatory_clients``/``deploy_map`` against connected sites, no attempts while
no site is registered, ``FINISHED:CAN_NOT_SCHEDULE`` after 10 failed attempts.
"""

from __future__ import annotations

import bisect
import datetime
import enum
import heapq
import itertools
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from .job_config import JobConfig, parse_job
from .job_script import LEGAL_TRANSITIONS, JobScript, Phase, RunStatus
from .loadable import LoadFailure, job_load_failures
from .resources import ResourcePool

#: ``JobMetaKey`` values the fake writes.
CLONED_META_KEYS = (
    "name",
    "job_folder_name",
    "deploy_map",
    "resource_spec",
    "content_location",
    "result_location",
    "approvals",
    "min_clients",
    "mandatory_clients",
)
SERVER_SITE = "server"
ALL_SITES = "@ALL"

#: Statuses that hold one of the scheduler's ``max_jobs`` slots.
ACTIVE = (RunStatus.DISPATCHED, RunStatus.RUNNING)
#: A run whose server app does not load ends this long after it started (a real 2.3.12 job process exits
#: with return code 103 about 6.5 s after ``Started run``).
SERVER_LOAD_FAILURE_SECONDS = 6.0
#: A site whose app does not load reports the job dead about 9 s in (then every 10 s); the workflow deems it
#: dead 60 s after its first report (``dead_client_grace_period``): its round-0 task ends there.
DEAD_JOB_FIRST_REPORT = 9.0
DEAD_JOB_REPORT_INTERVAL = 10.0
DEAD_SITE_DELAY = DEAD_JOB_FIRST_REPORT + 60.0
#: From the workflow's end to the job's final status (the job process winds down).
RUN_WIND_DOWN = 5.0
#: A run none of whose sites loads its app: all clients are dead, EXECUTION_EXCEPTION (measured: about 74 s).
SITE_LOAD_FAILURE_SECONDS = DEAD_SITE_DELAY + RUN_WIND_DOWN

#: Job meta key FLARE 2.5+ write on create (``submit_job``, ``clone_job``).
DATA_STORAGE_FORMAT = "data_storage_format"


class IllegalTransition(AssertionError):
    """The state machine tried a move FLARE never makes: a bug in the fake."""


class AbortOutcome(enum.Enum):
    """What ``abort_job`` did (FLARE's four answers): each maps to one reply text in the command."""

    #: SUBMITTED or DISPATCHED: the job is now FINISHED:ABORTED without having run.
    BEFORE_RUNNING = "before_running"
    #: Already finished: nothing to do.
    ALREADY_FINISHED = "already_finished"
    #: RUNNING but not in the runner (orphaned): FLARE refuses with ``internal_error``.
    NOT_RUNNING = "not_running"
    #: Running: the abort signal was sent; the process lingers for ``abort_linger`` seconds.
    STOPPED = "stopped"


class JobStoreError(ValueError):
    """A test asked the job store for something impossible (unknown job, a step of a finished job...)."""


def time_string(epoch: float) -> str:
    """``start_time`` as FLARE writes it (``str(datetime.now())``), always with microseconds.

    FLARE omits ``.ffffff`` when the microsecond is 0 and then fails to parse its own value in
    ``list_jobs``; on a virtual clock whole seconds are the norm, so we always write the fraction.
    """
    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S.%f")


def iso_string(epoch: float) -> str:
    """``submit_time_iso``: local time with its UTC offset."""
    return datetime.datetime.fromtimestamp(epoch).astimezone().isoformat()


def history_time(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def duration_string(seconds: float) -> str:
    return str(datetime.timedelta(seconds=max(0.0, seconds)))


@dataclass
class JobRecord:
    """One stored job: FLARE's meta (the dict ``get_job_meta`` returns) plus the simulation's state."""

    meta: dict[str, Any]
    content: bytes
    script: JobScript
    seq: int
    phase_start: float
    phase_polls: int = 0
    next_attempt: Optional[float] = None
    waiting: bool = False
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    sites: list[str] = field(default_factory=list)
    app_name: str = ""
    site_apps: dict[str, str] = field(default_factory=dict)
    in_runner: bool = False
    workspace: Optional[dict[str, bytes]] = None
    transitions: list[tuple[float, RunStatus, RunStatus]] = field(default_factory=list)
    #: When each round started (round i at ``round_times[i]``), as the run got to it.
    round_times: list[float] = field(default_factory=list)
    #: An aborted run's process stays in FLARE's runner until it exits, this long after the abort.
    process_until: Optional[float] = None
    #: Injected errors: target ("server" or a site) -> group -> key -> "<time>: <text>" (FLARE's shape).
    errors: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    #: Why the scheduler can never handle this job (a hostile meta key, see :func:`schedule_fault`): it
    #: stays SUBMITTED, while every other job is scheduled as usual.
    fault: Optional[str] = None
    #: Version of the job's timeline entry: bumped on every change, so older queue entries are stale.
    stamp: int = 0
    #: (time, stamp) of the job's valid timeline entry, if one is queued.
    queued: Optional[tuple[float, int]] = None
    #: list_jobs' row as encoded JSON, keyed by the values it shows: ``(values, row text, row meta text)``.
    #: A reader reuses the texts only while the values it reads now equal the key, so it cannot go stale.
    list_row: Optional[tuple[tuple[str, ...], str, str]] = field(default=None, repr=False, compare=False)
    #: The job's own app configs (workflows, components, executors), read at submit.
    config: JobConfig = field(default_factory=JobConfig, repr=False, compare=False)
    #: The participants whose app would not load (checked when the run starts), server first.
    load_failures: list[LoadFailure] = field(default_factory=list)

    @property
    def current_round(self) -> int:
        """0-based index of the round in progress (0 before the first one)."""
        return max(0, len(self.round_times) - 1)

    def next_round_time(self) -> Optional[float]:
        """When the next round starts, if rounds follow the clock and any are left."""
        if self.started_at is None or len(self.round_times) >= self.script.rounds or not self.in_runner:
            return None
        if self.load_failures:
            # the server's workflow never starts or all sites are dead; with some sites left, round 0 waits
            # until the others are deemed dead, then the rounds go on at their pace
            span = self.script.round_span()
            if not self.some_sites_dead or span is None:
                return None
            return self.started_at + DEAD_SITE_DELAY + span * (len(self.round_times) - 1)
        span = self.script.round_span()
        if span is None:
            return None
        return self.started_at + span * len(self.round_times)

    @property
    def some_sites_dead(self) -> bool:
        """Some (not all) of the run's sites could not load their app; the server's did."""
        failing = {failure.target for failure in self.load_failures}
        return bool(failing) and SERVER_SITE not in failing and not failing.issuperset(self.sites)

    @property
    def job_id(self) -> str:
        return str(self.meta["job_id"])

    @property
    def status(self) -> RunStatus:
        return RunStatus(self.meta["status"])

    @property
    def name(self) -> Optional[str]:
        value = self.meta.get("name")
        return value if isinstance(value, str) else None

    def phase(self) -> Optional[Phase]:
        """The phase the job is in now (None once finished)."""
        status = self.status
        if status is RunStatus.SUBMITTED:
            return self.script.queued
        if status is RunStatus.DISPATCHED:
            return self.script.deploying
        if status is RunStatus.RUNNING:
            return self.script.running if self.in_runner else Phase.never()
        return None


#: Called with the record when a job finishes (the server builds its result workspace then).
FinishHook = Callable[[JobRecord], None]


class JobStore:
    """Jobs by id, the scheduler and the runner. All methods expect the server's state lock held."""

    def __init__(
        self,
        clock: Any,
        rng: Any,
        connected_sites: Callable[[], list[str]],
        *,
        max_jobs: int = 4,
        min_schedule_interval: float = 10.0,
        max_schedule_interval: float = 600.0,
        max_schedule_count: int = 10,
        scheduler_tick: float = 1.0,
    ) -> None:
        self._clock = clock
        self._rng = rng
        self._connected_sites = connected_sites
        self.max_jobs = max_jobs
        self.min_schedule_interval = min_schedule_interval
        self.max_schedule_interval = max_schedule_interval
        self.max_schedule_count = max_schedule_count
        self.scheduler_tick = scheduler_tick
        #: Seconds an aborted run's process lingers in the runner (FLARE refuses ``restart`` meanwhile;
        #: about 4 s measured on a real 2.3.12 deployment).
        self.abort_linger = 4.0
        #: The script ``reset()`` returns to (the server's ``default_script`` option).
        self.base_script = JobScript()
        self.default_script = self.base_script
        self.on_finish: list[FinishHook] = []
        self.on_transition: list[Callable[[JobRecord, RunStatus, RunStatus, float], None]] = []
        self.on_round: list[Callable[[JobRecord, int, float], None]] = []
        #: Called when replaying a job's event raised (a bug): the job is frozen, the replay goes on.
        self.on_fault: list[Callable[[JobRecord, Exception], None]] = []
        self._jobs: dict[str, JobRecord] = {}
        #: Unfinished jobs (the only ones with events).
        self._live: dict[str, JobRecord] = {}
        self._init_indexes()
        self._scripts_by_name: dict[str, JobScript] = {}
        self._next_scripts: deque[JobScript] = deque()
        self._seq = 0
        #: The sites' resource managers (FLARE's client-side ``check_resources``); None: no resource check.
        self.resources: Optional[ResourcePool] = None
        #: Called after every scheduling attempt with its result text, or with None when FLARE's scheduler
        #: raised (the KeyError of a ``resource_spec`` that omits a deployed site, see :meth:`_check_resources`).
        self.on_schedule: list[Callable[[JobRecord, Optional[str], float], None]] = []
        self._reservations: dict[str, dict[str, str]] = {}
        #: Jobs whose last attempt raised in FLARE's scheduler: the raise ends that tick's pass, so no job
        #: submitted after one of them is tried while it keeps raising (seen on a real 2.3.12 server).
        self._crashing: dict[str, JobRecord] = {}
        #: The site of the latest such raise (FLARE's ``KeyError: '<site>'``), for the log.
        self.crash_site = ""

    # ------------------------------------------------------------------ scripting (test API)
    def script(self, script: JobScript, *, name: Optional[str] = None) -> None:
        """Give jobs named ``name`` this script; without a name it becomes the default."""
        if not isinstance(script, JobScript):
            raise TypeError(f"script must be a JobScript, got {type(script).__name__}")
        if name is None:
            self.default_script = script
        else:
            self._scripts_by_name[name] = script

    def script_next(self, script: JobScript, count: int = 1) -> None:
        """Give the next ``count`` submissions (or clones) this script, whatever their name."""
        if not isinstance(script, JobScript):
            raise TypeError(f"script must be a JobScript, got {type(script).__name__}")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count!r}")
        self._next_scripts.extend([script] * count)

    def _pick_script(self, name: Optional[str]) -> JobScript:
        if self._next_scripts:
            return self._next_scripts.popleft()
        if name is not None and name in self._scripts_by_name:
            return self._scripts_by_name[name]
        return self.default_script

    def _init_indexes(self) -> None:
        """The timeline and the indexes that spare every request a walk over all jobs."""
        #: Due events: (time, seq, stamp, record); an entry whose stamp is not the record's is stale.
        self._timeline: list[tuple[float, int, int, JobRecord]] = []
        #: Jobs skipped for want of a slot or a site, by submit order: (seq, tie, record), checked lazily.
        self._waiting: list[tuple[int, int, JobRecord]] = []
        self._tie = itertools.count()
        #: Jobs holding one of the ``max_jobs`` slots (DISPATCHED or RUNNING): they have a process.
        self._active_jobs: dict[str, JobRecord] = {}
        #: Aborted jobs whose process may still linger in the runner (pruned as they expire).
        self._lingering: dict[str, JobRecord] = {}
        #: list_jobs' indexes: ids sorted (prefix search), jobs by submitter, jobs without a str name.
        self._ids: list[str] = []
        #: The jobs in store (= seq) order, for list_jobs without a filter to walk without a copy.
        self._order: list[JobRecord] = []
        self._by_submitter: dict[str, dict[str, JobRecord]] = {}
        self._unnamed: dict[str, JobRecord] = {}
        #: Whether submit times never went down (then store order is list_jobs' sort order).
        self._in_submit_order = True
        self._last_submit = float("-inf")

    def reset(self) -> list[object]:
        """Forget every job; returns the old records and indexes so the caller may free them off the request path."""
        old: list[object] = [self._jobs, self._live, self._timeline, self._waiting, self._active_jobs]
        old += [self._lingering, self._ids, self._order, self._by_submitter, self._unnamed]
        self._jobs = {}
        self._live = {}
        self._init_indexes()
        self._scripts_by_name.clear()
        self._next_scripts.clear()
        self.default_script = self.base_script
        self._seq = 0
        self._reservations.clear()
        self._crashing.clear()
        if self.resources is not None:
            self.resources.reset()
        return old

    # ------------------------------------------------------------------ store
    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[JobRecord]:
        return iter(list(self._jobs.values()))

    def get(self, job_id: str) -> Optional[JobRecord]:
        return self._jobs.get(job_id)

    def require(self, job_id: str) -> JobRecord:
        record = self._jobs.get(job_id)
        if record is None:
            raise JobStoreError(f"no job {job_id!r} in the fake server's store")
        return record

    def _new_id(self) -> str:
        while True:
            job_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            if job_id not in self._jobs:
                return job_id

    def create(self, meta: dict[str, Any], content: bytes) -> JobRecord:
        """Store a new job (FLARE's ``JobDefManager.create``): id, times and ``SUBMITTED`` are added."""
        now = self._clock.time()
        meta = dict(meta)
        storage_format = meta.pop(DATA_STORAGE_FORMAT, None)  # FLARE 2.5+'s create writes it here
        meta["job_id"] = self._new_id()
        meta["submit_time"] = now
        meta["submit_time_iso"] = iso_string(now)
        meta["start_time"] = ""
        meta["duration"] = "N/A"
        if storage_format is not None:
            meta[DATA_STORAGE_FORMAT] = storage_format
        meta["status"] = RunStatus.SUBMITTED.value
        self._seq += 1
        script = self._pick_script(meta.get("name") if isinstance(meta.get("name"), str) else None)
        config = parse_job(content)
        script = script.for_job(config.num_rounds(_server_app(meta)))
        config.release()  # parsed again when the job runs; a queue of waiting jobs holds no parsed JSON
        record = JobRecord(meta=meta, content=content, script=script, seq=self._seq, phase_start=now, config=config)
        record.fault = schedule_fault(meta)
        self._jobs[record.job_id] = record
        self._live[record.job_id] = record
        self._index(record)
        self._enter_phase(record, now)
        self._touch(record)
        return record

    def _index(self, record: JobRecord) -> None:
        job_id = record.job_id
        bisect.insort(self._ids, job_id)
        self._order.append(record)  # seq only grows
        submitter = record.meta.get("submitter_name")
        if isinstance(submitter, str):  # a non-str submitter never equals a user name
            self._by_submitter.setdefault(submitter, {})[job_id] = record
        if not isinstance(record.meta.get("name"), str):
            self._unnamed[job_id] = record
        submitted = record.meta["submit_time"]
        if submitted < self._last_submit:
            self._in_submit_order = False  # the clock went back: list_jobs sorts again
        self._last_submit = max(self._last_submit, submitted)

    def delete(self, job_id: str) -> None:
        record = self._jobs.pop(job_id)
        self._live.pop(job_id, None)
        self._active_jobs.pop(job_id, None)
        self._lingering.pop(job_id, None)
        self._unnamed.pop(job_id, None)
        del self._ids[bisect.bisect_left(self._ids, job_id)]
        del self._order[_index_by_seq(self._order, record.seq)]
        submitter = record.meta.get("submitter_name")
        if isinstance(submitter, str):
            own = self._by_submitter.get(submitter, {})
            own.pop(job_id, None)
            if not own:
                self._by_submitter.pop(submitter, None)
        record.stamp += 1

    def running(self) -> list[JobRecord]:
        """Jobs the runner is running (RUNNING and known to the runner), in start order."""
        jobs = [r for r in self._active_jobs.values() if r.status is RunStatus.RUNNING and r.in_runner]
        return sorted(jobs, key=lambda r: (r.started_at or 0.0, r.seq))

    def in_runner(self, now: Optional[float] = None) -> list[JobRecord]:
        """FLARE's ``job_runner.running_jobs``: running jobs, plus aborted ones whose process has not exited."""
        now = self._clock.time() if now is None else now
        for job_id, record in list(self._lingering.items()):
            if record.process_until is None or record.process_until <= now:
                del self._lingering[job_id]
        return self.running() + sorted(self._lingering.values(), key=lambda r: r.seq)

    def with_process(self) -> list[JobRecord]:
        """Jobs that have a run process: DISPATCHED ones (starting) and those the runner runs."""
        jobs = [
            r
            for r in self._active_jobs.values()
            if r.status is RunStatus.DISPATCHED or (r.status is RunStatus.RUNNING and r.in_runner)
        ]
        return sorted(jobs, key=lambda r: (r.started_at if r.started_at is not None else float("inf"), r.seq))

    def active_count(self) -> int:
        """Jobs holding one of the scheduler's ``max_jobs`` slots (DISPATCHED or RUNNING)."""
        return len(self._active_jobs)

    # ------------------------------------------------------------------ list_jobs' view
    def unnamed(self) -> list[JobRecord]:
        """Jobs whose meta ``name`` is not a string, in store order (FLARE's ``-n`` filter raises on them)."""
        return list(self._unnamed.values())

    def candidates(self, id_prefix: Optional[str], submitter: Optional[str]) -> list[JobRecord]:
        """The jobs that can match list_jobs' id prefix or ``-u`` filter, in store order (a superset).
        Without a filter this is the store's own list: read it, do not change it."""
        if id_prefix:
            prefix = id_prefix.lower()  # ids are lowercase uuids
            start = bisect.bisect_left(self._ids, prefix)
            matched = []
            for job_id in itertools.islice(self._ids, start, None):
                if not job_id.startswith(prefix):
                    break
                matched.append(self._jobs[job_id])
            return sorted(matched, key=lambda r: r.seq)
        if submitter is not None:
            return list(self._by_submitter.get(submitter, {}).values())
        return self._order

    def in_list_order(self, records: list[JobRecord], *, reverse: bool, backwards: bool = False) -> Iterable[JobRecord]:
        """``records`` (in store order) lazily in list_jobs' order: a stable sort by ``submit_time``
        (``reverse``: descending, ties still in store order); ``backwards``: the ascending order reversed."""
        if not self._in_submit_order:
            ordered = sorted(records, key=lambda r: r.meta.get("submit_time", 0.0), reverse=reverse)
            return reversed(ordered) if backwards else ordered
        if backwards:
            return reversed(records)
        if not reverse:
            return records
        return _descending_stable(records)

    # ------------------------------------------------------------------ the timeline
    def sync(self, now: Optional[float] = None) -> None:
        """Replay every event due up to ``now`` (default: the clock's now), in time order."""
        now = self._clock.time() if now is None else now
        while self._timeline and self._timeline[0][0] <= now:  # not cached: _compact() replaces the list
            when, _seq, stamp, record = heapq.heappop(self._timeline)
            if stamp != record.stamp or self._live.get(record.job_id) is not record:
                continue  # stale: the job changed (or finished) since this entry was queued
            record.queued = None
            try:
                self._fire(record, when)
            except Exception as exc:  # one job's failure must not stop every later request
                self._quarantine(record, exc)
            self._touch(record)

    def _touch(self, record: JobRecord) -> None:
        """Queue the job's next event again after a change (older entries become stale); an unchanged
        time keeps its entry, so reads of a job's meta do not grow the queue."""
        if self._live.get(record.job_id) is not record:
            record.stamp += 1
            record.queued = None
            return
        try:
            when = self._event_time(record)
        except Exception as exc:  # as in sync: a broken job must not stop the others
            self._quarantine(record, exc)
            return
        if when is not None and record.queued == (when, record.stamp):
            return
        record.stamp += 1
        record.queued = None
        if when is not None:
            record.queued = (when, record.stamp)
            heapq.heappush(self._timeline, (when, record.seq, record.stamp, record))
            if len(self._timeline) > 2 * len(self._live) + 64:
                self._compact()

    def _compact(self) -> None:
        """Drop stale entries (a safety net: every change of a job's event time leaves one behind)."""
        self._timeline = [
            entry for entry in self._timeline if entry[3].queued == (entry[0], entry[2]) and entry[3].stamp == entry[2]
        ]
        heapq.heapify(self._timeline)

    def _quarantine(self, record: JobRecord, exc: Exception) -> None:
        """Freeze a job whose replay raised (a bug): it gets no more events, and the hooks hear of it."""
        record.fault = f"{type(exc).__name__}: {exc}"
        record.stamp += 1
        for hook in self.on_fault:
            hook(record, exc)

    def _event_time(self, record: JobRecord) -> Optional[float]:
        if record.fault is not None:
            return None
        status = record.status
        if status is RunStatus.SUBMITTED:
            return record.next_attempt
        phase = record.phase()
        end = None if phase is None or phase.seconds is None else record.phase_start + phase.seconds
        if status is RunStatus.RUNNING:
            next_round = record.next_round_time()
            if next_round is not None and (end is None or next_round < end):
                return next_round
        return end

    def _fire(self, record: JobRecord, when: float) -> None:
        status = record.status
        if status is RunStatus.SUBMITTED:
            self._attempt(record, when)
        elif status is RunStatus.DISPATCHED:
            self._start(record, when)
        elif status is RunStatus.RUNNING:
            next_round = record.next_round_time()
            end = self._event_end(record)
            if next_round is not None and (end is None or next_round < end) and next_round <= when:
                self._start_round(record, when)
            else:
                self._finish(record, record.script.outcome, when)

    def _event_end(self, record: JobRecord) -> Optional[float]:
        phase = record.phase()
        return None if phase is None or phase.seconds is None else record.phase_start + phase.seconds

    def _start_round(self, record: JobRecord, when: float) -> None:
        number = len(record.round_times)
        record.round_times.append(when)
        for hook in self.on_round:
            hook(record, number, when)

    def _enter_phase(self, record: JobRecord, when: float) -> None:
        """Start the job's current phase at ``when``; a zero-poll phase ends at once."""
        record.phase_start = when
        record.phase_polls = 0
        phase = record.phase()
        if record.status is RunStatus.SUBMITTED:
            record.next_attempt = when + phase.seconds if phase is not None and phase.seconds is not None else None
        if phase is not None and phase.polls == 0:
            self._fire(record, when)

    def observe(self, record: JobRecord, now: Optional[float] = None) -> None:
        """Count one read of the job's meta; a phase measured in polls ends after its last read."""
        now = self._clock.time() if now is None else now
        phase = record.phase()
        if phase is not None and phase.polls is not None and record.phase_polls >= phase.polls:
            self._fire(record, now)
        elif (
            record.status is RunStatus.RUNNING
            and record.script.round_span() is None
            and record.in_runner
            and len(record.round_times) < record.script.rounds
            and record.phase_polls > 0
        ):
            self._start_round(record, now)  # rounds that follow polls: one per read after the first
        record.phase_polls += 1
        self._touch(record)

    def sites_changed(self, now: Optional[float] = None) -> None:
        """Sites connected or left: jobs waiting for any registered site try again now."""
        now = self._clock.time() if now is None else now
        self._wake_waiting(now)

    def _set_status(self, record: JobRecord, new: RunStatus, when: float) -> None:
        old = record.status
        if new not in LEGAL_TRANSITIONS.get(old, frozenset()):
            raise IllegalTransition(f"job {record.job_id}: {old.value} -> {new.value} is not a FLARE transition")
        record.meta["status"] = new.value
        if new is RunStatus.RUNNING:
            record.started_at = when
            record.meta["start_time"] = time_string(when)
        elif (
            new
            in (
                RunStatus.FINISHED_ABORTED,
                RunStatus.FINISHED_COMPLETED,
                RunStatus.FINISHED_EXECUTION_EXCEPTION,
                RunStatus.FINISHED_CANT_SCHEDULE,
            )
            and record.started_at is not None
        ):
            record.meta["duration"] = duration_string(when - record.started_at)
        record.transitions.append((when, old, new))
        if new in ACTIVE and old not in ACTIVE:
            self._active_jobs[record.job_id] = record
        if old in ACTIVE and new not in ACTIVE:
            self._active_jobs.pop(record.job_id, None)
            self._wake_waiting(when)
        for hook in self.on_transition:
            hook(record, old, new, when)
        if new.finished:
            if self.resources is not None:
                self.resources.free(record.job_id)
            record.finished_at = when
            record.in_runner = False
            self._live.pop(record.job_id, None)
            for finish_hook in self.on_finish:
                finish_hook(record)
            record.config.release()  # the results and logs that needed the parsed configs are written

    def _wake_waiting(self, when: float) -> None:
        """Let the earliest waiting jobs try again now, one per free slot (FLARE's scheduler tries
        candidates in submit order each tick; the rest would only be skipped again)."""
        free = self.max_jobs - len(self._active_jobs)
        if free <= 0 or not self._waiting or not self._connected_sites():
            return
        while free > 0 and self._waiting:
            _seq, _tie, other = heapq.heappop(self._waiting)
            if not other.waiting or other.fault is not None or self._live.get(other.job_id) is not other:
                continue  # stale: already woken, finished, deleted or frozen
            other.waiting = False
            other.next_attempt = when
            self._touch(other)
            free -= 1

    # ------------------------------------------------------------------ scheduler
    def _attempt(self, record: JobRecord, when: float) -> None:
        if record.fault is not None:
            record.next_attempt = None
            return
        online = self._connected_sites()
        if self._behind_a_crash(record):
            record.next_attempt = when + self.scheduler_tick
            return
        if self.active_count() >= self.max_jobs or not online:
            # FLARE skips the job without a history entry: no free slot, or (2.3.12) no site registered.
            record.waiting = True
            record.next_attempt = None
            heapq.heappush(self._waiting, (record.seq, next(self._tie), record))
            return
        self._try_to_schedule(record, online, when)
        self._wake_waiting(when)  # a slot this job did not take goes to the next one in line

    def _behind_a_crash(self, record: JobRecord) -> bool:
        """Whether a job submitted earlier still makes FLARE's scheduler raise before it gets to this one."""
        for job_id, other in list(self._crashing.items()):
            if self._live.get(job_id) is not other or other.status is not RunStatus.SUBMITTED:
                del self._crashing[job_id]  # finished, aborted or deleted: the pass gets further again
            elif other.seq < record.seq:
                return True
        return False

    def _try_to_schedule(self, record: JobRecord, online: list[str], when: float) -> None:
        self._crashing.pop(record.job_id, None)
        count = schedule_count(record.meta)
        if count >= self.max_schedule_count:
            exceeded = f"exceeded max schedule count {self.max_schedule_count}"
            for hook in self.on_schedule:
                hook(record, exceeded, when)
            record.meta.update(self._attempt_fields(record, exceeded, when))
            self._set_status(record, RunStatus.FINISHED_CANT_SCHEDULE, when)
            return
        try:
            blocked, reason, sites_to_app = self._try_job(record, online, when)
        except _SchedulerCrash as crash:
            self.crash_site = crash.site
            # FLARE logs "error scheduling job" and leaves the meta alone: no history, no count, tried
            # again on the next tick.
            for crash_hook in self.on_schedule:
                crash_hook(record, None, when)
            record.next_attempt = when + self.scheduler_tick
            self._crashing[record.job_id] = record
            return
        for hook in self.on_schedule:
            hook(record, reason or "scheduled", when)
        if reason is None:
            self._dispatch(record, sites_to_app, when)
            return
        # FLARE's refresh_meta stores the three schedule keys after a failed attempt.
        record.meta.update(self._attempt_fields(record, reason, when))
        if blocked:
            self._set_status(record, RunStatus.FINISHED_CANT_SCHEDULE, when)
            return
        count += 1
        if count >= self.max_schedule_count:
            record.next_attempt = when + self.scheduler_tick
        else:
            interval = min(self.max_schedule_interval, (2 ** (count - 1)) * self.min_schedule_interval)
            record.next_attempt = when + interval

    @staticmethod
    def _attempt_fields(record: JobRecord, result: str, when: float) -> dict[str, Any]:
        """``schedule_count``, ``last_schedule_time``, ``schedule_history`` after one more attempt."""
        history = list(record.meta.get("schedule_history") or [])
        history.append(f"{history_time(when)}: {result}")
        return {
            "schedule_count": schedule_count(record.meta) + 1,
            "last_schedule_time": when,
            "schedule_history": history,
        }

    def _try_job(self, record: JobRecord, online: list[str], when: float) -> tuple[bool, Optional[str], dict[str, str]]:
        """FLARE's ``_try_job``: (blocked, reason or None, site -> app)."""
        deploy_map = record.meta.get("deploy_map")
        if not deploy_map or not isinstance(deploy_map, dict):
            return True, "no deploy map", {}
        applicable: list[str] = []
        sites_to_app: dict[str, str] = {}
        for app_name, sites in deploy_map.items():
            for site in sites or []:
                if not isinstance(site, str):
                    continue
                if site.upper() == ALL_SITES:
                    applicable = list(online)
                    sites_to_app = {s: app_name for s in online}
                    sites_to_app[SERVER_SITE] = app_name
                elif site in online:
                    applicable.append(site)
                    sites_to_app[site] = app_name
                elif site == SERVER_SITE:
                    sites_to_app[SERVER_SITE] = app_name
        for required in record.meta.get("mandatory_clients") or []:
            if required not in applicable:
                return False, f"missing required site {required}", {}
        min_sites = _as_int(record.meta.get("min_clients"))
        wanted = max(min_sites, record.script.require_sites)
        if wanted and len(applicable) < wanted:
            return False, f"connected sites ({len(applicable)}) < min_sites ({wanted})", {}
        if record.script.outcome is RunStatus.FINISHED_CANT_SCHEDULE:
            ok = 0
            return False, f"not enough sites have enough resources (ok sites {ok} < min sites {max(wanted, 1)}", {}
        if self.resources is not None:
            reason, applicable = self._check_resources(record, applicable, min_sites, when)
            if reason is not None:
                return False, reason, {}
        return False, None, {s: sites_to_app[s] for s in [SERVER_SITE, *applicable] if s in sites_to_app}

    def _check_resources(
        self, record: JobRecord, applicable: list[str], min_sites: int, when: float
    ) -> tuple[Optional[str], list[str]]:
        """FLARE 2.3.12's resource part of ``_try_job``: (reason or None, the sites with enough resources).

        Reason texts are FLARE's, its missing ")" included. When the job fails and a site that passed is
        not in ``resource_spec``, FLARE's ``cancel_client_resources`` raises KeyError: :class:`_SchedulerCrash`.
        """
        assert self.resources is not None
        spec = record.meta.get("resource_spec") or {}
        spec = spec if isinstance(spec, dict) else {}
        results = {site: self.resources.check(site, spec.get(site, {}), when) for site in applicable}
        ok_sites = [site for site, (enough, _token) in results.items() if enough]
        required = [s for s in record.meta.get("mandatory_clients") or [] if s not in ok_sites]
        reason = None
        if len(ok_sites) < min_sites:
            reason = f"not enough sites have enough resources (ok sites {len(ok_sites)} < min sites {min_sites}"
        elif required:
            reason = f"required sites: {required} don't have enough resources"
        if reason is None:
            self._reservations[record.job_id] = {site: results[site][1] for site in ok_sites}
            return None, ok_sites
        for site, (_enough, token) in results.items():
            if token and site not in spec:
                # FLARE's reservations leak here and expire after 30 s (its auto-clean).
                raise _SchedulerCrash(site)
        for _enough, token in results.values():
            self.resources.cancel(token)
        return reason, ok_sites

    def _dispatch(self, record: JobRecord, sites_to_app: dict[str, str], when: float) -> None:
        schedule = self._attempt_fields(record, "scheduled", when)
        tokens = self._reservations.pop(record.job_id, {})
        if self.resources is not None and record.script.outcome is RunStatus.FAILED_TO_RUN:
            for token in tokens.values():
                self.resources.cancel(token)
        record.sites = [s for s in sites_to_app if s != SERVER_SITE]
        record.site_apps = dict(sites_to_app)
        record.app_name = sites_to_app.get(SERVER_SITE, "")
        if record.script.outcome is RunStatus.FAILED_TO_RUN:
            # The deployment fails: straight from SUBMITTED to FAILED_TO_RUN; FLARE then stores only the
            # deploy detail (this attempt's schedule keys stay in memory).
            self._set_status(record, RunStatus.FAILED_TO_RUN, when)
            record.meta["job_deploy_detail"] = [f"{SERVER_SITE}: {record.script.failure}"]
            return
        if self.resources is not None:
            self.resources.allocate(record.job_id, tokens)
        self._set_status(record, RunStatus.DISPATCHED, when)
        record.meta.update({"job_deploy_detail": [f"{site}: OK" for site in sites_to_app], **schedule})
        self._enter_phase(record, when)

    # ------------------------------------------------------------------ runner
    def _start(self, record: JobRecord, when: float) -> None:
        script = record.script
        if script.check_loadable and script.outcome is RunStatus.FINISHED_COMPLETED:  # a scripted outcome wins
            record.load_failures = job_load_failures(record.config, record.site_apps, script.loadable)
        server_fails = bool(record.load_failures) and record.load_failures[0].on_server
        if record.some_sites_dead:
            record.script = script.outlives_dead_sites(DEAD_SITE_DELAY, RUN_WIND_DOWN)
        elif record.load_failures:
            after = SERVER_LOAD_FAILURE_SECONDS if server_fails else SITE_LOAD_FAILURE_SECONDS
            record.script = script.fails_to_load(record.load_failures[0].exception, after)
        record.in_runner = True
        self._set_status(record, RunStatus.RUNNING, when)
        if not server_fails:  # a server app that does not load never starts its workflow
            self._start_round(record, when)
        self._enter_phase(record, when)

    def _finish(self, record: JobRecord, outcome: RunStatus, when: float) -> None:
        # FAILED_TO_RUN and CAN_NOT_SCHEDULE end a job before it runs; a running job gets here only
        # with a run outcome.
        self._set_status(record, outcome, when)

    # ------------------------------------------------------------------ admin actions
    def abort(self, record: JobRecord, when: Optional[float] = None) -> AbortOutcome:
        """FLARE's ``abort_job`` cases, as an :class:`AbortOutcome`."""
        when = self._clock.time() if when is None else when
        status = record.status
        if status in (RunStatus.SUBMITTED, RunStatus.DISPATCHED):
            self._set_status(record, RunStatus.FINISHED_ABORTED, when)
            self._touch(record)
            return AbortOutcome.BEFORE_RUNNING
        if status.finished:
            return AbortOutcome.ALREADY_FINISHED
        if not record.in_runner:
            return AbortOutcome.NOT_RUNNING
        self._set_status(record, RunStatus.FINISHED_ABORTED, when)
        record.process_until = when + self.abort_linger
        self._lingering[record.job_id] = record
        self._touch(record)
        return AbortOutcome.STOPPED

    def orphan(self, job_id: str) -> JobRecord:
        """Simulate a lost job process: the meta still says RUNNING but the runner forgot the job."""
        record = self.require(job_id)
        if record.status is not RunStatus.RUNNING:
            raise JobStoreError(f"job {job_id} is {record.status.value}: only a RUNNING job can be orphaned")
        record.in_runner = False
        self._touch(record)
        return record

    def abandon_unfinished(self, when: Optional[float] = None) -> list[JobRecord]:
        """What a server restart does: DISPATCHED and RUNNING jobs become FINISHED:ABANDONED."""
        when = self._clock.time() if when is None else when
        abandoned = sorted(self._active_jobs.values(), key=lambda r: r.seq)
        for record in abandoned:
            self._set_status(record, RunStatus.ABANDONED, when)
            self._touch(record)
        return abandoned

    # ------------------------------------------------------------------ stepping (test API)
    def step(self, job_id: str) -> RunStatus:
        """Move one job to its next status now, ignoring its phase lengths; returns the new status."""
        record = self.require(job_id)
        now = self._clock.time()
        before = len(record.transitions)
        status = record.status
        if status.finished:
            raise JobStoreError(f"job {job_id} is already {status.value}")
        if status is RunStatus.RUNNING and not record.in_runner:
            raise JobStoreError(f"job {job_id} is orphaned (not in the runner); it cannot advance")
        if status is RunStatus.RUNNING:
            while len(record.round_times) < record.script.rounds and (
                record.some_sites_dead or not record.load_failures
            ):
                self._start_round(record, now)
            self._finish(record, record.script.outcome, now)
        while len(record.transitions) == before:
            if record.status is RunStatus.SUBMITTED and record.fault is not None:
                raise JobStoreError(f"job {job_id} can never be scheduled: {record.fault}")
            if record.status is RunStatus.SUBMITTED and record.waiting:
                raise JobStoreError(
                    f"job {job_id} cannot be scheduled now (no free slot of {self.max_jobs}, or no site connected)"
                )
            self._fire(record, now)
            self._touch(record)
        self._touch(record)
        return record.status

    def run_to_completion(self, job_id: Optional[str] = None, *, max_steps: int = 10_000) -> list[RunStatus]:
        """Step one job (or every unfinished job) until it finishes; a hanging job is an error."""
        targets = [self.require(job_id)] if job_id is not None else [r for r in self._jobs.values()]
        finals = []
        for record in targets:
            steps = 0
            while not record.status.finished:
                if record.status is RunStatus.RUNNING and record.script.running.forever:
                    raise JobStoreError(f"job {record.job_id} is scripted to hang; abort it instead")
                self.step(record.job_id)
                steps += 1
                if steps > max_steps:
                    raise JobStoreError(f"job {record.job_id} did not finish in {max_steps} steps")
            finals.append(record.status)
        return finals

    def advance_to(self, job_id: str, status: Union[str, RunStatus]) -> JobRecord:
        """Step a job until it reaches ``status`` (e.g. ``"RUNNING"``)."""
        target = RunStatus(status) if not isinstance(status, RunStatus) else status
        record = self.require(job_id)
        while record.status is not target:
            if record.status.finished:
                raise JobStoreError(f"job {job_id} finished as {record.status.value} before reaching {target.value}")
            self.step(job_id)
        return record


class _SchedulerCrash(Exception):
    """FLARE's scheduler raised while trying this job (caught and logged by its ``schedule_job``)."""

    def __init__(self, site: str) -> None:
        super().__init__(site)
        self.site = site


def _server_app(meta: dict[str, Any]) -> str:
    """The app ``deploy_map`` gives the server (its last mention wins, as in ``_try_job``), or ""."""
    deploy_map = meta.get("deploy_map")
    found = ""
    for app, sites in deploy_map.items() if isinstance(deploy_map, dict) else ():
        for site in sites if isinstance(sites, list) else ():
            if isinstance(site, str) and (site == SERVER_SITE or site.upper() == ALL_SITES):
                found = str(app)
    return found


def _as_int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return 0


def _is_count(value: object) -> bool:
    """A whole, non-negative number (JSON may give ``2.0``; ``True`` counts as 1, as in FLARE's arithmetic)."""
    if isinstance(value, int):  # bool included
        return value >= 0
    return isinstance(value, float) and value.is_integer() and value >= 0


def schedule_count(meta: dict[str, Any]) -> int:
    """``schedule_count`` as a number (0 when absent); only called for jobs without a :func:`schedule_fault`."""
    value = meta.get("schedule_count", 0)
    return int(value) if _is_count(value) else 0


def schedule_fault(meta: dict[str, Any]) -> Optional[str]:
    """Why FLARE's scheduler would raise on this meta every tick (None if it would not).

    An upload's ``meta.json`` may carry the scheduler's own keys; FLARE keeps them, and its scheduler then
    compares, iterates and appends to whatever they hold. The fake keeps such a job SUBMITTED and leaves
    every other job alone (on FLARE one such job stalls scheduling for all jobs submitted after it).
    Negative or fractional counts are refused too: the fake would retry them without end.
    """
    count = meta.get("schedule_count", 0)
    if not _is_count(count):
        return f"schedule_count {count!r} is not a whole number >= 0"
    history = meta.get("schedule_history")
    if history and not isinstance(history, list):
        return f"schedule_history of type {type(history).__name__} is not a list"
    last = meta.get("last_schedule_time", 0.0)
    if count and (isinstance(last, bool) or not isinstance(last, (int, float))):
        return f"last_schedule_time {last!r} is not a number"
    mandatory = meta.get("mandatory_clients")
    if mandatory and not isinstance(mandatory, (list, dict, str)):
        return f"mandatory_clients of type {type(mandatory).__name__} is not iterable"
    return None


def _descending_stable(records: list[JobRecord]) -> Iterator[JobRecord]:
    """``sorted(records, key=submit_time, reverse=True)`` for records already in ascending order:
    groups of equal times from the last, each group kept in store order (Python's sort is stable)."""
    end = len(records)
    while end > 0:
        start = end - 1
        when = records[start].meta.get("submit_time", 0.0)
        while start > 0 and records[start - 1].meta.get("submit_time", 0.0) == when:
            start -= 1
        yield from records[start:end]
        end = start


def _index_by_seq(records: list[JobRecord], seq: int) -> int:
    """Where the record with ``seq`` is in a list ordered by seq (bisect's ``key=`` needs Python 3.10)."""
    low, high = 0, len(records)
    while low < high:
        middle = (low + high) // 2
        if records[middle].seq < seq:
            low = middle + 1
        else:
            high = middle
    return low
