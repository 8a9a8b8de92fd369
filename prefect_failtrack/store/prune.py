"""Retention: delete transitions and run summaries older than a cut-off (or count them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Engine, delete, func, select

from .models import flow_runs, transitions


class PruneResult(BaseModel):
    """What a prune deleted, or would delete on a dry run."""

    cutoff: datetime
    transitions: int
    summaries: int
    dry_run: bool


def prune(engine: Engine, cutoff: datetime, *, dry_run: bool = False) -> PruneResult:
    """Delete transitions that occurred, and summaries of runs that ended, before `cutoff`.

    A summary without an end time goes by its start, else by its last update.
    """
    old_rows = transitions.c.occurred_at < cutoff
    s = flow_runs.c
    old_runs = func.coalesce(s.ended_at, s.started_at, s.updated_at) < cutoff
    with engine.begin() as connection:
        if dry_run:
            rows = connection.execute(
                select(func.count()).select_from(transitions).where(old_rows)
            ).scalar_one()
            runs = connection.execute(
                select(func.count()).select_from(flow_runs).where(old_runs)
            ).scalar_one()
        else:
            rows = connection.execute(delete(transitions).where(old_rows)).rowcount
            runs = connection.execute(delete(flow_runs).where(old_runs)).rowcount
    return PruneResult(cutoff=cutoff, transitions=rows, summaries=runs, dry_run=dry_run)
