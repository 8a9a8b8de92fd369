"""Requeue: run dead letters again through Prefect, each once, each linked to the run it replaces.

For each dead letter (oldest first, at most `limit`):

1. it is claimed in ``failtrack_requeues`` (its flow run id is the primary key); one already
   requeued (status ``created``) is skipped and says as what;
2. its parameters are read from Prefect (the flow run's own, unredacted; the audit table
   keeps a redacted copy for reading only);
3. a new flow run of its deployment is created with them (``prefect.deployments.
   run_deployment``, ``timeout=0``, not as a subflow), with the idempotency key
   ``failtrack-requeue:<dead letter id>``: Prefect returns the same run for the same key
   (``prefect/server/models/flow_runs.py``, ``create_flow_run``: an insert that does nothing
   on conflict with the flow and the key, then a read), so two requeues racing,
   or one retried after a crash between steps, still make one run;
4. the new run gets the label ``failtrack.requeue-of`` and the tag ``failtrack-requeue``, and
   the ledger row its id (status ``created``).

A dead letter without a deployment is skipped with that reason. A step that fails marks the
row ``failed`` with the error, and the next requeue tries it again.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from prefect.logging import get_logger
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..store.models import requeues
from .dead_letters import DeadLetter, find
from .safety import neutral

logger = get_logger("prefect_failtrack.resilience")
REQUEUE_LABEL = "failtrack.requeue-of"
REQUEUE_TAG = "failtrack-requeue"
AUTO_SINCE = timedelta(days=7)
AUTO_LIMIT = 100
Action = Literal["requeued", "would requeue", "skipped", "failed"]


class RequeueOutcome(BaseModel):
    """What became of one dead letter."""

    flow_run_id: str
    flow_name: str | None
    deployment_id: str | None
    action: Action
    new_flow_run_id: str | None = None
    reason: str | None = Field(default=None, description="Why it was skipped, or what failed.")


class RequeueReport(BaseModel):
    """One ``failtrack requeue``: what was (or, with ``--dry-run``, would be) requeued."""

    dry_run: bool
    limit: int | None
    requeued: int
    skipped: int
    failed: int
    outcomes: list[RequeueOutcome]
    generated_at: datetime


def idempotency_key(flow_run_id: str) -> str:
    return f"failtrack-requeue:{flow_run_id}"


def _claim(engine: Engine, letter: DeadLetter, requested_by: str) -> Any:
    """Claim the dead letter; ``None`` when it is claimed, else the row found (``created``: it
    was requeued already)."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    r = requeues.c
    with engine.begin() as connection:
        result = connection.execute(insert(requeues).values(
            flow_run_id=letter.flow_run_id, deployment_id=letter.deployment_id, status="claimed",
            requested_by=requested_by, requeued_at=datetime.now(UTC),
        ).on_conflict_do_nothing(index_elements=["flow_run_id"]))
        if result.rowcount == 1:
            return None
        taken = connection.execute(
            update(requeues).where(r.flow_run_id == letter.flow_run_id, r.status != "created")
            .values(status="claimed", requested_by=requested_by, requeued_at=datetime.now(UTC))
        )
        if taken.rowcount == 1:
            return None
        return connection.execute(
            select(requeues).where(r.flow_run_id == letter.flow_run_id)
        ).first()


def _settle(engine: Engine, flow_run_id: str, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(requeues).where(requeues.c.flow_run_id == flow_run_id).values(**values)
        )


def _create_run(letter: DeadLetter) -> str:
    """The new flow run of the dead letter's deployment, with its parameters from Prefect."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    with get_client(sync_client=True) as client:
        original = client.read_flow_run(UUID(letter.flow_run_id))
    tags = sorted({*(original.tags or []), REQUEUE_TAG})
    new = run_deployment(  # type: ignore[call-overload]
        UUID(str(letter.deployment_id)), parameters=dict(original.parameters or {}), timeout=0,
        as_subflow=False, tags=tags, idempotency_key=idempotency_key(letter.flow_run_id),
    )
    with get_client(sync_client=True) as client:
        client.update_flow_run_labels(new.id, {REQUEUE_LABEL: letter.flow_run_id})
    return str(new.id)


def requeue(
    engine: Engine, letters: Sequence[DeadLetter], *, dry_run: bool = False,
    limit: int | None = None, requested_by: str = "failtrack requeue",
) -> RequeueReport:
    """Requeue `letters` (see the module); with `dry_run`, only say what would be done."""
    outcomes: list[RequeueOutcome] = []
    done = 0
    for letter in letters:
        outcome = RequeueOutcome(flow_run_id=letter.flow_run_id, flow_name=letter.flow_name,
                                 deployment_id=letter.deployment_id, action="skipped")  # fmt: skip
        outcomes.append(outcome)
        if not letter.requeue.possible:
            outcome.reason = letter.requeue.reason
            continue
        if limit is not None and done >= limit:
            outcome.reason = f"over the limit of {limit}"
            continue
        done += 1
        if dry_run:
            outcome.action = "would requeue"
            continue
        found = _claim(engine, letter, requested_by)
        if found is not None:
            outcome.reason = f"already requeued as {found.requeued_as}"
            done -= 1
            continue
        try:
            new_id = _create_run(letter)
        except Exception as exc:
            outcome.action, outcome.reason = "failed", _first_line(exc)
            _settle(engine, letter.flow_run_id, status="failed", detail=outcome.reason)
            logger.warning("failtrack: could not requeue flow run %s: %s", letter.flow_run_id,
                           outcome.reason)  # fmt: skip
            continue
        _settle(engine, letter.flow_run_id, status="created", requeued_as=new_id, detail=None,
                requeued_at=datetime.now(UTC))  # fmt: skip
        outcome.action, outcome.new_flow_run_id = "requeued", new_id
        logger.info("failtrack: requeued flow run %s as %s", letter.flow_run_id, new_id)
    return RequeueReport(
        dry_run=dry_run, limit=limit,
        requeued=sum(1 for o in outcomes if o.action in ("requeued", "would requeue")),
        skipped=sum(1 for o in outcomes if o.action == "skipped"),
        failed=sum(1 for o in outcomes if o.action == "failed"),
        outcomes=outcomes, generated_at=datetime.now(UTC),
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"


# ----------------------------------------------------------- when a circuit closes

_threads: list[threading.Thread] = []
AT_EXIT_WAIT_S = 30.0


@neutral()
def requeue_dependency(dependency: str, url: str) -> RequeueReport:
    """Requeue the dead letters of `dependency` of the last `AUTO_SINCE` (at most `AUTO_LIMIT`)."""
    from ..store.database import ensure_schema, get_engine

    ensure_schema(url)
    engine = get_engine(url)
    end = datetime.now(UTC)
    with engine.connect() as connection:
        letters = find(connection, end - AUTO_SINCE, end, dependency=dependency)
    report = requeue(engine, letters, limit=AUTO_LIMIT,
                     requested_by=f"circuit of {dependency} closed")  # fmt: skip
    if report.requeued or report.failed:
        logger.warning("failtrack: circuit of %r closed: requeued %d dead letter(s), %d failed",
                       dependency, report.requeued, report.failed)  # fmt: skip
    return report


@neutral()
def requeue_in_background(dependency: str) -> None:
    """`requeue_dependency` in a thread of its own (the run that closed the circuit goes on);
    the process waits for it at exit, `AT_EXIT_WAIT_S` at most."""
    from .breaker import get_breaker

    url = get_breaker().url
    thread = threading.Thread(target=requeue_dependency, args=(dependency, url),
                              name="failtrack-requeue", daemon=True)  # fmt: skip
    _threads.append(thread)
    thread.start()


@atexit.register
def _wait_for_requeues() -> None:
    for thread in list(_threads):
        thread.join(AT_EXIT_WAIT_S)


__all__ = [
    "REQUEUE_LABEL",
    "REQUEUE_TAG",
    "RequeueOutcome",
    "RequeueReport",
    "idempotency_key",
    "requeue",
    "requeue_dependency",
    "requeue_in_background",
]
