"""Flow run summaries are derived from the stored rows by whoever stores them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from prefect_failtrack.store.database import get_engine
from prefect_failtrack.store.models import flow_runs
from prefect_failtrack.store.summaries import fold
from tests.store.conftest import make_transition

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def task_row(flow_run_id: str, run_id: str, name: str, state: str, state_type: str,
             seconds: float, run_count: int = 1, **extra: Any) -> dict[str, Any]:
    extra.setdefault("error_type", None)
    return make_transition(
        id=str(uuid.uuid4()), run_kind="task", flow_run_id=flow_run_id, run_id=run_id,
        task_run_id=run_id, name=name, to_state=state, to_state_type=state_type,
        occurred_at=at(seconds), run_count=run_count, metadata=extra.pop("metadata", {}),
        fingerprint=None, **extra,
    )


def flow_row(flow_run_id: str, state: str, state_type: str, seconds: float,
             **extra: Any) -> dict[str, Any]:
    extra.setdefault("error_type", None)
    return make_transition(
        id=str(uuid.uuid4()), run_kind="flow", flow_run_id=flow_run_id, run_id=flow_run_id,
        task_run_id=None, name="nightly", flow_name="nightly", to_state=state,
        to_state_type=state_type, occurred_at=at(seconds), run_count=1,
        metadata=extra.pop("metadata", {}), fingerprint=None, **extra,
    )


def a_flow_run() -> tuple[str, list[dict[str, Any]]]:
    """A flow run: one task completes, one fails TRANSIENT after a retry, one never runs."""
    f = str(uuid.uuid4())
    ok, flaky, never = (str(uuid.uuid4()) for _ in range(3))
    rows = [
        flow_row(f, "Running", "RUNNING", 0),
        task_row(f, ok, "extract", "Running", "RUNNING", 1),
        task_row(f, ok, "extract", "Completed", "COMPLETED", 2,
                 metadata={"metrics": {"rows_read": 10}}),
        task_row(f, flaky, "load", "Running", "RUNNING", 1),
        task_row(f, flaky, "load", "AwaitingRetry", "SCHEDULED", 2, error_type="TRANSIENT",
                 metadata={"metrics": {"rows_written": 5}}),
        task_row(f, flaky, "load", "Retrying", "RUNNING", 3, run_count=2),
        task_row(f, flaky, "load", "Failed", "FAILED", 4, run_count=2, error_type="TRANSIENT",
                 metadata={"metrics": {"rows_written": 7}, "retries_exhausted": True}),
        task_row(f, never, "publish", "NotReady", "PENDING", 4, run_count=0,
                 error_type="DEPENDENCY"),
    ]
    return f, rows


def test_a_summary_counts_what_the_rows_say() -> None:
    f, rows = a_flow_run()
    rows.append(flow_row(f, "Failed", "FAILED", 5))

    summary = fold(f, rows).summary_row()

    assert (summary["tasks_total"], summary["tasks_completed"], summary["tasks_failed"]) == (3, 1, 1)
    assert summary["tasks_not_ready"] == 1
    assert summary["failures_by_class"] == {"DEPENDENCY": 1, "TRANSIENT": 1}
    assert summary["retries_spent"] == 1
    assert summary["metrics"] == {"rows_read": 10, "rows_written": 7}  # the latest attempt's
    assert summary["partial_success"] is True
    assert (summary["final_state"], summary["started_at"], summary["ended_at"]) == (
        "Failed", at(0), at(5)
    )


def test_the_worst_failure_speaks_for_a_flow_that_failed_without_an_exception() -> None:
    f, rows = a_flow_run()
    child = str(uuid.uuid4())
    rows += [
        flow_row(child, "Running", "RUNNING", 1, parent_flow_run_id=f),
        flow_row(child, "Failed", "FAILED", 3, parent_flow_run_id=f, error_type="PERMANENT",
                 reason="http 403"),
    ]

    view = fold(f, rows)
    kind, worst = view.worst()

    assert (kind, worst.run_id, worst.error_type) == ("subflow", child, "PERMANENT")
    assert (len(view.subflows), len(view.failed_subflows)) == (1, 1)


def test_the_final_row_stored_makes_the_summary_and_a_late_row_refreshes_it(
    database_url, make_recorder
) -> None:
    f, rows = a_flow_run()
    late = rows.pop(2)  # the Completed row of `extract` arrives after the flow's end
    recorder = make_recorder(database_url)
    for row in rows:
        recorder.record_transition(row)
    assert recorder.flush()
    assert summaries(database_url) == {}  # no final flow row yet: no summary

    recorder.record_transition(flow_row(f, "Failed", "FAILED", 5))
    assert recorder.flush()
    assert summaries(database_url)[f]["tasks_completed"] == 0

    recorder.record_transition(late)
    assert recorder.flush()
    assert summaries(database_url)[f]["tasks_completed"] == 1
    assert summaries(database_url)[f]["metrics"] == {"rows_read": 10, "rows_written": 7}


def summaries(url: str) -> dict[str, dict[str, Any]]:
    with get_engine(url).connect() as connection:
        return {
            row.flow_run_id: dict(row._mapping) for row in connection.execute(select(flow_runs))
        }
