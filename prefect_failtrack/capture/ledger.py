"""What the hooks of one process remember between the transitions of a run.

Prefect hands each hook only the current state; the ledger keeps, per run, the
previous state (for ``from_state`` and durations), the retries spent per class
(so that budgets hold across attempts), metrics waiting for the next
transition, and, per flow run, what its tasks did (for the run summary).
Entries are dropped when a run ends; the ledger is bounded in any case.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from ..classification import Classification, ErrorType

MAX_RUNS = 50_000
MAX_FAILED_KEPT = 50  # failed task records per flow run, for its failure summary
T = TypeVar("T")


@dataclass
class RunEntry:
    """One task or flow run, as far as this process has seen it."""

    last_state: str | None = None
    last_at: datetime | None = None
    spent: Counter[ErrorType] = field(default_factory=Counter)
    pending_metrics: dict[str, float] = field(default_factory=dict)
    attempt_metrics: dict[str, float] = field(default_factory=dict)
    attempt: int = 0  # tasks: the run count ``attempt_metrics`` belong to
    exception: BaseException | None = None
    classification: Classification | None = None
    base_run_count: int | None = None  # flows: run_count as read from the API at first sight
    runs_seen: int = 0  # flows: Running transitions this process has seen

    def take_metrics(self) -> dict[str, float]:
        metrics, self.pending_metrics = self.pending_metrics, {}
        return metrics

    def begin_attempt(self, attempt: int) -> bool:
        """Count metrics afresh from `attempt` on (the caller holds the ledger's lock); ``False``
        if they already are (metrics of that attempt came first: hooks can record late)."""
        if attempt <= self.attempt:
            return False
        self.attempt, self.attempt_metrics = attempt, {}
        return True


@dataclass(frozen=True, slots=True)
class FailedTask:
    """One task run's final failure, as the flow run's failure summary tells it."""

    name: str  # the task run's name
    task_run_id: str
    classification: Classification
    message: str | None  # redacted and truncated
    fingerprint: str | None
    attempts: int
    retries_exhausted: bool


@dataclass
class FlowEntry:
    """What the tasks of one flow run did, for its summary."""

    tasks: dict[str, str] = field(default_factory=dict)  # task_run_id -> last state type
    failures_by_class: Counter[str] = field(default_factory=Counter)
    retries_spent: int = 0
    metrics_by_run: dict[str, dict[str, float]] = field(default_factory=dict)
    started_at: datetime | None = None
    worst: tuple[str, Classification] | None = None  # (task run name, classification)
    failed: list[FailedTask] = field(default_factory=list)  # the first MAX_FAILED_KEPT

    def failed_task(
        self, name: str, classification: Classification, record: FailedTask | None = None
    ) -> None:
        self.failures_by_class[classification.error_type.value] += 1
        if self.worst is None or classification.error_type.severity > self.worst[1].error_type.severity:
            self.worst = (name, classification)
        if record is not None and len(self.failed) < MAX_FAILED_KEPT:
            self.failed.append(record)

    def metrics(self) -> dict[str, float]:
        """Each run's metrics of its latest attempt, added up (retries do not count twice)."""
        total: Counter[str] = Counter()
        for metrics in self.metrics_by_run.values():
            total.update(metrics)
        return dict(total)


class Ledger:
    """Thread-safe, bounded maps of run id -> entry."""

    def __init__(self, limit: int = MAX_RUNS) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.runs: OrderedDict[str, RunEntry] = OrderedDict()
        self.flows: OrderedDict[str, FlowEntry] = OrderedDict()

    def run(self, run_id: str) -> RunEntry:
        with self.lock:
            return _get_or_add(self.runs, run_id, RunEntry, self.limit)

    def flow(self, flow_run_id: str) -> FlowEntry:
        with self.lock:
            return _get_or_add(self.flows, flow_run_id, FlowEntry, self.limit)

    def forget_run(self, run_id: str) -> None:
        with self.lock:
            self.runs.pop(run_id, None)

    def forget_flow(self, flow_run_id: str) -> None:
        with self.lock:
            self.flows.pop(flow_run_id, None)


def _get_or_add(table: OrderedDict[str, T], key: str, factory: type[T], limit: int) -> T:
    entry = table.get(key)
    if entry is None:
        entry = table[key] = factory()
        while len(table) > limit:
            table.popitem(last=False)
    return entry


LEDGER = Ledger()
