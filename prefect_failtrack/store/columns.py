"""The audit tables' columns as plain data, for the driver-level write path (`direct`).

`prefect_failtrack.store.models` declares the tables (SQLModel); this module says the same
of them without importing SQLAlchemy: names in table order, which are JSON, timestamps
and booleans, and the defaults a row gets for what it leaves out. A test keeps the two in
step (``tests/store/test_direct_writes.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .encoding import utcnow

TRANSITIONS = "failtrack_transitions"
FLOW_RUNS = "failtrack_flow_runs"
VERSION_TABLE = "failtrack_alembic_version"
HEAD_REVISION = "0007"
"""The newest migration this package ships (a test keeps it equal to Alembic's head)."""

TRACKED = "tracked"
OBSERVED = "observed"
"""Values of ``capture``: failtrack's hooks wrote the row, or the collector made it from
Prefect's own state events (a run failtrack does not track)."""

TRANSITION_COLUMNS = (
    "id", "run_kind", "flow_run_id", "task_run_id", "run_id", "name", "flow_name",
    "deployment_id", "from_state", "to_state", "to_state_type", "occurred_at",
    "duration_in_state_ms", "run_count", "error_type", "error_class", "error_message",
    "stack_trace", "fingerprint", "retryable", "reason", "error_facts", "retry_delay_s",
    "retries_left",
    "scheduled_at", "origin", "parent_flow_run_id", "parent_task_run_id", "dependency", "tags",
    "metadata", "recorded_at", "capture",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "flow_run_id", "flow_name", "deployment_id", "started_at", "ended_at", "final_state",
    "final_state_type", "tasks_total", "tasks_completed", "tasks_failed", "tasks_not_ready",
    "subflows_total", "subflows_failed", "failures_by_class", "retries_spent",
    "partial_success", "metrics", "tags", "parent_flow_run_id", "parent_task_run_id",
    "updated_at", "capture",
)  # fmt: skip

JSON_COLUMNS = frozenset({
    "tags", "metadata", "failures_by_class", "metrics", "error_facts",
    "progress",  # failtrack_heartbeats (`prefect_failtrack.liveness.writes`)
})  # fmt: skip
TIMESTAMP_COLUMNS = frozenset({
    "occurred_at", "scheduled_at", "recorded_at", "started_at", "ended_at", "updated_at",
    # failtrack_processes and failtrack_heartbeats (`prefect_failtrack.liveness.writes`)
    "first_beat", "last_beat", "since", "changed_at", "progress_at",
})  # fmt: skip
BOOLEAN_COLUMNS = frozenset({"retryable", "partial_success"})

_ZERO: Callable[[], Any] = lambda: 0  # noqa: E731
DEFAULTS: dict[str, dict[str, Callable[[], Any]]] = {
    TRANSITIONS: {"tags": list, "metadata": dict, "recorded_at": utcnow, "capture": lambda: TRACKED},
    FLOW_RUNS: {
        "tasks_total": _ZERO, "tasks_completed": _ZERO, "tasks_failed": _ZERO,
        "tasks_not_ready": _ZERO, "subflows_total": _ZERO, "subflows_failed": _ZERO,
        "failures_by_class": dict, "retries_spent": _ZERO, "partial_success": lambda: False,
        "metrics": dict, "tags": list, "updated_at": utcnow, "capture": lambda: TRACKED,
    },
}  # fmt: skip
COLUMNS = {TRANSITIONS: TRANSITION_COLUMNS, FLOW_RUNS: SUMMARY_COLUMNS}


def complete(table: str, row: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """`row` with every column of `table`, in order; defaults for what it leaves out, and
    ISO strings (a spooled row's) read back as timestamps."""
    defaults = DEFAULTS[table]
    out: dict[str, Any] = {}
    for name in COLUMNS[table]:
        value = row.get(name)
        if value is None and name in defaults:
            value = (now or utcnow()) if defaults[name] is utcnow else defaults[name]()
        elif isinstance(value, str) and name in TIMESTAMP_COLUMNS:
            value = datetime.fromisoformat(value)
        out[name] = value
    return out
