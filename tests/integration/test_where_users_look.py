"""Where people look first: the run's logs (never less than plain Prefect), the runs list
(class tags), the event feed, the failure-summary artifact; read back from the test
server's API (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.futures import wait

from prefect_failtrack import (
    ErrorType,
    PermanentError,
    RetryPolicy,
    TransientError,
    tracked_flow,
    tracked_task,
)
from prefect_failtrack.capture.events import CLASSIFIED
from prefect_failtrack.store.database import get_engine
from prefect_failtrack.store.driver import Driver
from prefect_failtrack.store.summaries import views
from tests.integration.prefect_reads import failtrack_events, read_artifacts, run_logs

ONE_RETRY = RetryPolicy.default().override(ErrorType.TRANSIENT, max_retries=1, initial_delay=0)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class LedgerClosed(Exception):
    """A message only this test raises, to find its traceback in the logs."""


@tracked_task(policy=ONE_RETRY)
def forbidden() -> None:
    raise PermanentError("no grant on schema analytics")


@tracked_task(policy=ONE_RETRY, retries=5)  # Prefect would retry 5 times; the class says 1
def flaky_beyond_its_budget() -> None:
    raise TransientError("the ledger went away")


@tracked_task(policy=ONE_RETRY, retry_condition_fn=lambda task, run, state: False)
def vetoed() -> None:
    raise TransientError("the ledger went away, vetoed")


@tracked_flow(policy=ONE_RETRY, name="where-users-look-logs")
def declined() -> list[Any]:
    futures = [forbidden.submit(), flaky_beyond_its_budget.submit(), vetoed.submit()]
    wait(futures)
    return [f.state for f in futures]


@sqlite_only
def test_the_traceback_is_in_the_logs_wherever_failtrack_declines_a_retry(audit_db: str) -> None:
    """Prefect's handle_retry logs the traceback only when its own retries are used up
    (prefect/task_engine.py): where failtrack declines earlier, failtrack logs it, once."""
    state = declined(return_state=True)
    flow_run_id = state.state_details.flow_run_id

    def complete(logs: list[Any]) -> bool:
        return sum("Traceback (most recent call last)" in log.message for log in logs) >= 3

    logs = run_logs(flow_run_id, until=complete)
    ours = [log for log in logs if log.message.startswith("failtrack:") and log.level >= 40]
    by_task = {
        name: [log for log in ours if f"failtrack: {name}-" in log.message]
        for name in ("forbidden", "flaky_beyond_its_budget", "vetoed")
    }
    (permanent,) = by_task["forbidden"]
    assert "PERMANENT (carried by the exception) — not retried" in permanent.message
    assert "Traceback (most recent call last)" in permanent.message
    assert "PermanentError: no grant on schema analytics" in permanent.message
    (spent,) = by_task["flaky_beyond_its_budget"]
    assert "not retried: TRANSIENT budget spent (1/1)" in spent.message
    assert "TransientError: the ledger went away" in spent.message
    (veto,) = by_task["vetoed"]
    assert "the task's own retry_condition_fn said no" in veto.message
    assert "Traceback (most recent call last)" in veto.message


@tracked_task(policy=ONE_RETRY)
def fine() -> int:
    return 1


@tracked_task(policy=ONE_RETRY)
def broken_upstream() -> int:
    raise PermanentError("the source table is gone")


@tracked_task(policy=ONE_RETRY)
def downstream(value: int) -> int:
    return value + 1


@tracked_flow(policy=ONE_RETRY, name="where-users-look-dependency")
def with_a_task_that_never_runs() -> list[Any]:
    up = broken_upstream.submit()
    down = downstream.submit(up)
    ok = fine.submit()
    wait([up, down, ok])
    return [up.state, down.state, ok.state]


@sqlite_only
def test_a_task_that_never_ran_is_a_dependency_failure_everywhere(audit_db: str) -> None:
    state = with_a_task_that_never_runs(return_state=True)
    assert state.message == "1/3 states failed."  # NotReady is Pending: Prefect counts it apart
    flow_run_id = state.state_details.flow_run_id

    (artifact,) = read_artifacts(flow_run_id)
    assert (
        "**1 of 3 task runs failed**; 1 never ran because an upstream run failed (DEPENDENCY); "
        "partial success: 1 completed." in artifact.data
    )
    assert "- **downstream-" in artifact.data and "(never ran: an upstream run" in artifact.data
    with get_engine(audit_db).connect() as connection:
        view = views(Driver.of_sqlalchemy(connection), [str(flow_run_id)])[str(flow_run_id)]
        stored = connection.exec_driver_sql(
            "SELECT tasks_failed, tasks_not_ready, failures_by_class FROM failtrack_flow_runs"
        ).one()
    assert [t.name for t in view.not_ready] == ["downstream"]
    assert stored[0] == 1 and stored[1] == 1
    assert "DEPENDENCY" in str(stored[2]) and "PERMANENT" in str(stored[2])

    with get_client(sync_client=True) as client:
        tags = set(client.read_flow_run(flow_run_id).tags)
    assert {"failtrack:PERMANENT", "failtrack:DEPENDENCY"} <= tags
    assert not any(tag.startswith("failtrack:") and tag.endswith("TRANSIENT") for tag in tags)

    events = failtrack_events(flow_run_id, expected=2)
    names = {e.resource.get("prefect.resource.name") for e in events if e.event == CLASSIFIED}
    assert any(name.startswith("broken_upstream-") and name.endswith("— PERMANENT") for name in names)
    assert any(name.endswith("— PERMANENT") and not name.startswith("broken") for name in names)

    last = run_logs(flow_run_id, until=lambda logs: any("ended Failed" in l.message for l in logs))
    (line,) = [log.message for log in last if log.message.startswith("failtrack: flow run")]
    assert "1 of 3 task runs failed" in line and "1 never ran" in line
    assert "failtrack-failure-summary-where-users-look-dependency" in line


@sqlite_only
def test_a_completed_flow_run_gets_no_class_tag(audit_db: str) -> None:
    @tracked_flow(policy=ONE_RETRY, name="where-users-look-fine")
    def all_fine() -> int:
        return fine()

    state = all_fine(return_state=True)
    with get_client(sync_client=True) as client:
        tags = client.read_flow_run(state.state_details.flow_run_id).tags
    assert not [tag for tag in tags if tag.startswith("failtrack:")]


# ------------------------------------------------------------------------ subflows


@tracked_flow(policy=ONE_RETRY, name="where-users-look-child")
def child() -> None:
    raise PermanentError("the child's credentials were revoked")


@flow(name="where-users-look-plain-parent")
def untracked_parent() -> None:
    tracked_parent_inner()


@tracked_flow(policy=ONE_RETRY, name="where-users-look-parent")
def tracked_parent_inner() -> None:
    child()


@sqlite_only
def test_a_parent_failing_because_its_subflow_failed_is_dependency(audit_db: str) -> None:
    state = untracked_parent(return_state=True)
    assert state.is_failed()
    with get_engine(audit_db).connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name, run_id, parent_flow_run_id, parent_task_run_id, error_type, reason "
            "FROM failtrack_transitions WHERE run_kind = 'flow' AND to_state = 'Failed'"
        ).all()
        by_name = {row.name: row for row in rows}
        parent, sub = by_name["where-users-look-parent"], by_name["where-users-look-child"]
        summary = connection.exec_driver_sql(
            "SELECT subflows_total, subflows_failed, parent_flow_run_id "
            f"FROM failtrack_flow_runs WHERE flow_run_id = '{parent.run_id}'"
        ).one()
    assert sub.error_type == "PERMANENT"
    assert sub.parent_flow_run_id == parent.run_id and sub.parent_task_run_id
    assert parent.error_type == "DEPENDENCY"
    assert parent.reason.startswith("subflow where-users-look-child: PERMANENT")
    # the tracked parent is itself the subflow of a plain flow: found through the API
    assert parent.parent_flow_run_id == str(state.state_details.flow_run_id)
    assert (summary.subflows_total, summary.subflows_failed) == (1, 1)


# --------------------------------------------------------------------- telemetry


@task
def plain_sum() -> int:
    return 2


def test_the_class_is_on_prefects_own_span_of_the_task_run(audit_db: str) -> None:
    """Prefect opens one span per task run (prefect/telemetry/run_telemetry.py); failtrack
    sets OpenTelemetry's error.type and its own attributes on it."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    @tracked_flow(policy=ONE_RETRY, name="where-users-look-spans")
    def spans() -> list[Any]:
        futures = [forbidden.submit(), flaky_beyond_its_budget.submit()]
        wait(futures)
        return [f.state for f in futures]

    spans(return_state=True)
    finished = exporter.get_finished_spans()
    exporter.shutdown()  # the provider stays for the session (OpenTelemetry's rule); this stops
    exported = {s.name.split("-")[0]: s for s in finished if s.attributes}
    permanent = exported["forbidden"].attributes
    assert permanent["error.type"] == "prefect_failtrack.classification.types.PermanentError"
    assert permanent["failtrack.error_type"] == "PERMANENT"
    assert permanent["failtrack.rule"] == "carried by the exception"
    assert permanent["failtrack.decision"] == "no retry"
    assert permanent["failtrack.fingerprint"].startswith("v1:")
    transient = exported["flaky_beyond_its_budget"].attributes
    assert transient["failtrack.error_type"] == "TRANSIENT"
    assert transient["failtrack.decision.message"].endswith("TRANSIENT budget spent (1/1)")
