"""Running task runs, watched: their Running and Completed rows, off the pipeline's thread.

A hook call costs the pipeline's thread more in Prefect than failtrack's work in
it: Prefect 3.8 makes two log records around every hook call
(``task_engine.call_hooks``), about 5 µs each even when a filter drops them, and
inside a flow one hook call takes about 32 µs of CPU (``docs/performance.md``).
So a task that succeeds calls one failtrack hook, ``on_running``, and that hook
only puts the task run here, with its Running (or Retrying) state.

The rows are recorded by `harvest`, which needs nothing from the pipeline's
thread: the engine keeps the TaskRun object the hook saw up to date
(``SyncTaskRunEngine.set_state`` and its async twin assign ``task_run.state``,
then ``task_run.state_id``). It records the Running row waiting, then, once the
run is Completed (or Cached), the Completed row: the rows a hook would have
recorded, with Prefect's state ids and times, from-states and durations.
Who calls `harvest`:

- the recorder's writer thread, before each batch (every ``flush_interval``);
- ``Recorder.flush`` and ``close``, before they wait;
- the flow-end hook, before it counts the run summary.

Rows recorded at once by the other hooks (AwaitingRetry from the retry
condition, Failed from the failure hook) `settle` the run first, so that a
run's rows stay in order. So a Running or Completed row reaches the recorder at
most ``flush_interval`` after the fact, and always before the flow's summary is
counted and before a flush returns. A process killed in that window loses it;
reconcile adds it back, as it does for anything else a killed process did not
write.

Failed has its hook (its row needs the classification, and the hook forgets the
run first); Crashed (a task that raised a BaseException) and Cancelled fire no hook
for tasks, so their rows come from here too, classified from the state. A run is
watched no longer once it is final.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from prefect.client.schemas.objects import StateType

if TYPE_CHECKING:
    from .tracker import Tracker

MAX_WATCHED = 50_000


class Watched:
    """A running task run, and what its rows need that only its own thread knows."""

    __slots__ = ("deployment_id", "flow_name", "run_count", "running", "task_name", "task_run",
                 "tracker")

    def __init__(self, tracker: Tracker, task_name: str, task_run: Any, flow_name: str | None,
                 deployment_id: Any, running: Any = None) -> None:
        self.tracker = tracker
        self.task_name = task_name
        self.task_run = task_run  # the engine's own TaskRun object, kept up to date by the engine
        self.flow_name = flow_name
        self.deployment_id = deployment_id
        self.running = running  # the Running/Retrying state whose row is still to be recorded
        self.run_count = task_run.run_count  # as of that state (it counts on at the next attempt)


class RunningTasks:
    """Task runs seen entering Running (or Retrying) in this process, by run id (the UUID)."""

    def __init__(self, limit: int = MAX_WATCHED) -> None:
        self.limit = limit
        # One lock for registering and for harvesting, bookkeeping included: the flow-end
        # hook's harvest must not count a run's tasks while the writer is half-way through one.
        self.lock = threading.Lock()
        self.runs: OrderedDict[Any, Watched] = OrderedDict()

    def watch(self, run_id: Any, watched: Watched) -> None:
        """Watch a run that entered `watched.running`; its row is recorded at the next harvest
        (or `settle`)."""
        with self.lock:
            earlier = self.runs.get(run_id)
            if earlier is not None and earlier.running is not None:
                self._record_running(earlier)  # an attempt not harvested yet: in order
            self.runs[run_id] = watched
            if len(self.runs) > self.limit:
                self.runs.popitem(last=False)

    def settle(self, run_id: Any, *, forget: bool = False) -> None:
        """Record the run's Running row now, if it is still waiting: called before a row of
        the run that is recorded at once (AwaitingRetry, Failed), so that rows keep their
        order. `forget`: the run is final, watch it no longer."""
        with self.lock:
            watched = self.runs.pop(run_id, None) if forget else self.runs.get(run_id)
            if watched is not None and watched.running is not None:
                self._record_running(watched)

    def harvest(self) -> None:
        """Record the Running rows waiting, and the completions of watched runs; forget the
        runs that are final."""
        if not self.runs:
            return
        with self.lock:
            for run_id, watched in list(self.runs.items()):
                if watched.running is not None:
                    self._record_running(watched)
                task_run = watched.task_run
                state = task_run.state
                # ``state_id`` is set last in ``set_state``: until then, the state may change.
                if state is None or task_run.state_id != state.id or not state.is_final():
                    continue
                del self.runs[run_id]
                if state.type is StateType.COMPLETED:
                    watched.tracker.task_completed(watched, state)  # guarded
                elif state.type in _NO_HOOK:
                    watched.tracker.task_ended(watched, state)  # guarded

    @staticmethod
    def _record_running(watched: Watched) -> None:
        state, watched.running = watched.running, None
        watched.tracker.task_running(watched, state)  # guarded


_NO_HOOK = frozenset({StateType.CRASHED, StateType.CANCELLED})
"""Final states of a task run that fire no failtrack hook (Prefect has no task hook for a
run that crashed with a BaseException, or was cancelled): their rows come from here.
Failed has its hook, which forgets the run first (`settle`), so it is never seen here."""

WATCH = RunningTasks()
