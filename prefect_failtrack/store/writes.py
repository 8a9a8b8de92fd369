"""Idempotent writes, shared by the recorder and reconcile.

Transitions: insert, ignoring any conflict (the primary key, or the natural
key run/state/run count), so a repeated row is a no-op on SQLite and
PostgreSQL alike. Summaries: upsert on the flow run id, the newest
``updated_at`` winning, or insert-if-missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite

from .models import FailtrackModel, FlowRunSummary, Transition, UTCDateTime, flow_runs, transitions


class Columns:
    """Turns a submitted or spooled row into a complete row for one table."""

    def __init__(self, table: Table, model: type[FailtrackModel]) -> None:
        fields = dict(model.model_fields)
        if "meta" in fields:
            fields["metadata"] = fields.pop("meta")
        self.names = [c.name for c in table.c]
        self.empty = dict.fromkeys(self.names)
        self.defaults: list[tuple[str, Callable[[], Any]]] = []
        for name in self.names:
            field = fields.get(name)
            if field is not None and field.default_factory is not None:
                self.defaults.append((name, field.default_factory))  # type: ignore[arg-type]
            elif field is not None and field.default is not None and not field.is_required():
                self.defaults.append((name, lambda value=field.default: value))
        self.timestamps = [c.name for c in table.c if isinstance(c.type, UTCDateTime)]

    def normalize(self, row: dict[str, Any]) -> dict[str, Any]:
        complete = self.empty.copy()
        complete.update(row)
        if len(complete) > len(self.names):  # keys that are no column
            complete = {name: complete[name] for name in self.names}
        for name, default in self.defaults:
            if complete[name] is None:
                complete[name] = default()
        for name in self.timestamps:
            if isinstance(complete[name], str):
                complete[name] = datetime.fromisoformat(complete[name])
        return complete


TRANSITION_COLUMNS = Columns(transitions, Transition)
SUMMARY_COLUMNS = Columns(flow_runs, FlowRunSummary)
_statements: dict[tuple[str, bool], tuple[Insert, Insert]] = {}


def statements(dialect: str, replace_summaries: bool = True) -> tuple[Insert, Insert]:
    """(insert transitions ignoring conflicts, upsert or insert-if-missing summaries)."""
    key = (dialect, replace_summaries)
    if key not in _statements:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        summaries = insert(flow_runs)
        if replace_summaries:
            updates = {c.name: summaries.excluded[c.name] for c in flow_runs.c if not c.primary_key}
            summaries = summaries.on_conflict_do_update(
                index_elements=[flow_runs.c.flow_run_id],
                set_=updates,
                where=flow_runs.c.updated_at <= summaries.excluded.updated_at,
            )
        else:
            summaries = summaries.on_conflict_do_nothing()
        _statements[key] = (insert(transitions).on_conflict_do_nothing(), summaries)
    return _statements[key]


def insert_transitions(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert transition rows; rows already present (by id or natural key) are skipped."""
    if rows:
        statement, _ = statements(connection.dialect.name)
        connection.execute(statement, [TRANSITION_COLUMNS.normalize(r) for r in rows])


def insert_summaries(
    connection: Connection, rows: Sequence[dict[str, Any]], *, replace: bool = False
) -> None:
    """Write flow run summaries: upsert (newest wins) with `replace`, else only where missing."""
    if rows:
        _, statement = statements(connection.dialect.name, replace)
        connection.execute(statement, [SUMMARY_COLUMNS.normalize(r) for r in rows])
