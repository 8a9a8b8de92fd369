"""The last task ends just before the flow, and its worker is killed at once: nothing is
lost, in 20 runs under each multi-process runner (issue 15, "Done when" 2).

A task run away from its flow's process flushes its rows at its end (`capture/task_hooks.py`),
never at ``atexit`` (Ray workers never run it, and a killed worker runs nothing). So by
the time the flow run has ended, its last task's rows are stored: the flow run's summary,
derived when its final row is stored, counts that task. The worker is then killed with
SIGKILL (a process pool's is gone already: the pool shuts down with its flow run), and
the rows are read only afterwards. Dask's and Ray's workers are long-lived and not
killed (a new one takes seconds to start here, 20 times over): that their rows are stored
when the flow run ends is what makes any teardown safe, and Ray never runs ``atexit``
anyway, so a row that waited for one would be missing all the same.

Under the process pool, each flow run starts a pool of its own (a new Python process
that imports Prefect: seconds here), so its 20 runs go four at a time.
"""

from __future__ import annotations

import contextvars
import os
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from prefect_failtrack.store.database import get_engine
from prefect_failtrack.store.models import flow_runs, transitions
from prefect_failtrack.store.recorder import get_recorder
from tests.integration.runners import workload

RUNS = 20
EXPECTED = [("flow", "Completed"), ("flow", "Running"), ("task", "Completed"), ("task", "Running")]


def kill(pid: int) -> None:
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # a process pool's worker: gone with its pool already


def one_run(flow: Any, url: str, kill_worker: bool) -> str | None:
    """A problem with one run, or ``None`` when nothing was lost."""
    state = flow(return_state=True)
    if kill_worker:
        kill(state.result())
    flow_run_id = str(state.state_details.flow_run_id)
    with get_engine(url).connect() as connection:
        summary = connection.execute(
            select(flow_runs.c.tasks_total, flow_runs.c.tasks_completed).where(
                flow_runs.c.flow_run_id == flow_run_id
            )
        ).first()
        stored = sorted(
            map(
                tuple,
                connection.execute(
                    select(transitions.c.run_kind, transitions.c.to_state).where(
                        transitions.c.flow_run_id == flow_run_id
                    )
                ).all(),
            )
        )
    if tuple(summary or ()) != (1, 1) or stored != EXPECTED:
        return f"{flow_run_id}: summary {summary}, rows {stored}"
    return None


@pytest.mark.parametrize("name", ["processes", "dask", "ray"])
def test_nothing_is_lost_when_the_worker_dies_right_after_the_last_task(
    name: str, task_runner: Callable[[str], Any], runner_db: str
) -> None:
    runner = task_runner(name)
    if name == "processes":
        runner = type(runner)(max_workers=1)
    flow = workload.ends_right_after.with_options(task_runner=runner)
    at_once = 4 if name == "processes" else 1
    # Each run in a copy of this context: the test server's settings live there.
    contexts = [contextvars.copy_context() for _ in range(RUNS)]
    with ThreadPoolExecutor(at_once) as pool:
        problems = list(
            pool.map(
                lambda context: context.run(one_run, flow, runner_db, name == "processes"), contexts
            )
        )
    assert get_recorder().flush(timeout=10)
    assert [p for p in problems if p] == []
