"""One mixed workload, run under every task runner (issue 15): its rows, its summary, its
class and its failure-summary artifact must not depend on where its tasks ran.

Imported by worker processes (process pools, Dask, Ray) by name: nothing here may
depend on the test process's state.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from prefect.context import TaskRunContext
from prefect.futures import wait

from prefect_failtrack import ErrorType, PermanentError, RetryPolicy, tracked_flow, tracked_task

POLICY = (
    RetryPolicy.default()
    .override(ErrorType.TRANSIENT, max_retries=2, initial_delay=0, jitter=0)
    .override(ErrorType.TIMEOUT, max_retries=1, initial_delay=0, jitter=0)
)
MAPPED = 3


def _attempt() -> int:
    context = TaskRunContext.get()
    return int(context.task_run.run_count) if context is not None else 1


@tracked_task(policy=POLICY, origin="source")
def flaky(i: int) -> int:
    """TRANSIENT once, then fine (mapped)."""
    if _attempt() <= 1:
        raise ConnectionResetError(104, "Connection reset by peer")
    return i


@tracked_task(policy=POLICY)
def always_transient() -> None:
    raise ConnectionRefusedError(111, "Connection refused")


@tracked_task(policy=POLICY, origin="destination")
def permanent() -> None:
    raise PermanentError("relation analytics.orders does not exist")


@tracked_task(policy=POLICY)
def validation() -> None:
    json.loads("{not json")


@tracked_task(policy=POLICY, timeout_seconds=0.5)
def too_slow() -> None:
    time.sleep(3)


@tracked_task(policy=POLICY)
def ok(i: int) -> int:
    """Succeeds (mapped)."""
    return i * 2


@tracked_flow(policy=POLICY, name="runners-mixed-workload")
def mixed() -> list[Any]:
    futures = [
        *flaky.map(range(MAPPED)),
        always_transient.submit(),
        permanent.submit(),
        validation.submit(),
        too_slow.submit(),
        *ok.map(range(MAPPED)),
    ]
    wait(futures)
    return [future.state for future in futures]


@tracked_task(policy=POLICY)
def last() -> int:
    """The process it ran in (the test kills it as soon as the flow has ended)."""
    return os.getpid()


@tracked_flow(policy=POLICY, name="runners-last-task")
def ends_right_after() -> int:
    """The shutdown race: the flow ends right after its last task does."""
    return last.submit().result()


TASKS = {
    "flaky": MAPPED,
    "always_transient": 1,
    "permanent": 1,
    "validation": 1,
    "too_slow": 1,
    "ok": MAPPED,
}
