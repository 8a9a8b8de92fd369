"""What the flow-end hook publishes in direct mode, published by the collector for flow runs
whose rows travelled as events (`prefect_failtrack.transport`).

For each failed flow run in the outbox, once it is due (a moment after its final row, so
that task rows still in flight from other processes land first): its view is read from
the store; a flow run that failed without an exception of its own (its final row says
``metadata.class_from_runs``) gets the class of its worst failure, in its row too, as the
hook gives it in direct mode (`prefect_failtrack.capture.flow_end.class_of_runs`); then
the ``failtrack:*`` tags, the failure-summary artifact and the
``failtrack.failure.classified`` event (`flow_end.tell`). A publication that fails is
tried again later (`RETRY_AFTER`), `MAX_ATTEMPTS` times at most.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from prefect.logging import get_logger
from sqlalchemy import Engine, select, update

from ..capture import flow_end
from ..classification import Classification, ErrorType
from ..fingerprint import fingerprint
from ..policy import RetryDecision
from ..store.driver import Driver
from ..store.encoding import utcnow
from ..store.models import transitions
from ..store.summaries import FINAL_TYPES, views
from . import position

logger = get_logger("prefect_failtrack.collector")
RETRY_AFTER = timedelta(seconds=10)
MAX_ATTEMPTS = 5
ERROR_COLUMNS = ("error_type", "error_class", "error_message", "fingerprint", "retryable", "reason")


class StoredFailure:
    """A failure as its row stores it: what `flow_end.tell` reads of a `Failure`."""

    def __init__(self, classification: Classification, columns: dict[str, Any]) -> None:
        self.classification = classification
        self._columns = columns

    def columns(self) -> dict[str, Any]:
        return dict(self._columns)


def publish_due(engine: Engine, limit: int = 50) -> int:
    """Publish the failure summaries that are due; how many were published."""
    with engine.connect() as connection:
        due = position.due(connection, limit=limit)
    published = 0
    for flow_run_id, attempts in due:
        try:
            publish(engine, flow_run_id)
        except Exception as exc:
            gave_up = attempts + 1 >= MAX_ATTEMPTS
            logger.warning(
                "failtrack collect: could not publish the failure summary of flow run %s "
                "(%s: %s); %s.",
                flow_run_id,
                type(exc).__name__,
                exc,
                "giving up" if gave_up else f"trying again in {RETRY_AFTER.seconds} s",
            )
            with engine.begin() as connection:
                if gave_up:
                    position.done(connection, flow_run_id)
                else:
                    position.later(connection, flow_run_id, utcnow() + RETRY_AFTER)
            continue
        with engine.begin() as connection:
            position.done(connection, flow_run_id)
        published += 1
    return published


def _final_row(connection: Any, flow_run_id: str) -> Any:
    t = transitions.c
    rows = connection.execute(
        select(transitions)
        .where(t.run_id == flow_run_id, t.run_kind == "flow")
        .order_by(t.occurred_at.desc(), t.run_count.desc())
    ).all()
    return next((r for r in rows if r.to_state_type in FINAL_TYPES), None)


def publish(engine: Engine, flow_run_id: str) -> None:
    """Tags, artifact and event of one failed flow run, from its stored rows."""
    from prefect.client.orchestration import get_client

    with engine.begin() as connection:
        final = _final_row(connection, flow_run_id)
        if final is None:
            return
        view = views(Driver.of_sqlalchemy(connection), [flow_run_id])[flow_run_id]
        meta = final.metadata or {}
        classification = _classification(final)
        columns = {name: getattr(final, name) for name in ERROR_COLUMNS}
        if meta.get("class_from_runs"):
            derived = flow_end.class_of_runs(view)
            if derived is not None:
                classification = derived
                # As the hook makes them (`rows.error_columns`): a failure without an
                # exception has no traceback, so no user frame in its fingerprint.
                changed = {
                    "error_type": derived.error_type.value,
                    "error_class": derived.error_class,
                    "retryable": derived.retryable,
                    "reason": derived.reason,
                    "fingerprint": fingerprint(derived.error_class, final.error_message),
                }
                columns.update(changed)
                connection.execute(
                    update(transitions).where(transitions.c.id == final.id).values(**changed)
                )
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
    state = flow_run.state or SimpleNamespace(name=final.to_state)
    spent = int(meta.get("retries_spent") or 0)
    decision = RetryDecision(
        classification, retry=False, delay=None, attempt=spent, budget=int(meta.get("budget") or 0)
    )
    flow = SimpleNamespace(name=view.flow_name or final.name)
    flow_end.tell(
        flow,
        flow_run,
        state,
        StoredFailure(classification, columns),
        decision,
        view,  # type: ignore[arg-type]
        attempts=int(meta.get("attempts") or final.run_count or 1),
        spent=spent,
    )


def _classification(row: Any) -> Classification:
    kind = row.error_type if row.error_type in ErrorType.__members__ else "UNKNOWN"
    error_type = ErrorType(kind)
    retryable = bool(row.retryable) if row.retryable is not None else error_type.retryable
    return Classification(
        error_type,
        retryable,
        row.reason or "-",
        row.error_class or "UNKNOWN",
        row.error_class or "UNKNOWN",
    )
