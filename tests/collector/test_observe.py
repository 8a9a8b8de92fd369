"""Rows of Prefect's own state events, as Prefect shapes them (prefect/utilities/engine,
``emit_task_run_state_change_event``; prefect/server/models/events.py,
``flow_run_state_change_event``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from prefect.events.schemas.events import Event

from prefect_failtrack.collector.observe import Durations, observed_rows
from prefect_failtrack.collector.store import link_subflows


def task_event(
    state: str,
    state_type: str,
    run_count: int,
    *,
    initial: str = "Running",
    message: str = "",
    flow_run_id: str = "f1",
) -> Event:
    run_id = "7c1e0b3a-0000-4000-8000-000000000001"
    return Event(
        id=uuid.uuid4(),
        event=f"prefect.task-run.{state}",
        occurred=datetime.now(UTC),
        resource={
            "prefect.resource.id": f"prefect.task-run.{run_id}",
            "prefect.resource.name": "load-a1b",
            "prefect.run-count": str(run_count),
            "prefect.state-message": message,
            "prefect.state-name": state,
            "prefect.state-timestamp": datetime.now(UTC).isoformat(),
            "prefect.state-type": state_type,
        },
        related=[
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
                "prefect.resource.role": "flow-run",
            },
            {
                "prefect.resource.id": "prefect.flow.x",
                "prefect.resource.role": "flow",
                "prefect.resource.name": "nightly",
            },
            {"prefect.resource.id": "prefect.tag.etl", "prefect.resource.role": "tag"},
        ],
        payload={
            "initial_state": {"name": initial},
            "validated_state": {"name": state},
            "task_run": {"name": "load-a1b", "dynamic_key": "a1b2c3", "run_count": run_count},
        },
    )


def test_a_failed_task_run_is_classified_from_its_state_message() -> None:
    [row] = observed_rows(
        task_event(
            "Failed",
            "FAILED",
            1,
            message="Task run encountered an exception ValueError: invalid literal for int()",
        )
    )
    assert (row["name"], row["flow_name"], row["flow_run_id"]) == ("load", "nightly", "f1")
    assert (row["error_type"], row["error_class"], row["capture"]) == (
        "VALIDATION",
        "ValueError",
        "observed",
    )
    assert row["tags"] == ["etl"] and row["metadata"]["source"] == "observed"


def test_a_retry_without_delay_gets_the_awaiting_retry_row_prefect_skipped() -> None:
    skipped, retrying = observed_rows(task_event("Retrying", "RUNNING", 2, initial="Running"))
    assert (skipped["to_state"], skipped["run_count"], skipped.get("error_type")) == (
        "AwaitingRetry",
        1,
        None,
    )
    assert (retrying["from_state"], retrying["to_state"], retrying["run_count"]) == (
        "AwaitingRetry",
        "Retrying",
        2,
    )
    delayed = observed_rows(task_event("Retrying", "RUNNING", 2, initial="AwaitingRetry"))
    assert [r["to_state"] for r in delayed] == ["Retrying"]


def test_durations_come_from_the_previous_state_seen() -> None:
    durations = Durations()
    first = observed_rows(task_event("Running", "RUNNING", 1), durations)[0]
    second = observed_rows(task_event("Completed", "COMPLETED", 1), durations)[0]
    assert first["duration_in_state_ms"] is None and second["duration_in_state_ms"] >= 0


def test_an_observed_subflow_finds_its_parent_flow_run_through_its_parent_task_run() -> None:
    task = {"run_kind": "task", "run_id": "t1", "flow_run_id": "parent"}
    subflow = {"run_kind": "flow", "run_id": "child", "parent_task_run_id": "t1"}
    entries = [("transition", task), ("transition", subflow)]
    link_subflows(None, entries)
    assert subflow["parent_flow_run_id"] == "parent"
