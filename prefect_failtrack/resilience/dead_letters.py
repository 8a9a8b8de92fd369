"""Dead letters: flow runs that gave up on trouble that passes, found in the audit table.

A flow run is a dead letter when its last state is Failed and what failed it was
passing trouble, not a bug or bad data:

- at least one failure is retryable: a TRANSIENT or TIMEOUT failure whose class
  budget was spent, or that could not be retried (no retry left in Prefect, the
  task's own condition said no), or a run that gave up on an open circuit (stored as
  DEPENDENCY, retryable);
- and none is PERMANENT or VALIDATION (running it again would fail the same way).

Nothing keeps a list of them: they are derived from the rows every process writes.
Each comes with what running it again needs: its deployment (none: it cannot be
requeued, and says so), its parameters as stored (redacted: for reading; requeue takes
them from Prefect), the class, fingerprint and dependency of what failed, the attempts,
and whether it was requeued already (``failtrack_requeues``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, and_, exists, func, select

from ..store.models import requeues, transitions

CHUNK = 500
BLOCKING = ("PERMANENT", "VALIDATION")
NO_DEPLOYMENT = "no deployment: Prefect cannot create a new run of it; run its flow again by hand"


class RequeueState(BaseModel):
    """Whether a dead letter can be requeued, and what became of it."""

    possible: bool = Field(description="Not requeued yet, and it has a deployment.")
    reason: str | None = Field(default=None, description="Why it cannot be requeued.")
    status: str | None = Field(default=None, description="claimed, created or failed.")
    requeued_as: str | None = Field(default=None, description="The flow run that replaces it.")
    requeued_at: datetime | None = None
    requeue_of: str | None = Field(
        default=None, description="The dead letter this run replaced (it was a requeue itself)."
    )


class DeadLetter(BaseModel):
    """One flow run that gave up on passing trouble."""

    flow_run_id: str
    flow_name: str | None
    deployment_id: str | None
    failed_at: datetime
    error_type: str = Field(description="The class of the failure that decided.")
    error_class: str | None
    reason: str | None = Field(description="The rule that decided (redacted).")
    fingerprint: str | None
    dependency: str | None
    message: str | None = Field(description="Redacted and truncated.")
    failed_run: str = Field(description="The task run (or 'flow run') that failed.")
    attempts: int = Field(description="Attempts of the run that failed.")
    flow_attempts: int
    failed_tasks: list[str] = Field(description="Names of its failed task runs.")
    parameters: dict[str, Any] | None = Field(
        description="As stored: redacted, big values left out. Requeue reads them from Prefect."
    )
    requeue: RequeueState


class DeadLetterReport(BaseModel):
    """Dead letters of a window (``failtrack dead-letters``)."""

    window_start: datetime
    window_end: datetime
    filters: dict[str, str]
    dead_letters: list[DeadLetter]
    cannot_requeue: int = Field(description="Of those, the ones without a deployment.")
    generated_at: datetime


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for first in range(0, len(ids), CHUNK):
        yield list(ids[first : first + CHUNK])


def _failed_flow_runs(
    connection: Connection, start: datetime, end: datetime, flow: str | None
) -> list[Any]:
    """Flow runs whose last flow row in the audit table is Failed, failed within the window."""
    t, later = transitions, transitions.alias("later")
    query = select(t.c.run_id, t.c.name, t.c.flow_name, t.c.deployment_id, t.c.occurred_at,
                   t.c.run_count).where(  # fmt: skip
        t.c.occurred_at >= start, t.c.occurred_at < end, t.c.run_kind == "flow",
        t.c.to_state_type == "FAILED",
        ~exists().where(later.c.run_id == t.c.run_id, later.c.run_kind == "flow",
                        later.c.occurred_at > t.c.occurred_at),
    )
    if flow is not None:
        query = query.where(t.c.flow_name == flow)
    return list(connection.execute(query.order_by(t.c.occurred_at)))


def _causes(connection: Connection, ids: Sequence[str]) -> dict[str, list[Any]]:
    t = transitions.c
    found: dict[str, list[Any]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = connection.execute(
            select(t.flow_run_id, t.run_kind, t.name, t.error_type, t.error_class, t.reason,
                   t.fingerprint, t.dependency, t.error_message, t.retryable, t.run_count,
                   t.occurred_at)  # fmt: skip
            .where(t.flow_run_id.in_(chunk), t.to_state_type == "FAILED", t.error_type.is_not(None))
            .order_by(t.occurred_at)
        )
        for row in rows:
            found[row.flow_run_id].append(row)
    return found


def _parameters(connection: Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    t = transitions.c
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        rows = connection.execute(
            select(t.run_id, t["metadata"])
            .where(t.run_id.in_(chunk), t.run_kind == "flow", t.to_state_type == "RUNNING")
            .order_by(t.occurred_at)
        )
        for run_id, meta in rows:
            if isinstance(meta, dict) and isinstance(meta.get("parameters"), dict):
                found[run_id] = meta["parameters"]
    return found


def ledger(connection: Connection, ids: Sequence[str]) -> dict[str, Any]:
    """Requeue rows about these flow runs: by dead letter id, and by the id that replaced one
    (key ``"as:" + id``)."""
    r = requeues.c
    found: dict[str, Any] = {}
    for chunk in _chunks(ids):
        for row in connection.execute(
            select(requeues).where((r.flow_run_id.in_(chunk)) | (r.requeued_as.in_(chunk)))
        ):
            if row.flow_run_id in chunk:
                found[row.flow_run_id] = row
            if row.requeued_as in chunk:
                found[f"as:{row.requeued_as}"] = row
    return found


def _decide(causes: list[Any]) -> Any | None:
    """The cause that makes a dead letter, or ``None`` when the run is not one."""
    tasks = [c for c in causes if c.run_kind == "task"]
    considered = tasks or causes  # the flow's own row speaks when no task failed
    if any(c.error_type in BLOCKING for c in considered):
        return None
    retryable = [c for c in considered if c.retryable]
    return retryable[0] if retryable else None


def _requeue_state(deployment_id: str | None, row: Any, replaced: Any) -> RequeueState:
    requeue_of = replaced.flow_run_id if replaced is not None else None
    if row is not None and row.status == "created":
        return RequeueState(
            possible=False, reason=f"already requeued as {row.requeued_as}", status=row.status,
            requeued_as=row.requeued_as, requeued_at=row.requeued_at, requeue_of=requeue_of,
        )
    if deployment_id is None:
        return RequeueState(possible=False, reason=NO_DEPLOYMENT, requeue_of=requeue_of)
    if row is not None:  # claimed by a requeue that did not finish, or that failed: again
        return RequeueState(possible=True, status=row.status, requeued_at=row.requeued_at,
                            reason=row.detail, requeue_of=requeue_of)  # fmt: skip
    return RequeueState(possible=True, requeue_of=requeue_of)


def find(
    connection: Connection, start: datetime, end: datetime, *, flow: str | None = None,
    error_type: str | None = None, fingerprint: str | None = None,
    dependency: str | None = None, include_requeued: bool = False,
) -> list[DeadLetter]:
    """The dead letters that failed within ``[start, end)``, oldest first, filtered."""
    failed = _failed_flow_runs(connection, start, end, flow)
    ids = [row.run_id for row in failed]
    causes = _causes(connection, ids)
    letters: list[tuple[Any, Any]] = []
    for row in failed:
        cause = _decide(causes.get(row.run_id, []))
        if cause is None:
            continue
        candidates = [c for c in causes[row.run_id] if c.retryable]
        if error_type is not None and not any(c.error_type == error_type for c in candidates):
            continue
        if fingerprint is not None and not any(c.fingerprint == fingerprint for c in candidates):
            continue
        if dependency is not None and not any(c.dependency == dependency for c in candidates):
            continue
        letters.append((row, cause))
    ids = [row.run_id for row, _ in letters]
    parameters = _parameters(connection, ids)
    requeued = ledger(connection, ids)
    found = []
    for row, cause in letters:
        state = _requeue_state(row.deployment_id, requeued.get(row.run_id),
                               requeued.get(f"as:{row.run_id}"))  # fmt: skip
        if state.status == "created" and not include_requeued:
            continue
        tasks = [c.name for c in causes[row.run_id] if c.run_kind == "task"]
        found.append(DeadLetter(
            flow_run_id=row.run_id, flow_name=row.flow_name or row.name,
            deployment_id=row.deployment_id, failed_at=row.occurred_at,
            error_type=cause.error_type, error_class=cause.error_class, reason=cause.reason,
            fingerprint=cause.fingerprint, dependency=cause.dependency,
            message=cause.error_message,
            failed_run=cause.name if cause.run_kind == "task" else "flow run",
            attempts=int(cause.run_count or 1), flow_attempts=int(row.run_count or 1),
            failed_tasks=list(dict.fromkeys(tasks)), parameters=parameters.get(row.run_id),
            requeue=state,
        ))
    return found


def build_dead_letters(
    engine: Engine, *, since: timedelta = timedelta(days=7), until: datetime | None = None,
    flow: str | None = None, error_type: str | None = None, fingerprint: str | None = None,
    dependency: str | None = None, include_requeued: bool = False,
) -> DeadLetterReport:
    """The dead letters of the window `since` before `until` (default: now), filtered."""
    end = until.astimezone(UTC) if until is not None else datetime.now(UTC)
    start = end - since
    filters = {"flow": flow, "error_type": error_type, "fingerprint": fingerprint,
               "dependency": dependency}  # fmt: skip
    with engine.connect() as connection:
        letters = find(
            connection, start, end, flow=flow, error_type=error_type, fingerprint=fingerprint,
            dependency=dependency, include_requeued=include_requeued,
        )
    return DeadLetterReport(
        window_start=start, window_end=end,
        filters={k: v for k, v in filters.items() if v is not None},
        dead_letters=letters,
        cannot_requeue=sum(1 for d in letters if d.deployment_id is None),
        generated_at=datetime.now(UTC),
    )


def requeued_between(connection: Connection, start: datetime, end: datetime) -> int:
    """Dead letters requeued (a new run created) within ``[start, end)``."""
    r = requeues.c
    return int(connection.execute(
        select(func.count()).select_from(requeues)
        .where(and_(r.requeued_at >= start, r.requeued_at < end, r.status == "created"))
    ).scalar() or 0)


__all__ = [
    "DeadLetter",
    "DeadLetterReport",
    "RequeueState",
    "build_dead_letters",
    "find",
    "ledger",
    "requeued_between",
]
