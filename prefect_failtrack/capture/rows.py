"""Turn what a hook sees into one audit row: a plain dict with the table's columns.

Messages and stack traces are redacted, then truncated, here, before anything
leaves the hook; so is the metadata.
"""

from __future__ import annotations

import traceback
import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from ..classification import Classification
from ..classification.introspect import safe_message
from ..fingerprint import fingerprint, user_frame
from ..policy import RetryDecision
from ..redaction import get_redactor, truncate
from ..settings import FailtrackSettings, get_settings

#: Namespace of the ids given to transitions whose Prefect state id a hook cannot see.
SYNTHETIC_ID_NAMESPACE = uuid.UUID("6f1c5c1e-5b7a-4d0e-9a43-3f2b7c1d8e90")


@cache
def settings() -> FailtrackSettings:
    """Settings read once per process (`reset` in `prefect_failtrack.capture` forgets them)."""
    return get_settings()


def synthetic_id(run_id: str, to_state: str, run_count: int) -> str:
    """A stable id from the natural key, for transitions hooks see without a state id."""
    return str(uuid.uuid5(SYNTHETIC_ID_NAMESPACE, f"{run_id}:{to_state}:{run_count}"))


def format_stack(exc: BaseException) -> str | None:
    try:
        return "".join(traceback.format_exception(exc))
    except Exception:
        return None


def error_columns(
    exc: BaseException | None,
    classification: Classification | None,
    message: str | None = None,
) -> dict[str, Any]:
    """The error columns of a failed transition (all None when there is no error)."""
    if classification is None:
        return {}
    limits = settings()
    redactor = get_redactor()
    if exc is not None:
        message = safe_message(exc, limit=limits.message_limit * 4)
    clean_message = redactor.redact(message or "")
    stack = format_stack(exc) if exc is not None else None
    return {
        "error_type": classification.error_type.value,
        "error_class": classification.error_class,
        "error_message": truncate(clean_message, limits.message_limit),
        "stack_trace": truncate(redactor.redact(stack), limits.stack_limit) if stack else None,
        "fingerprint": fingerprint(
            classification.error_class, clean_message, user_frame(exc) if exc else None
        ),
        "retryable": classification.retryable,
        "reason": classification.reason,
    }


def decision_columns(decision: RetryDecision, at: datetime) -> dict[str, Any]:
    return {
        "retry_delay_s": decision.delay,
        "retries_left": decision.retries_left,
        "scheduled_at": at + timedelta(seconds=decision.delay or 0) if decision.retry else None,
    }


def transition_row(
    *,
    row_id: str,
    run_kind: str,
    run_id: str,
    flow_run_id: str | None,
    task_run_id: str | None,
    name: str,
    flow_name: str | None,
    deployment_id: str | None,
    from_state: str | None,
    to_state: str,
    to_state_type: str,
    occurred_at: datetime,
    duration_ms: int | None,
    run_count: int,
    origin: str | None,
    tags: list[str],
    metadata: dict[str, Any],
    **columns: Any,
) -> dict[str, Any]:
    """One row of ``failtrack_transitions``."""
    return {
        "id": row_id,
        "run_kind": run_kind,
        "run_id": run_id,
        "flow_run_id": flow_run_id,
        "task_run_id": task_run_id,
        "name": name,
        "flow_name": flow_name,
        "deployment_id": deployment_id,
        "from_state": from_state,
        "to_state": to_state,
        "to_state_type": to_state_type,
        "occurred_at": occurred_at,
        "duration_in_state_ms": duration_ms,
        "run_count": run_count,
        "origin": origin,
        "tags": tags,
        "metadata": get_redactor().redact_value(metadata) if metadata else {},
        **columns,
    }
