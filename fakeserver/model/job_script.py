"""Job scripts: the timeline a test author gives a job (phase lengths, polls, outcome, hangs).

A job passes through three phases before its outcome: *queued* (SUBMITTED until the scheduler's
first attempt), *deploying* (DISPATCHED until RUNNING) and *running* (RUNNING until the outcome).
Each phase lasts a number of clock seconds, a number of polls (reads of the job's meta), or forever.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Optional, Union


class RunStatus(str, enum.Enum):
    """FLARE 2.3's job statuses (``RunStatus``); every terminal one starts with ``FINISHED``."""

    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    DISPATCHED = "DISPATCHED"
    RUNNING = "RUNNING"
    FINISHED_COMPLETED = "FINISHED:COMPLETED"
    FINISHED_ABORTED = "FINISHED:ABORTED"
    FINISHED_EXECUTION_EXCEPTION = "FINISHED:EXECUTION_EXCEPTION"
    FINISHED_ABNORMAL = "FINISHED:ABNORMAL"
    FINISHED_CANT_SCHEDULE = "FINISHED:CAN_NOT_SCHEDULE"
    FAILED_TO_RUN = "FINISHED:FAILED_TO_RUN"
    ABANDONED = "FINISHED:ABANDONED"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        return self.value.startswith("FINISHED")


#: Every move FLARE 2.3's scheduler, runner and admin commands can make (reference 7.3).
LEGAL_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.SUBMITTED: frozenset(
        {RunStatus.DISPATCHED, RunStatus.FINISHED_CANT_SCHEDULE, RunStatus.FAILED_TO_RUN, RunStatus.FINISHED_ABORTED}
    ),
    RunStatus.DISPATCHED: frozenset(
        {RunStatus.RUNNING, RunStatus.FAILED_TO_RUN, RunStatus.FINISHED_ABORTED, RunStatus.ABANDONED}
    ),
    RunStatus.RUNNING: frozenset(
        {
            RunStatus.FINISHED_COMPLETED,
            RunStatus.FINISHED_EXECUTION_EXCEPTION,
            RunStatus.FINISHED_ABNORMAL,
            RunStatus.FINISHED_ABORTED,
            RunStatus.ABANDONED,
        }
    ),
}

#: Outcomes a script may choose, by full status or short name (``"COMPLETED"``).
OUTCOMES = frozenset(
    {
        RunStatus.FINISHED_COMPLETED,
        RunStatus.FINISHED_ABORTED,
        RunStatus.FINISHED_EXECUTION_EXCEPTION,
        RunStatus.FINISHED_ABNORMAL,
        RunStatus.FAILED_TO_RUN,
        RunStatus.FINISHED_CANT_SCHEDULE,
        RunStatus.ABANDONED,
    }
)


def parse_outcome(value: Union[str, RunStatus]) -> RunStatus:
    """``"COMPLETED"``, ``"FINISHED:COMPLETED"`` or ``RunStatus.FINISHED_COMPLETED`` → the status."""
    text = value.value if isinstance(value, RunStatus) else str(value).strip().upper()
    for status in OUTCOMES:
        if text in (status.value, status.value.split(":", 1)[1], status.name):
            return status
    names = ", ".join(sorted(s.value.split(":", 1)[1] for s in OUTCOMES))
    raise ValueError(f"unknown job outcome {value!r}; choose one of {names}")


@dataclass(frozen=True)
class Phase:
    """How long a phase lasts: ``seconds`` of server-clock time, or ``polls`` reads, or forever."""

    seconds: Optional[float] = None
    polls: Optional[int] = None

    def __post_init__(self) -> None:
        if self.seconds is not None and self.polls is not None:
            raise ValueError("a phase lasts either seconds or polls, not both")
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"phase seconds must be >= 0, got {self.seconds!r}")
        if self.polls is not None and self.polls < 0:
            raise ValueError(f"phase polls must be >= 0, got {self.polls!r}")

    @classmethod
    def after(cls, seconds: float) -> Phase:
        return cls(seconds=float(seconds))

    @classmethod
    def after_polls(cls, polls: int) -> Phase:
        return cls(polls=int(polls))

    @classmethod
    def never(cls) -> Phase:
        return cls()

    @property
    def forever(self) -> bool:
        return self.seconds is None and self.polls is None

    def __str__(self) -> str:
        if self.seconds is not None:
            return f"{self.seconds:g} s"
        if self.polls is not None:
            return f"{self.polls} polls"
        return "forever"


PhaseLike = Union[Phase, float, int, None]

#: Rounds of a job whose script and config name none.
DEFAULT_ROUNDS = 3
#: A run's length per round when the script does not set its running phase (3 rounds: 30 s).
SECONDS_PER_ROUND = 10.0
#: The default running phase: this very instance means "not scripted", so it follows the job's rounds.
DEFAULT_RUNNING = Phase.after(SECONDS_PER_ROUND * DEFAULT_ROUNDS)


def _phase(value: PhaseLike) -> Phase:
    if isinstance(value, Phase):
        return value
    if value is None:
        return Phase.never()
    return Phase.after(float(value))


@dataclass(frozen=True)
class JobScript:
    """A job's scripted life. Defaults: queued 1 s, deploying 1 s, running 30 s, then COMPLETED.

    ``require_sites`` makes the scheduler refuse the job until that many sites are connected (on top
    of the job's own ``min_clients``/``mandatory_clients``). ``rounds`` drives ``show_stats``; left at 0
    it follows the job's config, and so does an unscripted running phase (10 s per round).
    """

    outcome: RunStatus = RunStatus.FINISHED_COMPLETED
    queued: Phase = field(default_factory=lambda: Phase.after(1.0))
    deploying: Phase = field(default_factory=lambda: Phase.after(1.0))
    running: Phase = DEFAULT_RUNNING
    require_sites: int = 0
    #: 0: the job's own ``num_rounds`` (its server workflow's argument), else ``DEFAULT_ROUNDS``.
    rounds: int = 0
    #: Seconds between rounds; default: the running phase split evenly, or 60 s for a job that hangs.
    round_seconds: Optional[float] = None
    #: Text of the failure for FAILED_TO_RUN (in ``job_deploy_detail``) and EXECUTION_EXCEPTION (in the log).
    failure: str = "scripted failure"
    #: Whether a class the job's config names that would not load ends the run (docs/guide.md, "The job's config").
    check_loadable: bool = True
    #: Class paths (``pkg.mod.Class``) or module prefixes (``pkg.``) installed on the deployment besides FLARE.
    loadable: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", parse_outcome(self.outcome))
        for name in ("queued", "deploying", "running"):
            object.__setattr__(self, name, _phase(getattr(self, name)))
        if self.require_sites < 0:
            raise ValueError(f"require_sites must be >= 0, got {self.require_sites!r}")
        if self.rounds < 0:
            raise ValueError(f"rounds must be >= 0 (0: the job's own num_rounds), got {self.rounds!r}")
        if self.round_seconds is not None and self.round_seconds <= 0:
            raise ValueError(f"round_seconds must be > 0, got {self.round_seconds!r}")
        if isinstance(self.loadable, str) or not all(isinstance(p, str) and p for p in self.loadable):
            raise ValueError(f"loadable must be a list of class paths or module prefixes, got {self.loadable!r}")
        object.__setattr__(self, "loadable", tuple(self.loadable))
        if self.queued.forever:
            raise ValueError("the queued phase cannot last forever; use outcome CAN_NOT_SCHEDULE or require_sites")

    @classmethod
    def completes(cls, after: float = 30.0, **kwargs: object) -> JobScript:
        """Runs ``after`` seconds, then FINISHED:COMPLETED."""
        return cls(running=Phase.after(after), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def ends(cls, outcome: Union[str, RunStatus], after: float = 30.0, **kwargs: object) -> JobScript:
        """Runs ``after`` seconds (if it gets to run), then ends with ``outcome``."""
        return cls(outcome=parse_outcome(outcome), running=Phase.after(after), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def hangs(cls, **kwargs: object) -> JobScript:
        """Starts running and never finishes (until aborted)."""
        return cls(running=Phase.never(), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def by_polls(
        cls, submitted: int = 1, dispatched: int = 1, running: int = 1, outcome: Union[str, RunStatus] = "COMPLETED"
    ) -> JobScript:
        """Each status is seen by exactly that many reads of the job's meta, then the next one."""
        return cls(
            outcome=parse_outcome(outcome),
            queued=Phase.after_polls(submitted),
            deploying=Phase.after_polls(dispatched),
            running=Phase.after_polls(running),
        )

    def round_span(self) -> Optional[float]:
        """Seconds between round starts, or None when rounds follow polls."""
        if self.round_seconds is not None:
            return self.round_seconds
        if self.running.seconds is not None:
            return self.running.seconds / (self.rounds or DEFAULT_ROUNDS)
        if self.running.polls is not None:
            return None
        return 60.0

    def for_job(self, num_rounds: Optional[int]) -> JobScript:
        """This script for a job whose server workflow runs ``num_rounds`` (None: none given).

        A script's own ``rounds`` and running phase win; unscripted, the run lasts 10 s per round.
        """
        rounds = self.rounds or num_rounds or DEFAULT_ROUNDS
        changes: dict[str, object] = {"rounds": rounds}
        if self.running is DEFAULT_RUNNING and self.rounds == 0:
            changes["running"] = Phase.after(SECONDS_PER_ROUND * rounds)
        return replace(self, **changes)  # type: ignore[arg-type]

    def fails_to_load(self, failure: str, after: float) -> JobScript:
        """This script for a run whose app has a class that would not load: EXECUTION_EXCEPTION ``after`` seconds
        into the run, as on a real deployment. A script that sets another outcome keeps it.
        """
        if self.outcome is not RunStatus.FINISHED_COMPLETED:
            return self
        return replace(
            self, outcome=RunStatus.FINISHED_EXECUTION_EXCEPTION, failure=failure, running=Phase.after(after)
        )

    def outlives_dead_sites(self, delay: float, wind_down: float) -> JobScript:
        """This script for a run some of whose sites could not load their app: round 0 waits ``delay`` seconds
        for them to be deemed dead, the other rounds keep their pace, the run ends ``wind_down`` after its last
        round (a run that hangs or follows polls keeps its phase)."""
        span = self.round_span()
        if self.running.seconds is None or span is None:
            return self
        length = delay + span * (self.rounds - 1) + wind_down
        return replace(self, running=Phase.after(length), round_seconds=span)

    def with_(self, **changes: object) -> JobScript:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
