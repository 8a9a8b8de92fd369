"""A tracked flow for the multi-process breaker tests: ``python circuit_flow.py URL I [GIVE_UP]``.

It fetches ``URL/rows/I`` in a tracked task that names ``URL`` as its dependency, and prints
one JSON line: the flow run id, its final state type, and the result or the error. Settings
(database, circuit) come from the environment the test gives it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import httpx
from prefect.context import FlowRunContext

from prefect_failtrack import ErrorType, RetryPolicy, tracked_flow, tracked_task

# Side by side, processes start seconds apart: class retries span that (1, 2, 4 s).
SPREAD = RetryPolicy.default().override(ErrorType.TRANSIENT, initial_delay=1, factor=2, jitter=0,
                                        max_retries=3)


def wait_for_the_start(i: int) -> None:
    """With ``FAILTRACK_TEST_START`` (a folder): say ready, then wait for ``go`` there, so
    that flows in processes started together also run together on a loaded machine."""
    folder = os.environ.get("FAILTRACK_TEST_START")
    if not folder:
        return
    (Path(folder) / f"ready-{i}").touch()
    deadline = time.monotonic() + 300
    while not (Path(folder) / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def main(url: str, i: int) -> None:
    @tracked_task(policy=SPREAD, dependency=url)
    def fetch(i: int) -> int:
        httpx.get(f"{url}/rows/{i}", timeout=5).raise_for_status()
        return i

    @tracked_flow(name="circuit-process")
    def pull(i: int) -> dict[str, str]:
        return {"flow_run_id": str(FlowRunContext.get().flow_run.id), "value": str(fetch(i))}

    wait_for_the_start(i)
    state = pull(i, return_state=True)
    result = state.result(raise_on_failure=False)
    print(json.dumps({
        "flow_run_id": str(state.state_details.flow_run_id),
        "state": state.type.value,
        "result": result if isinstance(result, dict) else f"{type(result).__name__}: {result}",
    }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
