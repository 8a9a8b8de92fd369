"""A batch of events into the audit store, in one transaction: rows, outbox, position.

Rows go through the store's own path (`prefect_failtrack.store.sink.execute`, the one the
recorder's database sink writes with): idempotent on ids and natural keys, summaries
derived from the rows, any row kind the sink knows. So the collector, the direct mode,
spool replays and reconcile never store a transition twice, whichever comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prefect.events.schemas.events import Event
from prefect.logging import get_logger
from sqlalchemy import Engine

from ..store import sink
from ..store.encoding import utcnow
from ..store.columns import OBSERVED
from ..store.spool import Entry
from ..transport.envelope import from_event
from . import position
from .observe import Durations, observed_rows

logger = get_logger("prefect_failtrack.collector")
FAILED_TYPES = {"FAILED", "CRASHED"}


@dataclass
class Stored:
    """What storing events did."""

    events: int = 0
    rows: int = 0
    observed: int = 0
    ignored: int = 0
    refused: int = 0
    noted: set[str] = field(default_factory=set)

    def add(self, other: Stored) -> None:
        self.events += other.events
        self.rows += other.rows
        self.observed += other.observed
        self.ignored += other.ignored
        self.refused += other.refused
        self.noted |= other.noted


def entries_of(
    events: Sequence[Event], *, observe: bool, durations: Durations | None = None
) -> tuple[list[Entry], Stored]:
    """The store entries of `events`: failtrack's rows, and with `observe` the rows of
    Prefect's state events; the failed flow runs whose summary is to be published."""
    entries: list[Entry] = []
    stored = Stored(events=len(events))
    for event in events:
        decoded = from_event(event)
        if decoded is not None:
            kind, row = decoded
            entries.append((kind, row))
            if _publishable(kind, row):
                stored.noted.add(str(row["run_id"]))
            continue
        found = observed_rows(event, durations) if observe else []
        if not found:
            stored.ignored += 1
            continue
        entries.extend(("transition", row) for row in found)
        stored.observed += len(found)
    stored.rows = len(entries)
    return entries, stored


def _publishable(kind: str, row: dict[str, Any]) -> bool:
    """A tracked flow run's failed final row: its failure summary is the collector's to
    publish (its process had no store to read it from)."""
    return (
        kind == sink.TRANSITION
        and row.get("run_kind") == "flow"
        and row.get("to_state_type") in FAILED_TYPES
        and row.get("capture") != OBSERVED
        and bool(row.get("run_id"))
    )


def link_subflows(connection: Any, entries: Sequence[Entry]) -> None:
    """Observed subflow rows name their parent task run only (Prefect's flow run events
    relate the task run that stands for the subflow): their parent flow run is that task
    run's, as stored (or in the same batch)."""
    wanted = {
        str(row["parent_task_run_id"]): row
        for kind, row in entries
        if kind == sink.TRANSITION
        and row.get("run_kind") == "flow"
        and row.get("parent_task_run_id")
        and not row.get("parent_flow_run_id")
    }
    if not wanted:
        return
    from sqlalchemy import select

    from ..store.models import transitions

    known = {
        str(row["run_id"]): row.get("flow_run_id")
        for kind, row in entries
        if kind == sink.TRANSITION and row.get("run_kind") == "task"
    }
    missing = sorted(set(wanted) - set(known))
    if missing:
        t = transitions.c
        query = select(t.run_id, t.flow_run_id).where(t.run_id.in_(missing)).distinct()
        known.update({str(r.run_id): r.flow_run_id for r in connection.execute(query)})
    for kind, row in entries:
        parent = row.get("parent_task_run_id") if kind == sink.TRANSITION else None
        if parent and not row.get("parent_flow_run_id") and known.get(str(parent)):
            row["parent_flow_run_id"] = known[str(parent)]


def store_events(
    engine: Engine,
    events: Sequence[Event],
    *,
    name: str,
    observe: bool,
    publish_delay: float = 2.0,
    durations: Durations | None = None,
) -> Stored:
    """Store `events` and move collector `name`'s position past them, all or nothing.
    A row the database refuses is counted and reported; the others are stored."""
    if not events:
        return Stored()
    entries, stored = entries_of(events, observe=observe, durations=durations)
    last = max(events, key=lambda e: (e.occurred, str(e.id)))
    due = utcnow() + timedelta(seconds=publish_delay)

    def write(connection: Any, batch: Sequence[Entry]) -> None:
        link_subflows(connection, batch)
        sink.execute(connection, batch)

    try:
        with engine.begin() as connection:
            write(connection, entries)
            position.note(connection, stored.noted, due)
            position.advance(connection, name, last.occurred, str(last.id), len(events))
        return stored
    except Exception as exc:
        if not sink.is_bad_data(exc):
            raise
    refused = sink.store_one_by_one(engine, entries, write)
    stored.refused = len(refused)
    logger.warning(
        "failtrack collect: the audit database refused %d row(s); they are not kept. "
        "First error: %s",
        len(refused),
        sink.describe(refused[0]) if refused else "-",
    )
    with engine.begin() as connection:
        position.note(connection, stored.noted, due)
        position.advance(connection, name, last.occurred, str(last.id), len(events))
    return stored
