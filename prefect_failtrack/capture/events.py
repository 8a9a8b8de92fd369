"""Prefect events for classified failures, so that Automations can act on a class.

Two events, only ever on failures (a run that succeeds costs nothing here):

- ``failtrack.failure.classified``: one per final task run failure and per
  failed (or crashed) flow run;
- ``failtrack.retries.exhausted``: a retryable class (TRANSIENT, TIMEOUT)
  that was retried and still failed: its budget, or the run's, is spent.

The resource is the run, identified as Prefect identifies it (``prefect.task-run.<id>``,
``prefect.flow-run.<id>``: ``emit_task_run_state_change_event`` in
prefect/utilities/engine, the heartbeat resource in prefect/flow_engine.py), and named
readably with its class (``extract-4a1 — TRANSIENT``: the event feed shows the
resource's name, so the class is there without opening the raw payload), with the
class as a label, so a trigger can match on it::

    match: {"prefect.resource.id": "prefect.task-run.*", "failtrack.error-type": "PERMANENT"}

Prefect's events worker adds the run context's related resources (flow,
deployment, tags) when it sends the event (prefect/events/worker.py,
``attach_related_resources_from_context``). Event ids derive from the run and
its attempt, so an event sent twice is one event.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect.events import emit_event

from ..classification import Classification
from ..policy import RetryDecision
from ..redaction import get_redactor

CLASSIFIED = "failtrack.failure.classified"
EXHAUSTED = "failtrack.retries.exhausted"
EVENT_ID_NAMESPACE = uuid.UUID("0d3b1f5e-8c61-4d5a-b0e4-2b1d7f3a9c42")


def retries_exhausted(
    classification: Classification, decision: RetryDecision | None, retries_spent: int
) -> bool:
    """A retryable class, with a budget, retried, and failing all the same."""
    return (
        classification.retryable
        and decision is not None
        and decision.budget > 0
        and retries_spent > 0
    )


def _event_id(run_id: str, event: str, attempt: int) -> uuid.UUID:
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{run_id}:{event}:{attempt}")


def _resource(kind: str, run_id: str, name: str, classification: Classification) -> dict[str, str]:
    return {
        "prefect.resource.id": f"prefect.{kind}.{run_id}",
        "prefect.resource.name": f"{name or run_id} — {classification.error_type.value}",
        "failtrack.error-type": classification.error_type.value,
        "failtrack.retryable": str(classification.retryable).lower(),
    }


def _classification_payload(
    classification: Classification, columns: dict[str, Any]
) -> dict[str, Any]:
    return {
        "error_type": classification.error_type.value,
        "retryable": classification.retryable,
        "reason": get_redactor().redact(classification.reason),  # a user's rule may quote secrets
        "error_class": classification.error_class,
        "decided_by": classification.decided_by,
        "fingerprint": columns.get("fingerprint"),
        "message": columns.get("error_message"),
    }


def task_failed(
    *,
    task_run_id: str,
    run_name: str,
    classification: Classification,
    columns: dict[str, Any],
    attempts: int,
    exhausted: bool,
    flow_run_id: str | None,
    budget: int,
    spent: int,
) -> None:
    """The events of one task run's final failure."""
    resource = _resource("task-run", task_run_id, run_name, classification)
    related = []
    if flow_run_id is not None:
        related.append({
            "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
            "prefect.resource.role": "flow-run",
        })
    payload = {
        **_classification_payload(classification, columns),
        "run_kind": "task",
        "attempts": attempts,
        "retries_exhausted": exhausted,
    }
    emit_event(
        CLASSIFIED, resource=resource, related=related, payload=payload,
        id=_event_id(task_run_id, CLASSIFIED, attempts),
    )
    if exhausted:
        emit_event(
            EXHAUSTED, resource=resource, related=related,
            payload={**payload, "budget": budget, "retries_spent": spent},
            id=_event_id(task_run_id, EXHAUSTED, attempts),
        )


def flow_failed(
    flow_run: Any,
    classification: Classification,
    columns: dict[str, Any],
    *,
    attempts: int,
    failed_tasks: dict[str, int],
    partial_success: bool,
    exhausted: bool,
    budget: int,
    spent: int,
) -> None:
    """The events of one flow run's failure (or crash)."""
    run_id = str(flow_run.id)
    resource = _resource("flow-run", run_id, flow_run.name, classification)
    payload = {
        **_classification_payload(classification, columns),
        "run_kind": "flow",
        "attempts": attempts,
        "failed_tasks_by_class": failed_tasks,
        "partial_success": partial_success,
        "retries_exhausted": exhausted,
    }
    emit_event(
        CLASSIFIED, resource=resource, payload=payload,
        id=_event_id(run_id, CLASSIFIED, attempts),
    )
    if exhausted:
        emit_event(
            EXHAUSTED, resource=resource,
            payload={**payload, "budget": budget, "retries_spent": spent},
            id=_event_id(run_id, EXHAUSTED, attempts),
        )


__all__ = ["CLASSIFIED", "EXHAUSTED", "flow_failed", "retries_exhausted", "task_failed"]
