"""What a report looks at: a time window and optional filters, as SQL conditions.

Filters narrow every figure of a report alike:

- ``flow``: the flow's name (``flow_name``, on task rows too);
- ``task``: task rows of that name only; flow runs that ran such a task;
- ``deployment``: ``deployment_id``;
- ``tag``: the JSON ``tags`` list contains the tag exactly (JSONB ``@>`` on PostgreSQL,
  ``json_each`` on SQLite: no substring matches, any characters);
- ``origin``: rows with that origin; flow runs that have such rows;
- ``capture``: ``tracked`` (failtrack's hooks wrote the rows) or ``observed`` (the
  collector made them from Prefect's own state events, for runs failtrack does not
  track); on summaries, their own ``capture``.

Flow run figures read the run summaries (``failtrack_flow_runs``); ``task`` and ``origin``
apply to them through their transitions.

Query plans: PostgreSQL picks its plans from statistics. SQLite has no statistics on
ranges and always reads a time window through the ``occurred_at`` index, then looks up
and sorts what it found; over a window that holds much of the table, that is several
times slower than streaming a covering index in GROUP BY order. So, on SQLite and for a
wide window only (`Scope.prepare`), the window is compared on ``coalesce(occurred_at,
occurred_at)``: the same value, which no index serves, and SQLite picks the covering
index of the query instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    exists,
    func,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import FromClause

from ..store.models import flow_runs, transitions

TERMINAL_TYPES = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
FAILED_TYPES = ("FAILED", "CRASHED")
FILTERS = ("flow", "task", "deployment", "tag", "origin", "capture")
CAPTURES = ("tracked", "observed")
WIDE = 0.2
"""A window that spans this share of the table's time span or more is wide."""


def utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (naive ones are taken to be UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Scope:
    """A half-open window ``[start, end)`` and the filters of one report."""

    start: datetime
    end: datetime
    dialect: str
    flow: str | None = None
    task: str | None = None
    deployment: str | None = None
    tag: str | None = None
    origin: str | None = None
    capture: str | None = None
    wide: bool = False

    @classmethod
    def of(
        cls, engine: Engine, since: timedelta, until: datetime | None, **filters: str | None
    ) -> Scope:
        """The scope of a report over `since` up to `until` (default: now)."""
        end = utc(until) if until is not None else datetime.now(UTC)
        return cls(start=end - since, end=end, dialect=engine.dialect.name, **filters)

    def prepare(self, connection: Connection) -> Scope:
        """This scope, told whether its window is wide (only SQLite needs to know)."""
        self.ready(connection)
        if self.dialect != "sqlite":
            return self
        at = transitions.c.occurred_at  # one aggregate per query: each is an index lookup
        first = connection.execute(select(func.min(at))).scalar()
        last = connection.execute(select(func.max(at))).scalar()
        if first is None or last is None:
            return self
        span = (last - first).total_seconds()
        covered = (min(self.end, last) - max(self.start, first)).total_seconds()
        return replace(self, wide=span <= 0 or covered >= WIDE * span)

    def ready(self, connection: Connection) -> None:
        """Ready `connection` for the report's queries.

        PostgreSQL: no JIT compilation in this transaction. The planner's estimates for
        these sub-second queries grow past ``jit_above_cost`` with the table, and compiling
        then costs more than the query (0.3 to 1 s measured at a million rows).
        """
        if self.dialect == "postgresql":
            connection.exec_driver_sql("SET LOCAL jit = off")

    @property
    def filters(self) -> dict[str, str]:
        """The filters that are set, by name."""
        return {name: value for name in FILTERS if (value := getattr(self, name)) is not None}

    def in_window(self, column: Any) -> ColumnElement[bool]:
        """`column` falls in the window (compared so that no index serves it when wide)."""
        if self.wide:
            column = func.coalesce(column, column)
        return and_(column >= self.start, column < self.end)

    def rows(self, t: FromClause = transitions) -> list[ColumnElement[bool]]:
        """Conditions on transition rows (of `t`, an alias of the table) for the filters."""
        c = t.c
        conditions: list[ColumnElement[bool]] = []
        if self.flow is not None:
            conditions.append(c.flow_name == self.flow)
        if self.task is not None:
            conditions += [c.run_kind == "task", c.name == self.task]
        if self.deployment is not None:
            conditions.append(c.deployment_id == self.deployment)
        if self.tag is not None:
            conditions.append(self.has_tag(c.tags))
        if self.origin is not None:
            conditions.append(c.origin == self.origin)
        if self.capture is not None:
            conditions.append(c.capture == self.capture)
        return conditions

    def runs(self) -> list[ColumnElement[bool]]:
        """Conditions on run summaries for the filters."""
        c = flow_runs.c
        conditions: list[ColumnElement[bool]] = []
        if self.flow is not None:
            conditions.append(c.flow_name == self.flow)
        if self.deployment is not None:
            conditions.append(c.deployment_id == self.deployment)
        if self.tag is not None:
            conditions.append(self.has_tag(c.tags))
        if self.capture is not None:
            conditions.append(c.capture == self.capture)
        if self.task is not None or self.origin is not None:
            t = transitions.alias("scope_rows")
            row_conditions = [t.c.flow_run_id == c.flow_run_id]
            if self.task is not None:
                row_conditions += [t.c.run_kind == "task", t.c.name == self.task]
            if self.origin is not None:
                row_conditions.append(t.c.origin == self.origin)
            conditions.append(exists().where(*row_conditions))
        return conditions

    def has_tag(self, column: Any) -> ColumnElement[bool]:
        """The JSON list in `column` holds the tag (an exact element, not a substring)."""
        if self.dialect == "postgresql":
            return type_coerce(column, JSONB).contains([self.tag])
        elements = func.json_each(column).table_valued("value").alias("scope_tags")
        return select(elements.c.value).where(elements.c.value == self.tag).exists()
