"""The same workload under every task runner leaves the same trail (issue 15, "Done when" 1).

Threads are the reference: under a process pool, Dask (worker processes) and Ray, the
rows of each task run, the flow run's summary (counts, failures by class, retries spent,
partial success), the flow's own class and the failure-summary artifact are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from prefect_failtrack.store.recorder import get_recorder
from tests.integration.runners import workload
from tests.integration.runners.outcome import Outcome, outcome


def run_mixed(runner: Any, url: str) -> Outcome:
    state = workload.mixed.with_options(task_runner=runner)(return_state=True)
    assert state.is_failed()
    assert get_recorder().flush(timeout=10)
    return outcome(url, str(state.state_details.flow_run_id))


@pytest.fixture(scope="module")
def reference(task_runner: Callable[[str], Any], runner_db: str) -> Outcome:
    return run_mixed(task_runner("threads"), runner_db)


def test_the_reference_is_what_the_workload_does(reference: Outcome) -> None:
    assert sum(reference.task_rows.values()) == sum(workload.TASKS.values())
    assert reference.summary == {
        "final_state": "Failed",
        "final_state_type": "FAILED",
        "tasks_total": 10,
        "tasks_completed": 6,
        "tasks_failed": 4,
        "tasks_not_ready": 0,
        "failures_by_class": {"PERMANENT": 1, "TIMEOUT": 1, "TRANSIENT": 1, "VALIDATION": 1},
        "retries_spent": 3 + 2 + 1,
        "partial_success": True,
    }
    (_, _, kind, error_class, _, flow_name) = reference.flow_rows[-1]
    # It failed because its tasks did: the class of the worst of them.
    assert (kind, error_class) == (
        "PERMANENT",
        "prefect_failtrack.classification.types.PermanentError",
    )
    assert flow_name == "runners-mixed-workload"
    assert all(row[-1] == "runners-mixed-workload" for row in reference.flow_rows)
    assert reference.artifact is not None
    assert "- **always_transient**: TRANSIENT, " in "\n".join(reference.artifact)


@pytest.mark.parametrize("name", ["processes", "dask", "ray"])
def test_every_runner_leaves_the_trail_threads_leave(
    name: str, task_runner: Callable[[str], Any], runner_db: str, reference: Outcome
) -> None:
    seen = run_mixed(task_runner(name), runner_db)
    assert seen.task_rows == reference.task_rows
    assert seen.flow_rows == reference.flow_rows
    assert seen.summary == reference.summary
    assert seen.artifact == reference.artifact
