"""A tracked flow that the SIGKILL test kills in the middle of its second task.

Run as a script: ``python killed_flow.py MARKER_FILE``. It writes the flow run id
to the marker file once the second task is running, then sleeps until killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from prefect.context import FlowRunContext

from prefect_failtrack import tracked_flow, tracked_task


@tracked_task
def extract() -> int:
    return 3


@tracked_task
def load(rows: int, marker: str) -> int:
    flow_run_id = FlowRunContext.get().flow_run.id
    Path(marker).write_text(str(flow_run_id))
    time.sleep(600)  # killed long before this ends
    return rows


@tracked_flow(name="killed-mid-task")
def killed_mid_task(marker: str) -> int:
    return load(extract(), marker)


if __name__ == "__main__":
    killed_mid_task(sys.argv[1])
