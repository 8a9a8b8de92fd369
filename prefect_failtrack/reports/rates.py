"""Failure rates: flow runs (from the run summaries) and task runs (from their final transitions).

A flow run counts when its summary says it ended in the window; it failed when it ended
Failed or Crashed (TimedOut is a Failed state). A task run counts when its final
transition (Completed, Failed, Crashed or Cancelled) falls in the window; a run has one
(the state id, and the natural key run/state/run count, keep a second one out).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, case, func, select

from ..store.models import flow_runs
from .models import PartialRun, RunRate
from .profile import Group
from .scope import FAILED_TYPES, TERMINAL_TYPES, Scope

UNNAMED = "(unnamed)"
UNCLASSIFIED = "UNKNOWN"


def _rate(name: str, runs: int, failed: int) -> RunRate:
    return RunRate(name=name, runs=runs, failed=failed, failure_rate=failed / runs if runs else 0.0)


def _worst_first(rates: list[RunRate]) -> list[RunRate]:
    return sorted(rates, key=lambda r: (-r.failed, -r.failure_rate, r.name))


def flow_rates(connection: Connection, scope: Scope) -> list[RunRate]:
    """Flow runs ended in the window and how many failed, per flow, worst first."""
    s = flow_runs.c
    failed = func.sum(case((s.final_state_type.in_(FAILED_TYPES), 1), else_=0))
    query = (
        select(s.flow_name, func.count(), failed)
        .where(scope.in_window(s.ended_at), *scope.runs())
        .group_by(s.flow_name)
    )
    rates = [
        _rate(n or UNNAMED, runs, failed or 0) for n, runs, failed in connection.execute(query)
    ]
    return _worst_first(rates)


def _final_task_groups(groups: list[Group]) -> list[Group]:
    return [g for g in groups if g.run_kind == "task" and g.to_state_type in TERMINAL_TYPES]


def task_rates(groups: list[Group]) -> list[RunRate]:
    """Task runs ended in the window and how many failed, per task name, worst first."""
    runs: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for g in _final_task_groups(groups):
        runs[g.name] += g.count
        if g.to_state_type in FAILED_TYPES:
            failed[g.name] += g.count
    return _worst_first([_rate(name, n, failed[name]) for name, n in runs.items()])


def _never_ran(g: Group) -> bool:
    """A task run's NotReady row: Pending in type (Prefect counts it apart from the failed),
    and the only Pending row that carries a class (DEPENDENCY: an upstream run failed)."""
    return g.run_kind == "task" and g.to_state_type == "PENDING" and g.error_type is not None


def failures_by_class(groups: list[Group]) -> dict[str, int]:
    """Task runs that ended Failed or Crashed in the window, and those that never ran because
    an upstream run failed (as DEPENDENCY, like the run summaries), per class (most first)."""
    counts: Counter[str] = Counter()
    for g in _final_task_groups(groups):
        if g.to_state_type in FAILED_TYPES:
            counts[g.error_type or UNCLASSIFIED] += g.count
    for g in groups:
        if _never_ran(g):
            counts[g.error_type] += g.count
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def partial_runs(connection: Connection, scope: Scope) -> list[PartialRun]:
    """Flow runs ended in the window with some tasks completed and some failed, newest first."""
    s = flow_runs.c
    query = select(s.flow_run_id, s.flow_name, s.tasks_completed, s.tasks_failed, s.ended_at).where(
        s.partial_success.is_(True), scope.in_window(s.ended_at), *scope.runs()
    )
    runs = [
        PartialRun(
            flow_run_id=run_id,
            flow_name=name,
            tasks_completed=completed,
            tasks_failed=failed,
            ended_at=ended_at,
        )
        for run_id, name, completed, failed, ended_at in connection.execute(query)
    ]
    # Sorted here, not in SQL: an ORDER BY would make SQLite read a wide window in
    # ended_at order, one table row at a time.
    return sorted(runs, key=lambda r: (-r.ended_at.timestamp(), r.flow_run_id))
