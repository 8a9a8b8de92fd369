"""User code that is slow or odd costs no more with failtrack than with plain Prefect
(issue 18): async retry conditions run side by side, ``str()`` of an exception runs once
per failure and is bounded in time."""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from typing import Any

import pytest

from prefect_failtrack import ErrorType, RetryPolicy, tracked_flow, tracked_task
from prefect_failtrack.capture import rows
from prefect_failtrack.store.database import get_engine

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POLICY = RetryPolicy.default().override(ErrorType.TRANSIENT, max_retries=1, initial_delay=0)

windows: list[tuple[float, float]] = []
windows_lock = threading.Lock()


async def slow_condition(task: Any, task_run: Any, state: Any) -> bool:
    started = time.monotonic()
    await asyncio.sleep(1.0)
    with windows_lock:
        windows.append((started, time.monotonic()))
    return False


@tracked_task(policy=POLICY, retry_condition_fn=slow_condition)
async def flaky_async(i: int) -> None:
    raise ConnectionResetError(f"reset {i}")


@tracked_flow(policy=POLICY, name="misbehaving-async-conditions")
async def many_async() -> None:
    await asyncio.gather(*(flaky_async(i) for i in range(5)), return_exceptions=True)


@sqlite_only
def test_async_retry_conditions_are_awaited_side_by_side_in_the_engines_loop(
    audit_db: str,
) -> None:
    """Prefect awaits a coroutine retry condition in the engine's loop
    (AsyncTaskRunEngine.can_retry); failtrack's own condition is then a coroutine
    function too, and awaits the task's there, so five 1 s conditions overlap."""
    windows.clear()
    asyncio.run(many_async(return_state=True))
    assert len(windows) == 5
    latest_start = max(start for start, _ in windows)
    earliest_end = min(end for _, end in windows)
    assert latest_start < earliest_end, windows  # all five were waiting at the same time


str_calls: list[str] = []


class SlowToPrint(Exception):
    """Its message takes a while, and says who asked for it."""

    def __str__(self) -> str:
        caller = traceback.extract_stack()[-2].filename  # who called str() (not who is below)
        str_calls.append("failtrack" if "prefect_failtrack" in caller else "other")
        time.sleep(self.args[1])
        return f"slow: {self.args[0]}"


@tracked_task(policy=POLICY)
def slow_failure(seconds: float) -> None:
    raise SlowToPrint("the ledger", seconds)


@tracked_flow(policy=POLICY, name="misbehaving-str")
def slow_flow(seconds: float) -> None:
    slow_failure(seconds)  # the task's exception fails the flow run too


@sqlite_only
def test_str_of_an_exception_runs_once_by_failtrack(audit_db: str) -> None:
    """Classification, the message column, the traceback in the row and in the logs, the
    task run's failure and the flow run's (the same exception): one call."""
    str_calls.clear()
    state = slow_flow(0.05, return_state=True)
    assert state.is_failed()
    assert str_calls.count("failtrack") == 1, str_calls


@sqlite_only
def test_a_str_slower_than_the_limit_is_not_waited_for(
    audit_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_MESSAGE_TIMEOUT", "0.2")
    rows.settings.cache_clear()
    try:
        state = slow_flow(1.5, return_state=True)
    finally:
        rows.settings.cache_clear()
    assert state.is_failed()
    flow_run_id = str(state.state_details.flow_run_id)
    with get_engine(audit_db).connect() as connection:
        (message,) = connection.exec_driver_sql(
            "SELECT error_message FROM failtrack_transitions WHERE run_kind = 'task' "
            f"AND to_state = 'Failed' AND flow_run_id = '{flow_run_id}'"
        ).one()
    assert message.startswith("<message not available: str() of ")
    assert "took over 0.2 s" in message


class Interrupted(BaseException):
    """Not an Exception: the task run crashes (prefect/task_engine.py, handle_crash)."""


@tracked_task(policy=POLICY)
def crashes() -> None:
    raise Interrupted("the worker was told to stop")


@tracked_flow(policy=POLICY, name="misbehaving-base-exception")
def with_a_crash() -> list:
    future = crashes.submit()
    future.wait()
    return [future.state]


@sqlite_only
def test_a_task_that_crashes_with_a_base_exception_is_counted_as_a_failure(audit_db: str) -> None:
    with pytest.raises(Interrupted):  # Prefect lets a BaseException through, as it should
        with_a_crash(return_state=True)
    with get_engine(audit_db).connect() as connection:
        (flow_run_id,) = connection.exec_driver_sql(
            "SELECT flow_run_id FROM failtrack_flow_runs "
            "WHERE flow_name = 'misbehaving-base-exception'"
        ).one()
        crashed = connection.exec_driver_sql(
            "SELECT to_state_type, error_type, error_class FROM failtrack_transitions "
            f"WHERE run_kind = 'task' AND flow_run_id = '{flow_run_id}' "
            "AND to_state_type = 'CRASHED'"
        ).one()
        tasks_failed, by_class = connection.exec_driver_sql(
            "SELECT tasks_failed, failures_by_class FROM failtrack_flow_runs "
            f"WHERE flow_run_id = '{flow_run_id}'"
        ).one()
    assert crashed.error_class is not None and crashed.error_type is not None
    assert tasks_failed == 1 and crashed.error_type in str(by_class)
