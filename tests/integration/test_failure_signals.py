"""What a failed tracked flow run tells Prefect: a failure-summary artifact on the run, and
events an Automation can match on; read back from the test server's API."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from prefect.futures import wait

from prefect_failtrack import ErrorType, PermanentError, RetryPolicy, tracked_flow, tracked_task
from prefect_failtrack.capture import summary as failure_summary
from prefect_failtrack.capture.events import CLASSIFIED, EXHAUSTED
from tests.integration.prefect_reads import failtrack_events, read_artifacts

POLICY = RetryPolicy.default().override(
    ErrorType.TRANSIENT, max_retries=1, initial_delay=0, jitter=0
)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@tracked_task(policy=POLICY)
def fine() -> int:
    return 1


@tracked_task(policy=POLICY)
def flaky() -> None:
    raise ConnectionResetError(104, "Connection reset by peer")


@tracked_task(policy=POLICY)
def forbidden() -> None:
    raise PermanentError("permission denied for schema analytics; password=hunter2")


@tracked_flow(policy=POLICY, name="Signals: partial success")
def partial() -> list[Any]:
    futures = [fine.submit(), flaky.submit(), forbidden.submit()]
    wait(futures)
    return [future.state for future in futures]


@tracked_flow(policy=POLICY, name="signals-flow-itself")
def bad_parameters(rows: int) -> None:
    if rows < 0:
        raise ValueError(f"rows must be positive, got {rows}")


@tracked_flow(policy=POLICY, name="signals-async")
async def async_flow() -> None:
    raise TimeoutError("the warehouse did not answer")


@tracked_flow(policy=POLICY, name="signals-fine")
def all_fine() -> int:
    return fine()


def task_run_ids(flow_state: Any) -> dict[str, str]:
    """Task name -> task run id, from the task states the flow returned."""
    states = flow_state.result(raise_on_failure=False)
    names = ("fine", "flaky", "forbidden")
    return {name: str(s.state_details.task_run_id) for name, s in zip(names, states)}


@sqlite_only
def test_a_partial_failure_gets_a_summary_artifact_and_events(audit_db: str) -> None:
    state = partial(return_state=True)
    assert state.is_failed()
    flow_run_id = state.state_details.flow_run_id
    tasks = task_run_ids(state)

    (artifact,) = read_artifacts(flow_run_id)
    assert artifact.key == "failtrack-failure-summary-signals-partial-success"
    assert artifact.type == "markdown"
    text = artifact.data
    assert "**2 of 3 task runs failed**; partial success: 1 completed." in text
    what_went_wrong = text.split("## What went wrong", 1)[1].split("##", 1)[0].strip()
    assert re.fullmatch(
        r"- \*\*(forbidden|flaky)-\w+\*\*: .*\n- \*\*(forbidden|flaky)-\w+\*\*: .*", what_went_wrong
    ), what_went_wrong
    lines = sorted(
        re.sub(r"\*\*(\w+)-\w+\*\*", r"\1", line) for line in what_went_wrong.splitlines()
    )
    assert lines == [
        (
            "- flaky: TRANSIENT, a temporary problem (network, throttling, a service briefly "
            "unavailable); it may pass on its own, check the service if it keeps happening "
            "(2 attempts, retries exhausted)."
        ),
        (
            "- forbidden: PERMANENT, a problem no retry can fix (permissions, a missing object, "
            "credentials or configuration); fix the cause before running again "
            "(1 attempt, not retried)."
        ),
    ]
    details = text.split("## Details for debugging", 1)[1]
    assert re.search(
        r"\| forbidden-\w+ \| PERMANENT \| carried by the exception \| "
        r"prefect_failtrack\.classification\.types\.PermanentError \| permission denied for "
        r"schema analytics; password=\[REDACTED\] \| 1 \| `[0-9a-f:v]+` \|",
        details,
    ), details
    assert re.search(
        r"\| flaky-\w+ \| TRANSIENT \| type ConnectionResetError \| ConnectionResetError \| "
        r"\[Errno 104\] Connection reset by peer \| 2 \|",
        details,
    ), details
    assert "| flow run | PERMANENT | task forbidden-" in details
    assert "hunter2" not in text

    events = failtrack_events(flow_run_id, expected=4)
    seen = sorted((e.event, e.resource.id) for e in events)
    assert seen == sorted([
        (CLASSIFIED, f"prefect.flow-run.{flow_run_id}"),
        (CLASSIFIED, f"prefect.task-run.{tasks['flaky']}"),
        (CLASSIFIED, f"prefect.task-run.{tasks['forbidden']}"),
        (EXHAUSTED, f"prefect.task-run.{tasks['flaky']}"),
    ])
    by_key = {(e.event, e.resource.id): e for e in events}
    exhausted = by_key[(EXHAUSTED, f"prefect.task-run.{tasks['flaky']}")]
    assert exhausted.resource["failtrack.error-type"] == "TRANSIENT"
    assert exhausted.payload["budget"] == 1 and exhausted.payload["retries_spent"] == 1
    assert exhausted.payload["attempts"] == 2
    permanent = by_key[(CLASSIFIED, f"prefect.task-run.{tasks['forbidden']}")]
    assert permanent.resource["failtrack.error-type"] == "PERMANENT"
    assert permanent.resource["failtrack.retryable"] == "false"
    assert permanent.payload["reason"] == "carried by the exception"
    assert permanent.payload["retries_exhausted"] is False
    assert "hunter2" not in str(permanent.payload)
    assert permanent.payload["fingerprint"]
    assert f"prefect.flow-run.{flow_run_id}" in {r.id for r in permanent.related}
    flow_event = by_key[(CLASSIFIED, f"prefect.flow-run.{flow_run_id}")]
    assert flow_event.payload["partial_success"] is True
    assert flow_event.payload["failed_tasks_by_class"] == {"TRANSIENT": 1, "PERMANENT": 1}
    assert flow_event.payload["run_kind"] == "flow"


@sqlite_only
def test_a_flow_that_fails_by_itself_says_so(audit_db: str) -> None:
    state = bad_parameters(-3, return_state=True)
    assert state.is_failed()
    flow_run_id = state.state_details.flow_run_id

    (artifact,) = read_artifacts(flow_run_id)
    assert artifact.key == "failtrack-failure-summary-signals-flow-itself"
    assert (
        "The flow itself failed: VALIDATION, the data or parameters are not valid; running "
        "again with the same input will fail again." in artifact.data
    )
    row = "| flow run | VALIDATION | type ValueError | ValueError | rows must be positive, got -3 |"
    assert row in artifact.data
    events = failtrack_events(flow_run_id, expected=1)
    assert [(e.event, e.resource["failtrack.error-type"]) for e in events] == [
        (CLASSIFIED, "VALIDATION")
    ]


@sqlite_only
def test_an_async_flow_gets_them_too(audit_db: str) -> None:
    # Its hooks run inside the async engine's event loop (prefect/flow_engine.py,
    # AsyncFlowRunEngine.call_hooks), where async_dispatch would choose coroutines.
    state = asyncio.run(async_flow(return_state=True))
    assert state.is_failed()
    flow_run_id = state.state_details.flow_run_id
    (artifact,) = read_artifacts(flow_run_id, key="failtrack-failure-summary-signals-async")
    assert "The flow itself failed: TIMEOUT, it took longer than allowed" in artifact.data
    events = failtrack_events(flow_run_id, expected=1)
    assert [(e.event, e.resource["failtrack.error-type"]) for e in events] == [
        (CLASSIFIED, "TIMEOUT")
    ]


@sqlite_only
def test_a_completed_flow_gets_neither(audit_db: str) -> None:
    state = all_fine(return_state=True)
    assert state.is_completed()
    flow_run_id = state.state_details.flow_run_id
    assert read_artifacts(flow_run_id) == []
    assert failtrack_events(flow_run_id, expected=1, timeout=2) == []


@sqlite_only
def test_failing_to_tell_prefect_changes_nothing_in_the_run(
    audit_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the API is gone")

    monkeypatch.setattr(failure_summary, "publish", broken)
    state = partial(return_state=True)
    assert state.is_failed()
    assert state.message == "2/3 states failed."
    flow_run_id = state.state_details.flow_run_id
    assert read_artifacts(flow_run_id) == []
    # The events do not depend on the artifact.
    assert len(failtrack_events(flow_run_id, expected=4)) == 4
