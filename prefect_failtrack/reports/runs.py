"""Recent flow runs, as their summaries tell them: state, failed tasks by class, when.

Read from ``failtrack_flow_runs`` (one summary per flow run, written when it ends), newest
end first, through the index on ``ended_at`` (or the rates index with ``flow``). A flow run
without a summary (still running, or its process killed before it could write one and not
reconciled yet) is not listed; ``failtrack stuck`` and reconcile are for those.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, func, or_, select

from ..store.models import flow_runs
from .models import RunList, RunSummary
from .scope import Scope


def state_is(state: str) -> ColumnElement[bool]:
    """The summary's final state is `state`: a state type (``FAILED``) or name (``TimedOut``),
    in any case."""
    s = flow_runs.c
    return or_(s.final_state_type == state.upper(), func.lower(s.final_state) == state.lower())


def recent_runs(
    engine: Engine,
    *,
    since: timedelta = timedelta(hours=24),
    until: datetime | None = None,
    flow: str | None = None,
    state: str | None = None,
    limit: int = 20,
) -> RunList:
    """The `limit` flow runs that ended last in the window, of `flow`, in `state`."""
    scope = Scope.of(engine, since, until, flow=flow)
    s = flow_runs.c
    conditions = [scope.in_window(s.ended_at), *scope.runs()]
    if state is not None:
        conditions.append(state_is(state))
    columns = [s[name] for name in RunSummary.model_fields]
    query = select(*columns).where(*conditions).order_by(s.ended_at.desc(), s.flow_run_id)
    with engine.connect() as connection:
        scope.ready(connection)
        total = connection.execute(
            select(func.count()).select_from(flow_runs).where(*conditions)
        ).scalar_one()
        rows = connection.execute(query.limit(limit)).mappings().all()
    filters = scope.filters | ({"state": state} if state is not None else {})
    return RunList(
        window_start=scope.start,
        window_end=scope.end,
        filters=filters,
        total=total,
        runs=[RunSummary.model_validate(dict(row)) for row in rows],
        generated_at=datetime.now(UTC),
    )
