"""Stuck runs: runs that went Running (or Retrying) and have not moved for too long.

A task run is stuck when its latest transition is a running one and older than the
limit. A flow run is stuck when its own latest transition is a running one, older than
the limit, and nothing in it (the flow run or any of its task runs) moved since the
limit: a flow whose tasks still move is busy, not stuck. "Latest" is as of the window
end, and the running transition must fall in the window (a run silent since before the
window start is left to reconcile).

One grouped pass over the window finds each run's latest transition (through the index
on run id and time); only the few runs whose latest one is running are read further.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, and_, case, exists, func, or_, select

from ..store.models import transitions
from .models import StuckRun
from .scope import Scope

RUNNING = "RUNNING"


def stuck_runs(connection: Connection, scope: Scope, *, stuck_after: timedelta) -> list[StuckRun]:
    """Stuck flow runs and task runs of the window, longest stuck first."""
    limit = scope.end - stuck_after
    t = transitions.c
    latest = func.max(t.occurred_at)
    latest_running = func.max(case((t.to_state_type == RUNNING, t.occurred_at)))
    open_runs = (
        select(t.run_id, latest.label("latest"))
        .where(scope.in_window(t.occurred_at), *scope.rows())
        .group_by(t.run_id)
        .having(latest < limit, latest_running == latest)
    )
    open_runs = open_runs.subquery("open_runs")
    r = transitions.alias("last_seen")
    activity = transitions.alias("activity")
    busy = exists().where(
        activity.c.flow_run_id == r.c.run_id,
        activity.c.occurred_at >= limit,
        activity.c.occurred_at < scope.end,
    )
    query = (
        select(r.c.run_kind, r.c.name, r.c.run_id, r.c.flow_run_id, r.c.to_state, r.c.occurred_at)
        .select_from(
            r.join(
                open_runs,
                and_(r.c.run_id == open_runs.c.run_id, r.c.occurred_at == open_runs.c.latest),
            )
        )
        .where(r.c.to_state_type == RUNNING, or_(r.c.run_kind != "flow", ~busy))
    )
    found = [
        StuckRun(
            run_kind=kind,
            name=name,
            run_id=run_id,
            flow_run_id=flow_run_id,
            state=state,
            since=since,
            minutes=round((scope.end - since).total_seconds() / 60, 1),
        )
        for kind, name, run_id, flow_run_id, state, since in connection.execute(query)
    ]
    return sorted(found, key=lambda run: (run.since, run.run_kind, run.run_id))
