"""Retry effectiveness: did the retries a class of error was given pay off, and at what cost?

A retried run is one with an AwaitingRetry transition in the window; it counts once
per class it was retried for. It recovered when it has a Completed final transition,
it was exhausted when it ended Failed or Crashed instead (both up to the window end);
a run still in flight is neither. The wait of a retry is the time the run then spent
in AwaitingRetry (the duration on the next attempt's transition), or the planned delay
(``retry_delay_s``) where that transition is missing.
"""

from __future__ import annotations

from sqlalchemy import Connection, Float, and_, case, cast, func, select

from ..store.models import transitions
from .models import RetryStats
from .rates import UNCLASSIFIED
from .scope import FAILED_TYPES, TERMINAL_TYPES, Scope

AWAITING_RETRY = "AwaitingRetry"


def retry_effectiveness(connection: Connection, scope: Scope) -> list[RetryStats]:
    """Retried runs, recovered and exhausted, retries spent and time waited, per class."""
    a = transitions.alias("retry")
    after = transitions.alias("next_attempt")
    waited = func.coalesce(
        cast(after.c.duration_in_state_ms, Float) / 1000.0, a.c.retry_delay_s, 0.0
    )
    next_attempt = and_(
        after.c.run_id == a.c.run_id,
        after.c.run_count == a.c.run_count + 1,
        after.c.from_state == AWAITING_RETRY,
    )
    per_run = (
        select(
            a.c.run_id,
            a.c.error_type,
            func.count().label("spent"),
            func.sum(waited).label("waited"),
        )
        .select_from(a.outerjoin(after, next_attempt))
        .where(a.c.to_state == AWAITING_RETRY, scope.in_window(a.c.occurred_at), *scope.rows(a))
        .group_by(a.c.run_id, a.c.error_type)
        .subquery("per_run")
    )
    final = transitions.alias("final")
    ended = and_(
        final.c.run_id == per_run.c.run_id,
        final.c.to_state_type.in_(TERMINAL_TYPES),
        final.c.occurred_at < scope.end,
    )
    outcome = (
        select(
            per_run.c.error_type,
            per_run.c.spent,
            per_run.c.waited,
            func.max(case((final.c.to_state_type == "COMPLETED", 1), else_=0)).label("completed"),
            func.max(case((final.c.to_state_type.in_(FAILED_TYPES), 1), else_=0)).label("failed"),
        )
        .select_from(per_run.outerjoin(final, ended))
        .group_by(per_run.c.run_id, per_run.c.error_type, per_run.c.spent, per_run.c.waited)
        .subquery("outcome")
    )
    o = outcome.c
    query = select(
        o.error_type,
        func.count(),
        func.sum(o.completed),
        func.sum(case((and_(o.completed == 0, o.failed == 1), 1), else_=0)),
        func.sum(o.spent),
        func.sum(o.waited),
    ).group_by(o.error_type)
    totals: dict[str, list[float]] = {}
    for error_type, *figures in connection.execute(query):
        total = totals.setdefault(error_type or UNCLASSIFIED, [0, 0, 0, 0, 0.0])
        for i, figure in enumerate(figures):
            total[i] += figure or 0
    stats = [
        RetryStats(
            error_type=error_type,
            retried_runs=int(runs),
            recovered=int(recovered),
            exhausted=int(exhausted),
            retries_spent=int(spent),
            time_waiting_s=round(float(waited), 3),
        )
        for error_type, (runs, recovered, exhausted, spent, waited) in totals.items()
    ]
    return sorted(stats, key=lambda s: (-s.retries_spent, s.error_type))
