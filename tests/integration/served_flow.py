"""A tracked flow served by Prefect's runner (``flow.serve``), for test_runner_hooks.py.

    python tests/integration/served_flow.py     # with PREFECT_API_URL set

Each run writes its process id to a file, then sleeps: the test cancels it, or kills
its process, and the runner calls the flow's cancellation or crash hooks, with
keywords (prefect/runner/_hook_runner.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from prefect_failtrack import tracked_flow


@tracked_flow(name="failtrack-served-sleeper")
def sleeper(pid_file: str, seconds: float = 120.0) -> None:
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sleeper.serve(name="served", limit=4)
