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
        self.rows: list[tuple[str, str, Any]] = []

    def task_running(self, watched: Watched, state: Any) -> None:
        self.rows.append(("running", str(watched.task_run.id), state))

    def task_completed(self, watched: Watched, state: Any) -> None:
        self.rows.append(("completed", str(watched.task_run.id), state))

    def task_ended(self, watched: Watched, state: Any) -> None:
        self.rows.append(("ended", str(watched.task_run.id), state))

    @property
    def completed(self) -> list[tuple[str, Any]]:
        return [(run_id, state) for kind, run_id, state in self.rows if kind == "completed"]


def running_task_run() -> TaskRun:
    task_run = TaskRun(id=uuid.uuid4(), flow_run_id=uuid.uuid4(), task_key="k", dynamic_key="0",
                       name="load-0")
    enter(task_run, Running())
    return task_run


def watched(tracker: CallsRecorded, task_run: TaskRun) -> Watched:
    """As the on_running hook watches a run: with the state it just entered."""
    return Watched(tracker, "load", task_run, "nightly", None, running=task_run.state)  # type: ignore[arg-type]


def enter(task_run: TaskRun, state: Any, *, finish: bool = True) -> None:
    """As ``set_state`` does: the state, then (``finish``) its id."""
    task_run.state = state
    if finish:
        task_run.state_id = state.id


def watching(tracker: CallsRecorded, *task_runs: TaskRun, limit: int = 100) -> RunningTasks:
    watch = RunningTasks(limit=limit)
    for task_run in task_runs:
        watch.watch(task_run.id, watched(tracker, task_run))
    return watch


def test_the_running_row_then_the_completed_row_each_once_and_then_the_run_is_forgotten() -> None:
    tracker, task_run = CallsRecorded(), running_task_run()
    running, run_id = task_run.state, str(task_run.id)
    watch = watching(tracker, task_run)
    assert tracker.rows == []  # nothing in the hook's thread
    watch.harvest()
    assert tracker.rows == [("running", run_id, running)]  # still running
    completed = Completed()
    enter(task_run, completed)
    watch.harvest()
    watch.harvest()
    assert tracker.rows == [("running", run_id, running), ("completed", run_id, completed)]
    assert watch.runs == {}


def test_settle_records_the_waiting_running_row_before_a_row_recorded_at_once() -> None:
    tracker, task_run = CallsRecorded(), running_task_run()
    running, run_id = task_run.state, str(task_run.id)
    watch = watching(tracker, task_run)
    watch.settle(task_run.id)  # the retry condition, before its AwaitingRetry row
    assert tracker.rows == [("running", run_id, running)]
    watch.settle(task_run.id, forget=True)  # the failure hook: nothing left to record
    assert tracker.rows == [("running", run_id, running)] and watch.runs == {}


def test_a_new_attempt_records_the_earlier_attempts_running_row_first() -> None:
    tracker, task_run = CallsRecorded(), running_task_run()
    first, run_id = task_run.state, str(task_run.id)
    watch = watching(tracker, task_run)
    enter(task_run, Running(name="Retrying"))
    watch.watch(task_run.id, watched(tracker, task_run))
    assert tracker.rows == [("running", run_id, first)]
    watch.harvest()
    assert [state.name for _, _, state in tracker.rows] == ["Running", "Retrying"]


def test_a_state_whose_id_is_not_yet_set_waits_for_the_next_harvest() -> None:
    tracker, task_run = CallsRecorded(), running_task_run()
    watch = watching(tracker, task_run)
    completed = Completed()
    enter(task_run, completed, finish=False)  # set_state is between its two assignments
    watch.harvest()
    assert tracker.completed == [] and task_run.id in watch.runs
    task_run.state_id = completed.id
    watch.harvest()
    assert tracker.completed == [(str(task_run.id), completed)]


def test_crashed_gets_its_row_here_failed_is_the_hooks_and_retries_stay_watched() -> None:
    tracker = CallsRecorded()
    failed, crashed, retrying = running_task_run(), running_task_run(), running_task_run()
    watch = watching(tracker, failed, crashed, retrying)
    enter(failed, Failed())  # its row is the failure hook's (it needs the classification)
    enter(crashed, Crashed())  # a BaseException: no task hook fires (prefect/task_engine.py)
    enter(retrying, AwaitingRetry())  # not final: the next Running comes through the hook
    watch.harvest()
    assert tracker.completed == []
    assert [(kind, run_id) for kind, run_id, _ in tracker.rows if kind == "ended"] == [
        ("ended", str(crashed.id))
    ]
    assert list(watch.runs) == [retrying.id]


def test_the_watch_is_bounded_oldest_first() -> None:
    tracker = CallsRecorded()
    task_runs = [running_task_run() for _ in range(5)]
    watch = watching(tracker, *task_runs, limit=3)
    assert list(watch.runs) == [t.id for t in task_runs[2:]]
