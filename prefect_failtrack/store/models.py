"""The audit tables: one row per state transition, one summary row per flow run.

The tables live on a private registry, so they never join the global
``SQLModel.metadata`` that an application's own models (and its migrations) use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from .columns import TRACKED
from .encoding import utcnow

TRANSITIONS_TABLE = "failtrack_transitions"
FLOW_RUNS_TABLE = "failtrack_flow_runs"
CURSORS_TABLE = "failtrack_collector_cursors"
OUTBOX_TABLE = "failtrack_collector_outbox"
CIRCUITS_TABLE = "failtrack_circuits"
CIRCUIT_FAILURES_TABLE = "failtrack_circuit_failures"
REQUEUES_TABLE = "failtrack_requeues"

JSONType = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL."""
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
"""JSON whose ``None`` is SQL ``NULL`` (not a JSON ``null``)."""


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC timestamp: ``timestamptz`` on PostgreSQL, naive UTC on SQLite; always read back aware.

    Naive datetimes handed in are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


PROFILE_COLUMNS = (
    "run_kind", "name", "from_state", "to_state_type", "error_type", "occurred_at",
    "duration_in_state_ms",
)  # fmt: skip
PATTERN_COLUMNS = ("fingerprint", "occurred_at", "run_kind", "name", "flow_name")
# A partial index holds the column of its condition too: SQLite reads a table row otherwise.
RETRY_COLUMNS = ("run_id", "error_type", "run_count", "occurred_at", "retry_delay_s", "to_state")
WAIT_COLUMNS = ("run_id", "run_count", "from_state", "duration_in_state_ms")
WAITED = "from_state = 'AwaitingRetry'"  # the rows after a wait: their duration is the wait
DEPENDENCY_COLUMNS = ("dependency", "occurred_at")
FAILED_COLUMNS = ("occurred_at", "run_kind", "flow_run_id", "to_state_type")
PARTIAL_RUN_COLUMNS = (
    "ended_at", "flow_run_id", "flow_name", "tasks_completed", "tasks_failed", "partial_success",
)  # fmt: skip


def _partial(name: str, columns: tuple[str, ...], where: str) -> Index:
    """An index of the rows that match `where`, on SQLite and PostgreSQL alike."""
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


class FailtrackModel(SQLModel, registry=registry()):
    """Base of failtrack's tables; its ``metadata`` is private to failtrack."""


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _utc_now() -> Any:
    """A timestamp that defaults to now, in Python and on the server."""
    return _utc(
        default_factory=utcnow, sa_column_kwargs={"server_default": text("CURRENT_TIMESTAMP")}
    )


def _text() -> Any:
    return Field(default=None, sa_type=Text)


def _capture() -> Any:
    return Field(default=TRACKED, sa_column_kwargs={"server_default": TRACKED})


class Transition(FailtrackModel, table=True):
    """One state transition of a flow run or a task run."""

    __tablename__ = TRANSITIONS_TABLE
    __table_args__ = (
        UniqueConstraint("run_id", "to_state", "run_count", name="uq_failtrack_transition_natural"),
        Index("ix_failtrack_transitions_occurred_at", "occurred_at"),
        Index("ix_failtrack_transitions_error_type_occurred_at", "error_type", "occurred_at"),
        Index("ix_failtrack_transitions_flow_run_id_occurred_at", "flow_run_id", "occurred_at"),
        # For the reports (revision 0002): each covers the columns its query reads.
        Index("ix_failtrack_transitions_run_id_state", "run_id", "to_state_type", "occurred_at"),
        Index("ix_failtrack_transitions_profile", *PROFILE_COLUMNS),
        _partial("ix_failtrack_transitions_patterns", PATTERN_COLUMNS, "fingerprint IS NOT NULL"),
        _partial("ix_failtrack_transitions_retries", RETRY_COLUMNS, "to_state = 'AwaitingRetry'"),
        _partial("ix_failtrack_transitions_retry_waits", WAIT_COLUMNS, WAITED),
        # Revision 0003: a flow run's subflows, for its summary.
        _partial(
            "ix_failtrack_transitions_parent_flow_run_id",
            ("parent_flow_run_id", "run_id"),
            "parent_flow_run_id IS NOT NULL",
        ),
        # Revision 0005: observed rows only, which tracked rows replace (`writes`).
        _partial(
            "ix_failtrack_transitions_observed",
            ("run_id", "to_state", "run_count", "capture"),
            "capture = 'observed'",
        ),
        # Revision 0007: failures by dependency, and failed runs (dead letters; `resilience`).
        _partial(
            "ix_failtrack_transitions_dependency", DEPENDENCY_COLUMNS, "dependency IS NOT NULL"
        ),
        _partial("ix_failtrack_transitions_failed", FAILED_COLUMNS, "to_state_type = 'FAILED'"),
    )

    id: str = Field(primary_key=True)
    run_kind: str
    flow_run_id: str | None = None
    task_run_id: str | None = None
    run_id: str
    name: str
    flow_name: str | None = None
    deployment_id: str | None = None
    from_state: str | None = None
    to_state: str
    to_state_type: str
    occurred_at: datetime = _utc()
    duration_in_state_ms: int | None = None
    run_count: int
    error_type: str | None = None
    error_class: str | None = None
    error_message: str | None = _text()
    stack_trace: str | None = _text()
    fingerprint: str | None = None
    retryable: bool | None = None
    reason: str | None = None
    #: What the exception that decided stated about itself (revision 0003): status,
    #: SQLSTATE, errno, vendor code, the library's verdict, delay (`classification.facts`).
    error_facts: dict[str, Any] | None = Field(default=None, sa_type=NullableJSON)
    retry_delay_s: float | None = None
    retries_left: int | None = None
    scheduled_at: datetime | None = _utc(default=None, nullable=True)
    origin: str | None = None
    parent_flow_run_id: str | None = None  # flow rows of a subflow: the flow run that called it
    parent_task_run_id: str | None = None  # ... and the task run that stands for it there
    dependency: str | None = None  # what the failure hit (`resilience.dependencies`)
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    meta: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSONType, nullable=False)
    )
    recorded_at: datetime = _utc_now()
    capture: str = _capture()


class FlowRunSummary(FailtrackModel, table=True):
    """Where one flow run ended, and what its tasks did on the way.

    Derived from the flow run's transitions (and its subflows'), by whichever process
    stores them (`prefect_failtrack.store.summaries`): never from one process's memory.
    """

    __tablename__ = FLOW_RUNS_TABLE
    __table_args__ = (
        Index("ix_failtrack_flow_runs_ended_at", "ended_at"),
        # For the reports (revision 0002): rates per flow, and partial successes.
        Index("ix_failtrack_flow_runs_rates", "flow_name", "ended_at", "final_state_type"),
        Index(
            "ix_failtrack_flow_runs_partial",
            *PARTIAL_RUN_COLUMNS,
            sqlite_where=text("partial_success IS 1"),
            postgresql_where=text("partial_success IS true"),
        ),
    )

    flow_run_id: str = Field(primary_key=True)
    flow_name: str | None = None
    deployment_id: str | None = None
    started_at: datetime | None = _utc(default=None, nullable=True)
    ended_at: datetime | None = _utc(default=None, nullable=True)
    final_state: str | None = None
    final_state_type: str | None = None
    tasks_total: int = 0
    tasks_completed: int = 0
    tasks_failed: int = 0
    tasks_not_ready: int = 0  # never ran: an upstream run failed (counted as DEPENDENCY)
    subflows_total: int = 0
    subflows_failed: int = 0
    failures_by_class: dict[str, int] = Field(default_factory=dict, sa_type=JSONType)
    retries_spent: int = 0
    partial_success: bool = False
    metrics: dict[str, float] = Field(default_factory=dict, sa_type=JSONType)
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    updated_at: datetime = _utc_now()
    capture: str = _capture()


class CollectorCursor(FailtrackModel, table=True):
    """Where one collector is in Prefect's event stream: the last event it stored."""

    __tablename__ = CURSORS_TABLE

    name: str = Field(primary_key=True)
    position: datetime | None = _utc(default=None, nullable=True)  # the event's ``occurred``
    event_id: str | None = None
    events: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = _utc_now()


class OutboxEntry(FailtrackModel, table=True):
    """A failed flow run whose failure summary the collector has still to publish."""

    __tablename__ = OUTBOX_TABLE

    flow_run_id: str = Field(primary_key=True)
    due_at: datetime = _utc()
    attempts: int = 0


# The heartbeat tables (revision "liveness"; prefect_failtrack/liveness)
PROCESSES_TABLE = "failtrack_processes"
HEARTBEATS_TABLE = "failtrack_heartbeats"


class BeatingProcess(FailtrackModel, table=True):
    """A process that holds running runs, and when it last said it was alive.

    One row per process, updated once per heartbeat interval, however many runs it holds.
    """

    __tablename__ = PROCESSES_TABLE

    process_key: str = Field(primary_key=True)
    host: str
    pid: int
    boot_id: str | None = None
    pid_namespace: str | None = None
    # clock ticks after boot (Linux): tells a reused pid from the process that had it
    process_started: int | None = Field(default=None, sa_type=BigInteger)
    interval_s: float
    first_beat: datetime = _utc()
    last_beat: datetime = _utc()
    held: int = 0


class RunHeartbeat(FailtrackModel, table=True):
    """A running run and the process that holds it: the process's beats are the run's.

    Written when a beat first sees the run (and when its progress changes); deleted when
    the process lets go of it. A row left behind is a run whose process stopped beating.
    """

    __tablename__ = HEARTBEATS_TABLE
    __table_args__ = (
        Index("ix_failtrack_heartbeats_process_key", "process_key"),
        Index("ix_failtrack_heartbeats_flow_run_id", "flow_run_id"),
    )

    run_id: str = Field(primary_key=True)
    run_kind: str
    flow_run_id: str | None = None
    name: str
    flow_name: str | None = None
    process_key: str
    since: datetime = _utc()
    changed_at: datetime = _utc()
    progress: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    progress_at: datetime | None = _utc(default=None, nullable=True)


# The circuit breaker's state and the requeue ledger (prefect_failtrack/resilience).


class Circuit(FailtrackModel, table=True):
    """One dependency's circuit: closed, or open since a time and until its half-open time."""

    __tablename__ = CIRCUITS_TABLE

    dependency: str = Field(primary_key=True)
    state: str = "closed"  # "closed" or "open"; half-open is open past open_until
    opened_at: datetime | None = _utc(default=None, nullable=True)  # since, kept across re-opens
    open_until: datetime | None = _utc(default=None, nullable=True)
    probe_run_id: str | None = None
    probe_until: datetime | None = _utc(default=None, nullable=True)
    failures: int = 0  # distinct runs in the window when it last opened or re-opened
    trips: int = 0  # times it opened
    last_failure_at: datetime | None = _utc(default=None, nullable=True)
    closed_at: datetime | None = _utc(default=None, nullable=True)
    updated_at: datetime = _utc_now()


class CircuitFailure(FailtrackModel, table=True):
    """A run that failed TRANSIENT or TIMEOUT on a dependency, at its latest such failure."""

    __tablename__ = CIRCUIT_FAILURES_TABLE
    __table_args__ = (
        Index("ix_failtrack_circuit_failures_window", "dependency", "occurred_at"),
    )

    dependency: str = Field(primary_key=True)
    run_id: str = Field(primary_key=True)
    flow_run_id: str | None = None
    error_type: str
    occurred_at: datetime = _utc()


class Requeue(FailtrackModel, table=True):
    """A dead letter requeued: the flow run it was, and the one that replaces it."""

    __tablename__ = REQUEUES_TABLE
    __table_args__ = (Index("ix_failtrack_requeues_requeued_at", "requeued_at"),)

    flow_run_id: str = Field(primary_key=True)  # the dead letter: requeued once at most
    requeued_as: str | None = None  # the new flow run
    deployment_id: str | None = None
    status: str = "claimed"  # "claimed", then "created" or "failed"
    requested_by: str | None = None
    detail: str | None = _text()
    requeued_at: datetime = _utc_now()


metadata = FailtrackModel.metadata
transitions = Transition.__table__
flow_runs = FlowRunSummary.__table__
cursors = CollectorCursor.__table__
outbox = OutboxEntry.__table__
processes = BeatingProcess.__table__
heartbeats = RunHeartbeat.__table__
circuits = Circuit.__table__
circuit_failures = CircuitFailure.__table__
requeues = Requeue.__table__
