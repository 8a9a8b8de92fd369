"""Flow run summaries, derived from the stored transitions: one source of truth.

Which process knows what, and when (issue 15):

- the process that runs a task knows that task run's transitions (and its metrics,
  which travel on its rows' ``metadata``); it stores them, or hands them to the
  transport, by the end of the task run;
- the flow's process knows the flow run's own transitions, and which of its tasks
  never ran (``NotReady``: no hook fires for them; the flow-end hook reads them off
  the states the flow returned);
- a subflow's process writes the subflow's rows, which name their parent;
- nobody's memory holds a flow-level view: whoever *stores* rows derives the summary
  from the table, in the same transaction (`refresh`). That is the flow's own process
  in direct mode, the collector with the event transport, a spool replay after an
  outage, and reconcile.

So a summary exists once a flow run's final transition is stored, and every later
row of that flow run (a late task row, a replayed spool, a subflow ending, a reconcile)
refreshes it. Reconcile recomputes it too: a summary is never wrong for longer than the
rows are missing.

What a summary says, from the rows (`fold`):

- each task run's last transition (by time; a final state wins a tie) is its state;
  Failed and Crashed count as failed, with the class of that row; a task run whose last
  state is ``NotReady`` never ran because an upstream run failed: DEPENDENCY;
- retries spent: AwaitingRetry transitions, of the flow run and its task runs;
- metrics: each run's metrics of its latest attempt, added up (a retried load counts
  once);
- subflows: flow runs whose rows name this one as their parent, by their last state;
- capture: ``'tracked'`` when any of its own or its task runs' rows was written by
  failtrack's hooks, ``'observed'`` when the collector made them all from Prefect's
  state events (a run failtrack does not track).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .columns import FLOW_RUNS, OBSERVED, SUMMARY_COLUMNS, TRACKED, TRANSITIONS
from .driver import Driver
from .encoding import storable, utcnow

FINAL_TYPES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
ENDING_TYPES = FINAL_TYPES | {"CANCELLING"}
"""A flow run whose last row is of one of these has a summary (Cancelling: the runner runs
the cancellation hooks then, and sets Cancelled after, without a hook)."""
FAILED_TYPES = frozenset({"FAILED", "CRASHED"})
NOT_READY = "NotReady"
DEPENDENCY = "DEPENDENCY"
CHUNK = 500

_COLUMNS = (
    "run_kind", "run_id", "flow_run_id", "name", "flow_name", "deployment_id", "to_state",
    "to_state_type", "occurred_at", "run_count", "error_type", "error_class", "error_message",
    "reason", "fingerprint", "retryable", "tags", "metadata", "parent_flow_run_id",
    "parent_task_run_id", "capture",
)  # fmt: skip
_EMPTY = dict.fromkeys(_COLUMNS)


@dataclass
class RunOutcome:
    """One task run or subflow run, as its rows tell it."""

    run_id: str
    name: str
    state: str
    state_type: str
    attempts: int
    last_at: datetime | None
    error_type: str | None = None
    error_class: str | None = None
    message: str | None = None
    reason: str | None = None
    fingerprint: str | None = None
    retryable: bool | None = None
    run_name: str | None = None
    retries: int = 0
    retries_exhausted: bool = False

    @property
    def failed(self) -> bool:
        return self.state_type in FAILED_TYPES

    @property
    def not_ready(self) -> bool:
        return self.state == NOT_READY


@dataclass
class FlowRunView:
    """A flow run and what its task runs and subflows did, folded from its rows."""

    flow_run_id: str
    flow_name: str | None = None
    deployment_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    final_state: str | None = None
    final_state_type: str | None = None
    flow_error: RunOutcome | None = None  # the flow run's own failure, if it has one
    tasks: list[RunOutcome] = field(default_factory=list)
    subflows: list[RunOutcome] = field(default_factory=list)
    retries_spent: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    capture: str = TRACKED

    @property
    def completed(self) -> int:
        return sum(1 for t in self.tasks if t.state_type == "COMPLETED")

    @property
    def failed(self) -> list[RunOutcome]:
        return [t for t in self.tasks if t.failed]

    @property
    def not_ready(self) -> list[RunOutcome]:
        return [t for t in self.tasks if t.not_ready]

    @property
    def failures_by_class(self) -> dict[str, int]:
        """Failed task runs by class, and the ones that never ran as DEPENDENCY."""
        counts = Counter(t.error_type or "UNKNOWN" for t in self.failed)
        if self.not_ready:
            counts[DEPENDENCY] += len(self.not_ready)
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    @property
    def failed_subflows(self) -> list[RunOutcome]:
        return [s for s in self.subflows if s.failed]

    @property
    def final(self) -> bool:
        """Whether the flow run has ended (or is being cancelled): it gets a summary."""
        return self.final_state_type in ENDING_TYPES

    def worst(self) -> tuple[str, RunOutcome] | None:
        """What failed the flow run, when it failed without an exception of its own: the
        worst failed subflow or task run, as ``("subflow" | "task", outcome)``."""
        from prefect_failtrack.classification import ErrorType

        candidates = [("subflow", s) for s in self.failed_subflows]
        candidates += [("task", t) for t in self.failed]
        if not candidates:
            return None

        def severity(item: tuple[str, RunOutcome]) -> int:
            kind = item[1].error_type or "UNKNOWN"
            return ErrorType(kind).severity if kind in ErrorType.__members__ else 0

        return max(candidates, key=severity)

    def summary_row(self) -> dict[str, Any]:
        """The ``failtrack_flow_runs`` row of this view."""
        failed, completed = len(self.failed), self.completed
        return {
            "flow_run_id": self.flow_run_id,
            "flow_name": self.flow_name,
            "deployment_id": self.deployment_id,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "final_state": self.final_state,
            "final_state_type": self.final_state_type,
            "tasks_total": len(self.tasks),
            "tasks_completed": completed,
            "tasks_failed": failed,
            "tasks_not_ready": len(self.not_ready),
            "subflows_total": len(self.subflows),
            "subflows_failed": len(self.failed_subflows),
            "failures_by_class": self.failures_by_class,
            "retries_spent": self.retries_spent,
            "partial_success": completed > 0 and (failed > 0 or bool(self.not_ready)),
            "metrics": self.metrics,
            "tags": self.tags,
            "parent_flow_run_id": self.parent_flow_run_id,
            "parent_task_run_id": self.parent_task_run_id,
            "capture": self.capture,
            "updated_at": utcnow(),
        }


def _order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Transitions of one run in order: by time, a final state after others at the same time."""
    return (row["occurred_at"], row["to_state_type"] in FINAL_TYPES, row["run_count"])


def _outcome(run_rows: list[dict[str, Any]]) -> RunOutcome:
    run_rows.sort(key=_order)
    last = run_rows[-1]
    failure = last if last["error_type"] is not None else None
    meta = (failure or {}).get("metadata") or {}
    retries = sum(1 for r in run_rows if r["to_state"] == "AwaitingRetry")
    return RunOutcome(
        run_id=last["run_id"],
        name=last["name"],
        state=last["to_state"],
        state_type=last["to_state_type"],
        attempts=max(int(r["run_count"] or 0) for r in run_rows),
        last_at=last["occurred_at"],
        error_type=last["error_type"],
        error_class=last["error_class"],
        message=last["error_message"],
        reason=last["reason"],
        fingerprint=last["fingerprint"],
        retryable=last["retryable"],
        run_name=meta.get("run_name") if isinstance(meta, dict) else None,
        retries=retries,
        retries_exhausted=bool(meta.get("retries_exhausted")) if isinstance(meta, dict) else False,
    )


def _latest_metrics(run_rows: list[dict[str, Any]]) -> Counter[str]:
    """A run's metrics of its latest attempt (rows of its highest run count)."""
    total: Counter[str] = Counter()
    latest = max(int(r["run_count"] or 0) for r in run_rows)
    for row in run_rows:
        meta = row.get("metadata")
        if int(row["run_count"] or 0) != latest or not isinstance(meta, dict):
            continue
        metrics = meta.get("metrics")
        if isinstance(metrics, dict):
            total.update({k: v for k, v in metrics.items() if _number(v)})
    return total


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def fold(flow_run_id: str, rows: Iterable[dict[str, Any]]) -> FlowRunView:
    """The view of `flow_run_id` from its rows, its task runs' and its subflows' flow rows."""
    own: list[dict[str, Any]] = []
    by_task: dict[str, list[dict[str, Any]]] = {}
    by_subflow: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row = {**_EMPTY, **row}
        if row["run_kind"] == "flow" and row["run_id"] == flow_run_id:
            own.append(row)
        elif row["run_kind"] == "flow" and row["parent_flow_run_id"] == flow_run_id:
            by_subflow.setdefault(row["run_id"], []).append(row)
        elif row["run_kind"] == "task" and row["flow_run_id"] == flow_run_id:
            by_task.setdefault(row["run_id"], []).append(row)
    view = FlowRunView(flow_run_id=flow_run_id)
    metrics: Counter[str] = Counter()
    for task_rows in by_task.values():
        outcome = _outcome(task_rows)
        view.tasks.append(outcome)
        view.retries_spent += outcome.retries
        metrics.update(_latest_metrics(task_rows))
    view.tasks.sort(key=lambda t: (t.last_at is None, t.last_at, t.run_id))
    view.subflows = sorted(
        (_outcome(subflow_rows) for subflow_rows in by_subflow.values()),
        key=lambda s: (s.last_at is None, s.last_at, s.run_id),
    )
    if own:
        own.sort(key=_order)
        last = own[-1]
        view.flow_name = next((r["flow_name"] for r in reversed(own) if r["flow_name"]), None)
        view.deployment_id = next((r["deployment_id"] for r in own if r["deployment_id"]), None)
        running = [r for r in own if r["to_state_type"] == "RUNNING"]
        view.started_at = running[0]["occurred_at"] if running else None
        view.final_state, view.final_state_type = last["to_state"], last["to_state_type"]
        view.ended_at = last["occurred_at"] if last["to_state_type"] in ENDING_TYPES else None
        view.tags = list(last["tags"] or [])
        view.parent_flow_run_id = next(
            (r["parent_flow_run_id"] for r in own if r["parent_flow_run_id"]), None
        )
        view.parent_task_run_id = next(
            (r["parent_task_run_id"] for r in own if r["parent_task_run_id"]), None
        )
        view.retries_spent += sum(1 for r in own if r["to_state"] == "AwaitingRetry")
        metrics.update(_latest_metrics(own))
        if last["error_type"] is not None:
            view.flow_error = _outcome(own)
    if view.flow_name is None and by_task:
        view.flow_name = next(
            (r["flow_name"] for rs in by_task.values() for r in rs if r["flow_name"]), None
        )
    view.metrics = dict(metrics)
    mine = own + [r for rs in by_task.values() for r in rs]
    if mine and all(r["capture"] == OBSERVED for r in mine):
        view.capture = OBSERVED
    return view


# -- the table side: the same SQL for SQLAlchemy's connections and the driver's -------------


def read_rows(driver: Driver, flow_run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The rows `fold` needs for these flow runs: theirs, their tasks', their subflows'."""
    columns = ", ".join(_COLUMNS)
    found: list[dict[str, Any]] = []
    for first in range(0, len(flow_run_ids), CHUNK):
        chunk = list(flow_run_ids[first : first + CHUNK])
        marks = driver.marks(len(chunk))
        sql = (
            f"SELECT {columns} FROM {TRANSITIONS} WHERE flow_run_id IN ({marks}) "
            f"OR (parent_flow_run_id IN ({marks}) AND run_kind = 'flow')"
        )
        found.extend(driver.rows(_COLUMNS, driver.query(sql, [*chunk, *chunk])))
    return found


def views(driver: Driver, flow_run_ids: Sequence[str]) -> dict[str, FlowRunView]:
    """The view of each flow run, read from the table."""
    rows = read_rows(driver, flow_run_ids)
    grouped: dict[str, list[dict[str, Any]]] = {fid: [] for fid in flow_run_ids}
    for row in rows:
        for key in (row["flow_run_id"], row["parent_flow_run_id"]):
            if key in grouped:
                grouped[key].append(row)
    return {fid: fold(fid, grouped[fid]) for fid in flow_run_ids}


def refresh(driver: Driver, flow_run_ids: Iterable[str]) -> int:
    """Write the summary of each of these flow runs whose own final transition is stored;
    the others get none yet. Returns how many were written."""
    ids = sorted({fid for fid in flow_run_ids if fid})
    if not ids:
        return 0
    found = [view.summary_row() for view in views(driver, ids).values() if view.final]
    upsert(driver, found)
    return len(found)


def upsert(driver: Driver, summaries: Sequence[dict[str, Any]]) -> None:
    """Write summary rows, the newest ``updated_at`` winning (sorted by flow run id, as
    concurrent writers then take their locks in the same order)."""
    if not summaries:
        return
    from .columns import complete

    names = ", ".join(SUMMARY_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in SUMMARY_COLUMNS if c != "flow_run_id")
    sql = (
        f"INSERT INTO {FLOW_RUNS} ({names}) VALUES ({driver.marks(len(SUMMARY_COLUMNS))}) "
        f"ON CONFLICT (flow_run_id) DO UPDATE SET {updates} "
        f"WHERE {FLOW_RUNS}.updated_at <= excluded.updated_at"
    )
    rows = sorted((storable(complete(FLOW_RUNS, s)) for s in summaries),
                  key=lambda r: str(r["flow_run_id"]))
    driver.executemany(sql, ([driver.encode(c, r[c]) for c in SUMMARY_COLUMNS] for r in rows))


def touched(driver: Driver, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Flow runs whose summary the rows change: a flow run whose final row is among them,
    and any flow run that has a summary already and gets a row (its own, a task's, a
    subflow's)."""
    ending = {
        str(r.get("run_id")) for r in rows
        if r.get("run_kind") == "flow" and r.get("to_state_type") in ENDING_TYPES
    }  # fmt: skip
    named = {r.get("flow_run_id") for r in rows} | {r.get("parent_flow_run_id") for r in rows}
    candidates = sorted({str(fid) for fid in named if fid} - ending)
    known: set[str] = set()
    for first in range(0, len(candidates), CHUNK):
        chunk = candidates[first : first + CHUNK]
        sql = f"SELECT flow_run_id FROM {FLOW_RUNS} WHERE flow_run_id IN ({driver.marks(len(chunk))})"
        known.update(row[0] for row in driver.query(sql, chunk))
    return ending | known


def spent(driver: Driver, run_id: str) -> dict[str, int]:
    """Retries already spent on a run, per class: its AwaitingRetry rows."""
    sql = (
        f"SELECT error_type, count(*) FROM {TRANSITIONS} WHERE run_id = {driver.placeholder} "
        "AND to_state = 'AwaitingRetry' AND error_type IS NOT NULL GROUP BY error_type"
    )
    return {kind: int(n) for kind, n in driver.query(sql, [run_id])}
