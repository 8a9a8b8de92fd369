"""Idempotent writes, shared by the recorder, reconcile and the collector.

Every value is made storable on both backends first (`encoding.storable`: no NUL, no
lone surrogate, in any text or JSON value), whoever made the row.

Transitions: insert, ignoring any conflict (the primary key, or the natural
key run/state/run count), so a repeated row is a no-op on SQLite and
PostgreSQL alike; then the summaries they change are derived again from the table
(`summaries`). One exception: a tracked row (failtrack's hooks wrote it) replaces an
*observed* row of the same transition (the collector made it from Prefect's own state
event, `prefect_failtrack.collector`): whichever arrives first, the hooks' row wins. The
observed rows are found through a partial index that holds only them, so where nothing
is observed this costs one empty index probe per batch. Summaries: upsert on the flow run id, the newest ``updated_at``
winning, or insert-if-missing.

Batches of transitions take the driver's own bulk path (`BulkInsert`): SQLAlchemy's
per-row parameter handling cost more than SQLite's own work, and PostgreSQL's
``COPY`` is several times faster than any ``INSERT`` (``docs/performance.md``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError

from .driver import sqlite_timestamp
from .encoding import storable, utcnow
from .models import (
    FailtrackModel,
    FlowRunSummary,
    Transition,
    UTCDateTime,
    flow_runs,
    transitions,
)


class Columns:
    """Turns a submitted or spooled row into a complete row for one table."""

    def __init__(self, table: Table, model: type[FailtrackModel]) -> None:
        fields = dict(model.model_fields)
        if "meta" in fields:
            fields["metadata"] = fields.pop("meta")
        self.names = [c.name for c in table.c]
        self.empty = dict.fromkeys(self.names)
        self.defaults: list[tuple[str, Callable[[], Any]]] = []
        self.now_defaults: list[str] = []  # timestamps defaulting to now: one now per batch
        for name in self.names:
            field = fields.get(name)
            if field is not None and field.default_factory is utcnow:
                self.now_defaults.append(name)
            elif field is not None and field.default_factory is not None:
                self.defaults.append((name, field.default_factory))  # type: ignore[arg-type]
            elif field is not None and field.default is not None and not field.is_required():
                self.defaults.append((name, lambda value=field.default: value))
        self.timestamps = [c.name for c in table.c if isinstance(c.type, UTCDateTime)]

    def normalize(self, row: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """The row with every column, storable (`encoding.storable`); `now` (default: now)
        for timestamps that default to now."""
        complete = self.empty.copy()
        complete.update(row)
        if len(complete) > len(self.names):  # keys that are no column
            complete = {name: complete[name] for name in self.names}
        complete = storable(complete)
        for name, default in self.defaults:
            if complete[name] is None:
                complete[name] = default()
        for name in self.now_defaults:
            if complete[name] is None:
                complete[name] = now or utcnow()
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


def insert_transitions(
    connection: Connection, rows: Sequence[dict[str, Any]], *, derive_summaries: bool = True
) -> None:
    """Insert transition rows; rows already present (by id or natural key) are skipped.
    Then, with `derive_summaries`, the summaries these rows change are derived again.

    Rows go in sorted by natural key: concurrent writers of overlapping rows then take
    their locks in the same order, and PostgreSQL has no deadlock to break.
    """
    _insert_transitions(connection, rows)
    if rows and derive_summaries:
        from . import summaries
        from .driver import Driver

        driver = Driver.of_sqlalchemy(connection)
        summaries.refresh(driver, summaries.touched(driver, rows))


def _insert_transitions(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        from .driver import Driver
        from .observed import replace_observed

        replace_observed(Driver.of_sqlalchemy(connection), rows)
        statement, _ = statements(connection.dialect.name)
        now = utcnow()
        ordered = sorted(rows, key=_natural_key)

        def complete(row: dict[str, Any]) -> dict[str, Any]:
            return TRANSITION_COLUMNS.normalize(row, now)

        if len(ordered) < BULK_FROM_ROWS:
            connection.execute(statement, [complete(r) for r in ordered])
        else:
            bulk = BulkInsert.get(connection.dialect, statement, transitions)
            bulk.execute(connection, ordered, complete)


def _natural_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return str(row.get("run_id")), str(row.get("to_state")), str(row.get("run_count"))


def insert_summaries(
    connection: Connection, rows: Sequence[dict[str, Any]], *, replace: bool = False
) -> None:
    """Write flow run summaries: upsert (newest wins) with `replace`, else only where missing.

    Sorted by flow run id, for the same reason as transitions.
    """
    if rows:
        _, statement = statements(connection.dialect.name, replace)
        complete = [SUMMARY_COLUMNS.normalize(r) for r in rows]
        complete.sort(key=lambda r: str(r["flow_run_id"]))
        connection.execute(statement, complete)


BULK_FROM_ROWS = 20
"""Fewer rows than this go through SQLAlchemy's executemany (one statement either way)."""
CHUNK_ROWS = 1000
"""SQLite: rows converted and handed to one ``executemany`` at a time."""


class BulkInsert:
    """An idempotent insert of complete transition rows, through the driver's own bulk path.

    The values are those SQLAlchemy would send (each column type's own bind processor,
    so timestamps and JSON are stored exactly as through ``connection.execute``); what
    is skipped is SQLAlchemy's per-row parameter machinery.

    - SQLite: the compiled ``INSERT ... ON CONFLICT DO NOTHING``, ``executemany``.
    - PostgreSQL with psycopg 3: ``COPY``, in the caller's transaction; where some rows
      are there already, through a temporary table and ``INSERT ... SELECT ... ON
      CONFLICT DO NOTHING`` (see `_copy`). Driver errors are raised as SQLAlchemy's, as
      ``connection.execute`` would (the recorder tells bad rows from outages by them).
    - Anything else: SQLAlchemy's executemany.
    """

    _cache: weakref.WeakKeyDictionary[Dialect, dict[int, BulkInsert]] = weakref.WeakKeyDictionary()

    def __init__(self, dialect: Dialect, statement: Insert, table: Table) -> None:
        self.statement = statement
        self.table = table
        self.names = [c.name for c in table.c]
        self.processors = [
            (i, processor)
            for i, column in enumerate(table.c)
            if (processor := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        self.kind = "generic"
        if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
            compiled = statement.compile(dialect=dialect, column_keys=self.names)
            if list(compiled.positiontup or ()) == self.names:
                self.kind, self.sql = "sqlite", compiled.string
                self.processors = [
                    (i, sqlite_timestamp if _same_output(p, sqlite_timestamp) else p)
                    for i, p in self.processors
                ]
        elif dialect.name == "postgresql" and dialect.driver == "psycopg":
            self.kind = "copy"

    @classmethod
    def get(cls, dialect: Dialect, statement: Insert, table: Table) -> BulkInsert:
        per_dialect = cls._cache.setdefault(dialect, {})
        bulk = per_dialect.get(id(statement))
        if bulk is None or bulk.statement is not statement:
            bulk = per_dialect[id(statement)] = cls(dialect, statement, table)
        return bulk

    def values(self, row: dict[str, Any]) -> list[Any]:
        values = [row[name] for name in self.names]
        for i, processor in self.processors:
            try:
                values[i] = processor(values[i])
            except Exception as error:  # a row that cannot be sent, as SQLAlchemy reports it
                raise StatementError(
                    f"cannot store {values[i]!r} in {self.names[i]}", None, None, error
                ) from error
        return values

    def execute(
        self, connection: Connection, rows: Sequence[dict[str, Any]],
        complete: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        """Insert `rows`, each made complete by `complete` only when its turn comes: a batch
        of thousands is never held twice in memory (``docs/performance.md``)."""
        if self.kind == "sqlite":
            for first in range(0, len(rows), CHUNK_ROWS):
                chunk = rows[first : first + CHUNK_ROWS]
                values = [tuple(self.values(complete(r))) for r in chunk]
                connection.exec_driver_sql(self.sql, values)
        elif self.kind == "copy":
            self._copy(connection, rows, complete)
        else:
            connection.execute(self.statement, [complete(r) for r in rows])

    def _copy(
        self, connection: Connection, rows: Sequence[dict[str, Any]],
        complete: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        """``COPY`` through `direct.copy_transitions` (the recorder's own path uses it too),
        with the values SQLAlchemy would send; driver errors raised as SQLAlchemy's."""
        from .direct import copy_transitions

        dbapi = connection.dialect.loaded_dbapi
        try:
            copy_transitions(
                connection.connection.driver_connection, self.names,
                lambda: (self.values(complete(row)) for row in rows),
            )
        except dbapi.Error as error:
            raise DBAPIError.instance(
                f"COPY {self.table.name}", None, error, dbapi.Error, dialect=connection.dialect
            ) from error


_PROBES = [
    None,
    datetime(2026, 1, 2, 3, 4, 5),
    datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-3))),
]


def _same_output(processor: Callable[[Any], Any], candidate: Callable[[Any], Any]) -> bool:
    try:
        return all(processor(probe) == candidate(probe) for probe in _PROBES)
    except Exception:
        return False
