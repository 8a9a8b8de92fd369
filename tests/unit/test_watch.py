"""`RunningTasks`: what it records from a watched task run, and when it waits.

The task runs are real ``TaskRun`` objects with real states, changed the way
``SyncTaskRunEngine.set_state`` (prefect/task_engine.py) changes them: ``state``
first, then ``state_id``. The tracker is a recorder of calls.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect.client.schemas.objects import TaskRun
from prefect.states import AwaitingRetry, Completed, Crashed, Failed, Running

from prefect_failtrack.capture.watch import RunningTasks, Watched


class CallsRecorded:
    def __init__(self) -> None:
        self.completed: list[tuple[str, Any]] = []

    def task_completed(self, run_id: str, watched: Watched, state: Any) -> None:
        self.completed.append((run_id, state))


def running_task_run() -> TaskRun:
    task_run = TaskRun(id=uuid.uuid4(), flow_run_id=uuid.uuid4(), task_key="k", dynamic_key="0",
                       name="load-0")
    enter(task_run, Running())
    return task_run


def enter(task_run: TaskRun, state: Any, *, finish: bool = True) -> None:
    """As ``set_state`` does: the state, then (``finish``) its id."""
    task_run.state = state
    if finish:
        task_run.state_id = state.id


def watching(tracker: CallsRecorded, *task_runs: TaskRun, limit: int = 100) -> RunningTasks:
    watch = RunningTasks(limit=limit)
    for task_run in task_runs:
        watch.watch(str(task_run.id), Watched(tracker, "load", task_run, "nightly", None))  # type: ignore[arg-type]
    return watch


def test_a_completed_run_is_handed_to_its_tracker_once_and_then_forgotten() -> None:
    tracker, task_run = CallsRecorded(), running_task_run()
    watch = watching(tracker, task_run)
    watch.harvest()
    assert tracker.completed == []  # still running
    completed = Completed()
    enter(task_run, completed)
    watch.harvest()
    watch.harvest()
    assert tracker.completed == [(str(task_run.id), completed)]
    assert watch.runs == {}


def test_a_state_whose_id_is_not_yet_set_waits_for_the_next_harvest() -> None:
    tracker, task_run = CallsRecorded(), running_task_run()
    watch = watching(tracker, task_run)
    completed = Completed()
    enter(task_run, completed, finish=False)  # set_state is between its two assignments
    watch.harvest()
    assert tracker.completed == [] and str(task_run.id) in watch.runs
    task_run.state_id = completed.id
    watch.harvest()
    assert tracker.completed == [(str(task_run.id), completed)]


def test_other_final_states_are_forgotten_without_a_row_and_retries_stay_watched() -> None:
    tracker = CallsRecorded()
    failed, crashed, retrying = running_task_run(), running_task_run(), running_task_run()
    watch = watching(tracker, failed, crashed, retrying)
    enter(failed, Failed())  # its row is the failure hook's (it needs the classification)
    enter(crashed, Crashed())  # reconcile's
    enter(retrying, AwaitingRetry())  # not final: the next Running comes through the hook
    watch.harvest()
    assert tracker.completed == []
    assert list(watch.runs) == [str(retrying.id)]


def test_the_watch_is_bounded_oldest_first() -> None:
    tracker = CallsRecorded()
    task_runs = [running_task_run() for _ in range(5)]
    watch = watching(tracker, *task_runs, limit=3)
    assert list(watch.runs) == [str(t.id) for t in task_runs[2:]]
