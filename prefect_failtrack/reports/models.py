"""Read models of the reports: what the queries return, what artifacts, tables and JSON show.

Every timestamp is an aware UTC datetime. Windows are half-open: ``[window_start,
window_end)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ..resilience.report import ResilienceFigures


class RunRate(BaseModel):
    """How often the runs of one flow (or one task) ended failed in the window."""

    name: str
    runs: int
    failed: int
    failure_rate: float = Field(description="failed / runs, from 0 to 1 (0 without runs).")


class Pattern(BaseModel):
    """One failure fingerprint: the same error, in the same place, however often it happened."""

    fingerprint: str
    error_type: str
    error_class: str
    sample_message: str = Field(description="The newest message in the window (redacted).")
    count: int = Field(description="Transitions carrying this fingerprint in the window.")
    first_seen: datetime = Field(description="The first occurrence ever (within the filters).")
    last_seen: datetime = Field(description="The last occurrence in the window.")
    flows: list[str]
    tasks: list[str]
    is_new: bool = Field(description="No occurrence before the window start.")
    is_regression: bool = Field(
        description="An earlier occurrence, then a quiet period before the first one in the window."
    )


class RetryStats(BaseModel):
    """Whether retries paid off, for runs retried because of one class of error."""

    error_type: str
    retried_runs: int
    recovered: int = Field(description="Retried runs that ended Completed.")
    exhausted: int = Field(description="Retried runs that ended Failed or Crashed.")
    retries_spent: int = Field(description="AwaitingRetry transitions.")
    time_waiting_s: float = Field(
        description="Seconds spent in AwaitingRetry (the planned delay where no wait was measured)."
    )


# What a run's heartbeat says (prefect_failtrack/liveness/status.py)
class Progress(BaseModel):
    """What a run said of its progress (`record_progress`), as of `at`."""

    rows: int | None = None
    message: str | None = None
    at: datetime | None = None


class Liveness(BaseModel):
    """The heartbeat of a running run: the process that holds it, and when it last beat."""

    last_beat: datetime
    beat_age_s: float = Field(description="Seconds from the last beat to the window end.")
    interval_s: float = Field(description="The process's heartbeat interval.")
    host: str
    pid: int
    process: Literal["alive", "stopped", "gone", "unknown"] = Field(
        description="What this machine tells of the process (unknown: another machine)."
    )
    reason: str = Field(description="Why the run has its status, in a few words.")
    progress: Progress | None = None


class StuckRun(BaseModel):
    """A run that went Running (or Retrying) and has not ended: slow, stuck or lost."""

    run_kind: str
    name: str
    run_id: str
    flow_run_id: str | None
    state: str
    since: datetime
    minutes: float = Field(description="Minutes from `since` to the window end.")
    status: Literal["slow", "stuck", "lost"] = Field(
        default="stuck",
        description=(
            "slow: heartbeat fresh, running longer than the limit; stuck: no heartbeat for "
            "too long, or (without heartbeats) no transition for too long; lost: its "
            "process is gone."
        ),
    )
    liveness: Liveness | None = Field(
        default=None, description="Its heartbeat; None when it has none (older rows, untracked)."
    )


class RunLiveness(BaseModel):
    """A run of a timeline that a process holds: how its heartbeat looks now."""

    run_kind: str
    name: str
    run_id: str
    status: Literal["alive", "stuck", "lost"]
    liveness: Liveness


class PartialRun(BaseModel):
    """A flow run where some tasks completed and some failed."""

    flow_run_id: str
    flow_name: str | None
    tasks_completed: int
    tasks_failed: int
    ended_at: datetime | None


class SlowState(BaseModel):
    """Time that runs of one name spent in one state (ordered by total time spent)."""

    name: str
    state: str
    count: int
    avg_ms: float
    max_ms: int


class FailureReport(BaseModel):
    """Failure patterns of a window: rates, classes, fingerprints, retries, stuck and slow runs."""

    window_start: datetime
    window_end: datetime
    filters: dict[str, str]
    runs: int = Field(description="Flow runs that ended in the window (run summaries).")
    failed_runs: int = Field(description="Of those, the ones that ended Failed or Crashed.")
    failure_rate: float
    flows: list[RunRate]
    tasks: list[RunRate]
    by_class: dict[str, int] = Field(
        description="Task runs that ended Failed or Crashed in the window, and those that "
        "never ran because an upstream run failed (NotReady, as DEPENDENCY), by error class."
    )
    patterns: list[Pattern]
    retry_effectiveness: list[RetryStats]
    stuck_runs: list[StuckRun]
    partial_success_runs: list[PartialRun]
    slowest_states: list[SlowState]
    generated_at: datetime
    resilience: ResilienceFigures = Field(
        default_factory=ResilienceFigures,
        description="Open circuits, failures per dependency, dead letters of the window.",
    )


class PatternReport(BaseModel):
    """The most frequent failure patterns of a window (``failtrack patterns``)."""

    window_start: datetime
    window_end: datetime
    filters: dict[str, str]
    patterns: list[Pattern]
    generated_at: datetime


class StuckReport(BaseModel):
    """Running runs that are slow, stuck or lost (``failtrack stuck``)."""

    window_start: datetime
    window_end: datetime
    filters: dict[str, str]
    stuck_after_s: float
    stale_after_s: float | None = None  # No heartbeat for this long: stuck
    lost_after_s: float | None = None  # No heartbeat for this long: lost
    stuck_runs: list[StuckRun]
    generated_at: datetime


class TimelineEntry(BaseModel):
    """One transition, as a timeline shows it."""

    occurred_at: datetime
    run_kind: str
    name: str
    run_id: str
    from_state: str | None
    to_state: str
    to_state_type: str
    run_count: int
    duration_in_state_ms: int | None
    error_type: str | None
    error_class: str | None
    error_message: str | None
    reason: str | None
    retry_delay_s: float | None
    dependency: str | None = None


class Timeline(BaseModel):
    """Every transition of a flow run and its task runs, in order (``failtrack timeline``)."""

    flow_run_id: str
    transitions: list[TimelineEntry]
    heartbeats: list[RunLiveness] = Field(
        default_factory=list, description="Its runs that a process holds now."
    )


class RunSummary(BaseModel):
    """One flow run as its summary tells it (``failtrack runs``)."""

    flow_run_id: str
    flow_name: str | None
    final_state: str | None = Field(description="Its final state's name (Failed, TimedOut...).")
    final_state_type: str | None = Field(description="COMPLETED, FAILED, CRASHED or CANCELLED.")
    started_at: datetime | None
    ended_at: datetime | None
    tasks_total: int
    tasks_failed: int
    failures_by_class: dict[str, int] = Field(description="Failed task runs, by error class.")
    retries_spent: int = Field(description="AwaitingRetry transitions of its task runs.")
    partial_success: bool = Field(description="Some task runs completed, some failed.")


class RunList(BaseModel):
    """Flow runs that ended in a window, the newest first (``failtrack runs``)."""

    window_start: datetime
    window_end: datetime
    filters: dict[str, str]
    total: int = Field(description="Flow runs that match, `runs` lists the newest of them.")
    runs: list[RunSummary]
    generated_at: datetime


class ReplayChange(BaseModel):
    """Stored failures of one class that the current rules put in (maybe) another class."""

    old: str
    new: str
    count: int
    examples: list[str] = Field(description="Up to three distinct 'Class: message' texts.")


class ReplayReport(BaseModel):
    """Stored failures re-classified with the current rules (``failtrack classify --replay``)."""

    window_start: datetime
    window_end: datetime
    failures: int
    changed: int
    changes: list[ReplayChange]
    generated_at: datetime
