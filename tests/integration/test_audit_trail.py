"""Every transition of every tracked run, in the table: real flows, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections import defaultdict

from prefect.context import TaskRunContext
from prefect.futures import wait
from sqlmodel import Session, select

from prefect_failtrack import (
    ErrorType,
    PermanentError,
    RetryPolicy,
    record_metrics,
    tracked_flow,
    tracked_task,
)
from prefect_failtrack.reconcile import reconcile
from prefect_failtrack.store import FlowRunSummary, Transition, get_engine, get_recorder

POLICY = (
    RetryPolicy.default()
    .override(ErrorType.TRANSIENT, max_retries=2, initial_delay=0, jitter=0)
    .override(ErrorType.TIMEOUT, max_retries=1, initial_delay=0, jitter=0)
)


def run_count() -> int:
    return TaskRunContext.get().task_run.run_count


class MysteryError(Exception):
    pass


@tracked_task(policy=POLICY, origin="source")
def recovers() -> int:
    record_metrics(rows_read=100)
    if run_count() <= 2:
        raise ConnectionResetError(104, "Connection reset by peer")
    record_metrics(rows_read=20)
    return 1


@tracked_task(policy=POLICY)
def exhausted() -> None:
    raise ConnectionRefusedError(111, "Connection refused")


@tracked_task(policy=POLICY, origin="destination")
def permanent() -> None:
    raise PermanentError("relation analytics.orders does not exist")


@tracked_task(policy=POLICY)
def validation() -> None:
    json.loads("{not json")


@tracked_task(policy=POLICY, timeout_seconds=0.3)
def timeout() -> None:
    time.sleep(3)


@tracked_task(policy=POLICY)
def unknown() -> None:
    raise MysteryError("the flux capacitor hiccupped")


@tracked_task(policy=POLICY)
def downstream() -> str:
    return "never runs"


@tracked_flow(policy=POLICY, name="audit-one-task-per-class")
def one_task_per_class() -> None:
    futures = {f.__name__: f.submit() for f in (recovers, exhausted, permanent, validation, timeout, unknown)}
    blocked = downstream.submit(wait_for=[futures["permanent"]])
    wait([*futures.values(), blocked])
    return [f.state for f in futures.values()]


EXPECTED = {
    "recovers": [
        ("Pending", "Running", 1, None),
        ("Running", "AwaitingRetry", 1, "TRANSIENT"),
        ("AwaitingRetry", "Retrying", 2, None),
        ("Retrying", "AwaitingRetry", 2, "TRANSIENT"),
        ("AwaitingRetry", "Retrying", 3, None),
        ("Retrying", "Completed", 3, None),
    ],
    "exhausted": [
        ("Pending", "Running", 1, None),
        ("Running", "AwaitingRetry", 1, "TRANSIENT"),
        ("AwaitingRetry", "Retrying", 2, None),
        ("Retrying", "AwaitingRetry", 2, "TRANSIENT"),
        ("AwaitingRetry", "Retrying", 3, None),
        ("Retrying", "Failed", 3, "TRANSIENT"),
    ],
    "permanent": [("Pending", "Running", 1, None), ("Running", "Failed", 1, "PERMANENT")],
    "validation": [("Pending", "Running", 1, None), ("Running", "Failed", 1, "VALIDATION")],
    "timeout": [
        ("Pending", "Running", 1, None),
        ("Running", "AwaitingRetry", 1, "TIMEOUT"),
        ("AwaitingRetry", "Retrying", 2, None),
        ("Retrying", "TimedOut", 2, "TIMEOUT"),
    ],
    "unknown": [("Pending", "Running", 1, None), ("Running", "Failed", 1, "UNKNOWN")],
}


def rows_of(url: str, flow_run_id: str) -> list[Transition]:
    with Session(get_engine(url)) as session:
        query = select(Transition).where(Transition.flow_run_id == flow_run_id)
        return list(session.exec(query.order_by(Transition.occurred_at, Transition.run_count)))


def by_task(rows: list[Transition]) -> dict[str, list[Transition]]:
    grouped: dict[str, list[Transition]] = defaultdict(list)
    for row in rows:
        if row.run_kind == "task":
            grouped[row.name].append(row)
    return grouped


def test_one_task_per_class_writes_exactly_the_expected_sequences(audit_db: str) -> None:
    state = one_task_per_class(return_state=True)
    assert state.is_failed()
    flow_run_id = str(state.state_details.flow_run_id)
    assert get_recorder().flush(timeout=10)

    tasks = by_task(rows_of(audit_db, flow_run_id))
    for name, expected in EXPECTED.items():
        seen = [(r.from_state, r.to_state, r.run_count, r.error_type) for r in tasks[name]]
        assert seen == expected, name
    assert "downstream" not in tasks  # no hook fires for NotReady: reconcile's job (below)

    awaiting = tasks["recovers"][1]
    assert awaiting.reason == "type ConnectionResetError"
    assert awaiting.retry_delay_s == 0 and awaiting.retries_left == 1
    assert awaiting.meta["decision"] == "TRANSIENT (type ConnectionResetError) — retry in 0.0 s (TRANSIENT budget 1/2)"
    assert awaiting.meta["metrics"] == {"rows_read": 100}
    assert awaiting.origin == "source"
    assert awaiting.fingerprint and awaiting.fingerprint.startswith("v1:")
    assert "ConnectionResetError" in awaiting.stack_trace
    assert tasks["recovers"][-1].meta["metrics"] == {"rows_read": 120}
    assert tasks["permanent"][1].error_class == "prefect_failtrack.classification.types.PermanentError"
    assert tasks["permanent"][1].origin == "destination"
    assert tasks["validation"][1].error_class == "json.decoder.JSONDecodeError"
    for rows in tasks.values():
        assert all(r.duration_in_state_ms is not None for r in rows[1:])
        assert len({r.id for r in rows}) == len(rows)

    flow_rows = [r for r in rows_of(audit_db, flow_run_id) if r.run_kind == "flow"]
    assert [(r.to_state, r.run_count) for r in flow_rows] == [("Running", 1), ("Failed", 1)]

    with Session(get_engine(audit_db)) as session:
        summary = session.get(FlowRunSummary, flow_run_id)
    assert summary is not None
    assert summary.final_state == "Failed"
    assert summary.tasks_completed == 1 and summary.tasks_failed == 5
    assert summary.partial_success is True
    assert summary.failures_by_class == {
        "TRANSIENT": 1, "PERMANENT": 1, "VALIDATION": 1, "TIMEOUT": 1, "UNKNOWN": 1,
    }
    assert summary.retries_spent == 5  # 2 recovers + 2 exhausted + 1 timeout
    assert summary.metrics == {"rows_read": 120}

    # Reconcile fills in what no hook sees and duplicates nothing the hooks wrote.
    hook_rows = {r.id for r in rows_of(audit_db, flow_run_id)}
    added = reconcile_until(audit_db, flow_run_id, lambda t: "downstream" in t)
    tasks = by_task(rows_of(audit_db, flow_run_id))
    assert [(r.to_state, r.error_type) for r in tasks["downstream"]][-1] == ("NotReady", "DEPENDENCY")
    assert tasks["downstream"][-1].reason == "type prefect.exceptions.UpstreamTaskError"
    for name, expected in EXPECTED.items():
        after = [(r.to_state, r.run_count) for r in tasks[name] if r.id in hook_rows or r.to_state != "Pending"]
        assert after == [(e[1], e[2]) for e in expected], name
        assert {r.to_state for r in tasks[name] if r.id not in hook_rows} <= {"Pending"}
    assert added.inserted == len(rows_of(audit_db, flow_run_id)) - len(hook_rows)
    again = reconcile(flow_run_ids=[flow_run_id], url=audit_db)
    assert again.inserted == 0


def reconcile_until(url: str, flow_run_id: str, done, timeout: float = 20):
    """Task states reach Prefect's API through events: reconcile until the API has them."""
    deadline = time.monotonic() + timeout
    total = None
    while True:
        result = reconcile(flow_run_ids=[flow_run_id], url=url)
        total = result if total is None else total.model_copy(
            update={"inserted": total.inserted + result.inserted}
        )
        if done(by_task(rows_of(url, flow_run_id))) or time.monotonic() > deadline:
            return total
        time.sleep(0.5)


def test_a_failing_tracked_task_leaves_the_outcome_unchanged(audit_db: str) -> None:
    @tracked_task(policy=POLICY)
    def raises() -> None:
        raise PermanentError("nope")

    @tracked_flow
    def flow_that_catches() -> str:
        try:
            raises()
        except PermanentError:
            return "handled"
        return "not reached"

    assert flow_that_catches() == "handled"
