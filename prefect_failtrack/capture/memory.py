"""What the hooks of one process remember about a run between its transitions.

Prefect hands each hook only the current state; this keeps, per run, what the next
transition of the same run needs: the previous state (for ``from_state`` and
durations), the retries spent per class (so that budgets hold across attempts), the
metrics reported since the last transition, and the failure being handled (so that
the retry condition and the failure hook classify and format it once).

Nothing here is a flow-level view: what a flow run's tasks did is derived from the
stored rows (`prefect_failtrack.store.summaries`), whichever process ran them. An
attempt that lands in a process that has not seen the run before finds the retries
already spent in the store (`TaskHooks._spent_before`). Entries are dropped when a run
ends, and the memory is bounded in any case.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..classification import ErrorType

if TYPE_CHECKING:
    from .failure import Failure

MAX_RUNS = 50_000


@dataclass
class RunMemory:
    """One task or flow run, as far as this process has seen it."""

    last_state: str | None = None
    last_at: datetime | None = None
    spent: Counter[ErrorType] = field(default_factory=Counter)
    spent_known: bool = False  # `spent` checked against the store (an attempt from elsewhere)
    pending_metrics: dict[str, float] = field(default_factory=dict)
    failure: Failure | None = None  # the failure being handled (classified and formatted once)
    decision_logged: bool = False  # failtrack's decision (with the traceback) is in the logs
    parent: Any = None  # subflows: the parent flow run's id (or a `rows.Later` that finds it)
    base_run_count: int | None = None  # flows: run_count as read from the API at first sight
    runs_seen: int = 0  # flows: Running transitions this process has seen

    def take_metrics(self) -> dict[str, float]:
        metrics, self.pending_metrics = self.pending_metrics, {}
        return metrics


class Memory:
    """Thread-safe, bounded map of run id (text) -> `RunMemory`."""

    def __init__(self, limit: int = MAX_RUNS) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.runs: OrderedDict[str, RunMemory] = OrderedDict()

    def run(self, run_id: str) -> RunMemory:
        with self.lock:
            entry = self.runs.get(run_id)
            if entry is None:
                entry = self.runs[run_id] = RunMemory()
                while len(self.runs) > self.limit:
                    self.runs.popitem(last=False)
            return entry

    def forget(self, run_id: str) -> None:
        with self.lock:
            self.runs.pop(run_id, None)


MEMORY = Memory()
