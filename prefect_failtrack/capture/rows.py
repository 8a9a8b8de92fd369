"""Turn what a hook sees into one audit row: a plain dict with the table's columns.

Messages and stack traces are redacted, then truncated, here, before anything
leaves the hook; so is the metadata.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from ..classification import Classification
from ..classification.introspect import safe_message
from ..fingerprint import fingerprint, user_frame
from ..policy import RetryDecision
from ..redaction import get_redactor, truncate
from ..settings import FailtrackSettings, tolerant_settings
from .stacks import format_exception

#: Namespace of the ids given to transitions whose Prefect state id a hook cannot see.
SYNTHETIC_ID_NAMESPACE = uuid.UUID("6f1c5c1e-5b7a-4d0e-9a43-3f2b7c1d8e90")


@cache
def settings() -> FailtrackSettings:
    """Settings read once per process (`reset` in `prefect_failtrack.capture` forgets them);
    never raises: settings that do not validate fall back to their defaults."""
    return tolerant_settings()


def synthetic_id(run_id: str, to_state: str, run_count: int) -> str:
    """A stable id from the natural key, for transitions hooks see without a state id."""
    return str(uuid.uuid5(SYNTHETIC_ID_NAMESPACE, f"{run_id}:{to_state}:{run_count}"))


def error_columns(
    exc: BaseException | None,
    classification: Classification | None,
    message: str | None = None,
    stack: str | None = None,
) -> dict[str, Any]:
    """The error columns of a failed transition (all None when there is no error).

    `message` and `stack`: the exception's message and traceback when the caller has them
    already (`capture.failure.Failure`: ``str()`` of an exception is computed once per
    failure); computed here otherwise.
    """
    if classification is None:
        return {}
    limits = settings()
    redactor = get_redactor()
    if exc is not None and message is None:
        message = safe_message(exc, limit=limits.message_limit * 4)
    clean_message = redactor.redact(message or "")
    if exc is not None and stack is None:
        known = message or ""
        stack = format_exception(
            exc, lambda e: known if e is exc else safe_message(e), limits.stack_limit * 4
        )
    return {
        "error_type": classification.error_type.value,
        "error_class": classification.error_class,
        "error_message": truncate(clean_message, limits.message_limit),
        "stack_trace": truncate(redactor.redact(stack), limits.stack_limit) if stack else None,
        "fingerprint": fingerprint(
            classification.error_class, clean_message, user_frame(exc) if exc else None
        ),
        "retryable": classification.retryable,
        # A user's rule may quote the message in its reason.
        "reason": truncate(redactor.redact(classification.reason), limits.message_limit),
        # What decided, for `classify --replay` (a vendor's reason text may quote secrets).
        "error_facts": (
            redactor.redact_value(classification.facts.as_dict())
            if classification.facts else None
        ),
    }


def decision_columns(decision: RetryDecision, at: datetime) -> dict[str, Any]:
    return {
        "retry_delay_s": decision.delay,
        "retries_left": decision.retries_left,
        "scheduled_at": at + timedelta(seconds=decision.delay or 0) if decision.retry else None,
    }


def redacted_tags(tags: Any) -> list[str]:
    """A run's tags as stored: sorted, each redacted (a tag can carry a DSN or a token)."""
    redactor = get_redactor()
    return [redactor.redact(tag) for tag in sorted(tags or [])]


def transition_row(
    *,
    row_id: str | uuid.UUID,
    run_kind: str,
    run_id: str | uuid.UUID,
    flow_run_id: str | uuid.UUID | None,
    task_run_id: str | uuid.UUID | None,
    name: str,
    flow_name: str | None,
    deployment_id: str | uuid.UUID | None,
    from_state: str | None,
    to_state: str,
    to_state_type: str,
    occurred_at: datetime,
    duration_ms: int | None,
    run_count: int,
    origin: str | None,
    tags: Iterable[str] | None,
    metadata: dict[str, Any],
    **columns: Any,
) -> dict[str, Any]:
    """One row of ``failtrack_transitions``: its ids as text, its tags sorted and, with its
    metadata, redacted (the store makes its text storable when it writes it).

    The hooks do not call it themselves: they hand its keywords to the recorder
    (`pending_transition`), whose writer thread calls it (``str(UUID)``, redaction and
    the store's storable walk are most of what a row costs, and the pipeline's thread need not pay
    them).
    """
    return {
        "id": str(row_id),
        "run_kind": run_kind,
        "run_id": str(run_id),
        "flow_run_id": _text(flow_run_id),
        "task_run_id": _text(task_run_id),
        "name": name,
        "flow_name": flow_name,
        "deployment_id": _text(deployment_id),
        "from_state": from_state,
        "to_state": to_state,
        "to_state_type": to_state_type,
        "occurred_at": occurred_at,
        "duration_in_state_ms": duration_ms,
        "run_count": run_count,
        "origin": origin,
        "tags": redacted_tags(tags),
        "metadata": get_redactor().redact_value(metadata) if metadata else {},
        **columns,
    }


class Later:
    """A column value found out when the row is made, in the recorder's writer thread (an
    API read the pipeline's thread should not wait for). Its errors give ``fallback``."""

    __slots__ = ("fallback", "find")

    def __init__(self, find: Callable[[], Any], fallback: Any = None) -> None:
        self.find, self.fallback = find, fallback

    def __call__(self) -> Any:
        try:
            found = self.find()
        except Exception:
            return self.fallback
        return self.fallback if found is None else found


def pending_transition(**values: Any) -> Callable[[], dict[str, Any]]:
    """`transition_row` of `values`, made when called: what the hooks hand to the recorder.

    `values` must be the hook's own (immutable, or fresh objects nobody else changes):
    the row is made later, in another thread.
    """
    return partial(_made_later, values)


def _made_later(values: dict[str, Any]) -> dict[str, Any]:
    return transition_row(**{k: v() if isinstance(v, Later) else v for k, v in values.items()})


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
