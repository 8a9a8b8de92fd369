"""Turn what a hook sees into one audit row: a plain dict with the table's columns.

Messages and stack traces are redacted, then truncated, here, before anything
leaves the hook; so is the metadata.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from ..classification import Classification
from ..classification.introspect import (
    group_members,
    qualified_name,
    safe_getattr,
    safe_message,
)
from ..fingerprint import fingerprint, user_frame
from ..policy import RetryDecision
from ..redaction import get_redactor, truncate
from ..settings import FailtrackSettings, tolerant_settings

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


#: Exceptions a stack trace may show, chains and group members together. Python's own
#: formatting visits every member of every nested group, the same one as often as it is
#: repeated: 15 members 5 levels deep take half a minute, 8 levels deep hours.
MAX_STACK_EXCEPTIONS = 100


def format_stack(exc: BaseException, max_chars: int | None = None) -> str | None:
    """The traceback as Python prints it, cut after the line that reaches `max_chars`; only the
    outermost exception's when its chains and groups hold more than `MAX_STACK_EXCEPTIONS`
    exceptions. ``None`` if it cannot be had."""
    try:
        if _exceptions_to_format(exc) > MAX_STACK_EXCEPTIONS:
            frames = traceback.format_tb(safe_getattr(exc, "__traceback__"))
            head = "".join(["Traceback (most recent call last):\n", *frames]) if frames else ""
            return (
                f"{head}{qualified_name(type(exc))}: {safe_message(exc)}\n"
                f"[failtrack: chained and grouped exceptions not shown, more than "
                f"{MAX_STACK_EXCEPTIONS}]\n"
            )
        # Source lines are read as frames are formatted: only for the part that is kept.
        formatted = traceback.TracebackException(
            type(exc), exc, exc.__traceback__, lookup_lines=False, compact=True
        ).format()
        lines, size = [], 0
        for line in formatted:
            lines.append(line)
            size += len(line)
            if max_chars is not None and size >= max_chars:
                break
        return "".join(lines)[:max_chars]
    except Exception:
        return None


def _exceptions_to_format(exc: BaseException) -> int:
    """How many exceptions ``traceback`` would visit (links of a chain once, group members each
    time they appear), counted up to one past `MAX_STACK_EXCEPTIONS`."""
    seen, pending, count = {id(exc)}, [exc], 0
    while pending and count <= MAX_STACK_EXCEPTIONS:
        current = pending.pop()
        count += 1
        for attr in ("__cause__", "__context__"):
            link = safe_getattr(current, attr)
            if isinstance(link, BaseException) and id(link) not in seen:
                seen.add(id(link))
                pending.append(link)
        pending.extend(group_members(current)[: MAX_STACK_EXCEPTIONS + 1])
    return count


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
    stack = format_stack(exc, limits.stack_limit * 4) if exc is not None else None
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
    """One row of ``failtrack_transitions``, its text storable (`storable`), its ids as text,
    its tags sorted and, with its metadata, redacted.

    The hooks do not call it themselves: they hand its keywords to the recorder
    (`pending_transition`), whose writer thread calls it (``str(UUID)``, redaction and
    the storable walk are most of what a row costs, and the pipeline's thread need not pay
    them).
    """
    return storable({
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
    })


def pending_transition(**values: Any) -> Callable[[], dict[str, Any]]:
    """`transition_row` of `values`, made when called: what the hooks hand to the recorder.

    `values` must be the hook's own (immutable, or fresh objects nobody else changes):
    the row is made later, in another thread.
    """
    return partial(transition_row, **values)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def storable(value: Any, depth: int = 0) -> Any:
    """`value` with text that any database takes: NUL (PostgreSQL refuses it) and lone
    surrogates (UTF-8 cannot encode them) written as backslash escapes, ``\\x00`` and
    ``\\ud800``; dicts, lists and tuples are walked, 64 levels deep at most."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\\x00")
        if not value.isascii():
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if depth < 64:
        # Most of a row is left as it is (None, numbers, ASCII text without NUL): told
        # inline, without a call, as this runs for every row, in the pipeline's thread.
        if isinstance(value, dict):
            return {
                (
                    k if type(k) is str and k.isascii() and "\x00" not in k
                    else storable(k, depth + 1)
                ): (
                    v if type(v) in _SCALARS
                    or (type(v) is str and v.isascii() and "\x00" not in v)
                    else storable(v, depth + 1)
                )
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [storable(v, depth + 1) for v in value]
    return value


_SCALARS = frozenset({type(None), bool, int, float, datetime})
"""Types `storable` leaves as they are, told without a call."""
