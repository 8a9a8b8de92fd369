"""The collector's own rows: its position in the event stream, and its outbox.

Both are written in the transaction that stores the rows they are about, so a collector
killed at any moment resumes from a position whose rows are stored, and publishes every
failed flow run it noted (`prefect_failtrack.collector.store`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..store.encoding import utcnow
from ..store.models import cursors, outbox


@dataclass(frozen=True)
class Position:
    """The last event a collector stored: when it occurred, its id, how many it stored."""

    name: str
    occurred: datetime | None = None
    event_id: str | None = None
    events: int = 0


def _insert(connection: Connection):  # type: ignore[no-untyped-def]
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def read(connection: Connection, name: str) -> Position:
    c = cursors.c
    found = connection.execute(
        select(c.position, c.event_id, c.events).where(c.name == name)
    ).first()
    if found is None:
        return Position(name)
    return Position(name, found.position, found.event_id, int(found.events or 0))


def advance(
    connection: Connection, name: str, occurred: datetime, event_id: str, stored: int
) -> None:
    """Move the position to `occurred` (never back) and count `stored` more events."""
    c = cursors.c
    now = utcnow()
    statement = _insert(connection)(cursors).values(
        name=name, position=occurred, event_id=event_id, events=stored, updated_at=now
    )
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[c.name],
        set_={"events": c.events + excluded.events, "updated_at": excluded.updated_at},
    )
    connection.execute(statement)
    connection.execute(
        update(cursors)
        .where(c.name == name, (c.position.is_(None)) | (c.position < occurred))
        .values(position=occurred, event_id=event_id)
    )


def note(connection: Connection, flow_run_ids: Iterable[str], due_at: datetime) -> None:
    """Failed flow runs whose failure summary is to be published at `due_at`."""
    values = [
        {"flow_run_id": fid, "due_at": due_at, "attempts": 0} for fid in sorted(set(flow_run_ids))
    ]
    if values:
        connection.execute(_insert(connection)(outbox).on_conflict_do_nothing(), values)


def due(
    connection: Connection, now: datetime | None = None, limit: int = 50
) -> list[tuple[str, int]]:
    """Outbox entries due now: (flow run id, attempts so far)."""
    c = outbox.c
    query = (
        select(c.flow_run_id, c.attempts)
        .where(c.due_at <= (now or utcnow()))
        .order_by(c.due_at)
        .limit(limit)
    )
    return [(row.flow_run_id, int(row.attempts)) for row in connection.execute(query)]


def done(connection: Connection, flow_run_id: str) -> None:
    connection.execute(delete(outbox).where(outbox.c.flow_run_id == flow_run_id))


def later(connection: Connection, flow_run_id: str, due_at: datetime) -> None:
    c = outbox.c
    connection.execute(
        update(outbox)
        .where(c.flow_run_id == flow_run_id)
        .values(due_at=due_at, attempts=c.attempts + 1)
    )
