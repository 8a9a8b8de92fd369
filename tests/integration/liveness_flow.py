"""A tracked flow whose one task works for a long time, saying how far it got.

Run as a script: ``python liveness_flow.py MARKER_FILE SECONDS``. Once its task runs, it
writes ``<flow run id> <task run id>`` to the marker file, then records its progress every
0.2 s for SECONDS seconds (the liveness tests stop, resume or kill it meanwhile).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from prefect.context import TaskRunContext

from prefect_failtrack import record_progress, tracked_flow, tracked_task


@tracked_task
def load(marker: str, seconds: float) -> int:
    task_run = TaskRunContext.get().task_run
    Path(marker).write_text(f"{task_run.flow_run_id} {task_run.id}")
    rows, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows += 1000
        record_progress(rows=rows, message=f"batch {rows // 1000}")
        time.sleep(0.2)
    return rows


@tracked_flow(name="long-load")
def long_load(marker: str, seconds: float) -> int:
    return load(marker, seconds)


if __name__ == "__main__":
    long_load(sys.argv[1], float(sys.argv[2]))
