"""The timeline of one flow run: every transition of it and of its task runs, in order."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session

from .models import Timeline, TimelineEntry
from .outcomes import timeline


def build_timeline(engine: Engine, flow_run_id: str | UUID) -> Timeline:
    """Every transition recorded for `flow_run_id` (empty when none is)."""
    from ..liveness.status import flow_heartbeats

    with Session(engine) as session:
        rows = timeline(session, flow_run_id)
        entries = [TimelineEntry.model_validate(row, from_attributes=True) for row in rows]
        beats = flow_heartbeats(session.connection(), str(flow_run_id))
    return Timeline(flow_run_id=str(flow_run_id), transitions=entries, heartbeats=beats)
