"""Completions noticed rather than hooked: running task runs, watched until they end.

A task's ``on_completion`` hook costs the pipeline's thread more in Prefect than
failtrack's work in it: Prefect 3.8 makes two log records around every hook call
(``task_engine.call_hooks``), and a record costs about 5 µs even when a filter
drops it (``docs/performance.md``). So failtrack records Completed without a hook.

The ``on_running`` hook puts the task run here. The engine keeps that same
``TaskRun`` object up to date: ``SyncTaskRunEngine.set_state`` (and its async
twin) assigns ``task_run.state`` and then ``task_run.state_id``. `harvest` reads
them, and records the row the hook would have recorded: same state id, same
timestamp, same from-state and duration. Who calls `harvest`:

- the recorder's writer thread, before each batch (every ``flush_interval``);
- ``Recorder.flush`` and ``close``, before they wait;
- the flow-end hook, before it counts the run summary.

So a Completed row reaches the queue at most ``flush_interval`` after the fact,
and always before the flow's summary and before a flush returns. A process killed
in that window loses it; reconcile adds it back, as it does for anything else a
killed process did not write.

Other final states are left as they were: Failed has its hook (the row needs the
classification); Crashed and Cancelled are for reconcile. A run is watched no
longer once it is final.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prefect.client.schemas.objects import StateType

if TYPE_CHECKING:
    from .tracker import Tracker

MAX_WATCHED = 50_000


@dataclass(frozen=True, slots=True)
class Watched:
    """A running task run, and what its Completed row needs that only its thread knows."""

    tracker: Tracker
    task_name: str
    task_run: Any  # the engine's own TaskRun object, kept up to date by the engine
    flow_name: str | None
    deployment_id: Any


class RunningTasks:
    """Task runs seen entering Running (or Retrying) in this process, by run id."""

    def __init__(self, limit: int = MAX_WATCHED) -> None:
        self.limit = limit
        # One lock for registering and for harvesting, bookkeeping included: the flow-end
        # hook's harvest must not count a run's tasks while the writer is half-way through one.
        self.lock = threading.Lock()
        self.runs: OrderedDict[str, Watched] = OrderedDict()

    def watch(self, run_id: str, watched: Watched) -> None:
        with self.lock:
            self.runs[run_id] = watched
            if len(self.runs) > self.limit:
                self.runs.popitem(last=False)

    def forget(self, run_id: str) -> None:
        with self.lock:
            self.runs.pop(run_id, None)

    def harvest(self) -> None:
        """Record the completions of watched runs; forget the runs that are final."""
        if not self.runs:
            return
        with self.lock:
            for run_id, watched in list(self.runs.items()):
                task_run = watched.task_run
                state = task_run.state
                # ``state_id`` is set last in ``set_state``: until then, the state may change.
                if state is None or task_run.state_id != state.id or not state.is_final():
                    continue
                del self.runs[run_id]
                if state.type is StateType.COMPLETED:
                    watched.tracker.task_completed(run_id, watched, state)  # guarded

    def clear(self) -> None:
        with self.lock:
            self.runs.clear()


WATCH = RunningTasks()
