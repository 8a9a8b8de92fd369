"""The flow a real worker runs in `test_worker_and_collector.py`: 18 rows a run, known in
advance (flow 2; ok x5: 10; flaky: Running, AwaitingRetry, Retrying, Completed; permanent: 2)."""

from __future__ import annotations

import time

from prefect.context import TaskRunContext
from prefect.futures import wait

from prefect_failtrack import ErrorType, PermanentError, RetryPolicy, tracked_flow, tracked_task

POLICY = RetryPolicy.default().override(
    ErrorType.TRANSIENT, max_retries=2, initial_delay=0, jitter=0
)
ROWS_PER_RUN = 18


@tracked_task(policy=POLICY)
def ok(i: int) -> int:
    return i


@tracked_task(policy=POLICY)
def flaky() -> int:
    if TaskRunContext.get().task_run.run_count <= 1:
        raise ConnectionResetError(104, "Connection reset by peer")
    return 1


@tracked_task(policy=POLICY)
def permanent() -> None:
    raise PermanentError("the bucket does not exist")


@tracked_flow(policy=POLICY, name="worker-events")
def worker_events() -> list:
    time.sleep(3)  # Running long enough for the test to see it, and kill the collector then
    futures = [*ok.map(range(5)), flaky.submit(), permanent.submit()]
    wait(futures)
    return [f.state for f in futures]
