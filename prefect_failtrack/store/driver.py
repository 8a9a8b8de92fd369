"""SQL at the driver's level, shared by both write paths: values in, rows out.

failtrack writes through SQLAlchemy where it is loaded anyway (reconcile, the CLI, the
reports, other drivers), and through the driver alone in the recorder's writer thread
(`direct`: a flow-run process need not load SQLAlchemy, issue 18). The few statements
both need for summaries (`summaries`) are written once, here, against a DB-API cursor:
SQLite's ``sqlite3`` or PostgreSQL's psycopg, whose values differ only in how
timestamps, JSON and booleans travel (`Driver.encode`, `Driver.decode`).

Values are stored exactly as SQLAlchemy stores them (``tests/store/test_direct_writes.py``):
on SQLite, naive UTC timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff`` text and JSON as text;
on PostgreSQL, ``timestamptz`` and ``jsonb``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from .columns import BOOLEAN_COLUMNS, JSON_COLUMNS, TIMESTAMP_COLUMNS
from .encoding import json_dumps


def sqlite_timestamp(value: datetime | None) -> str | None:
    """A timestamp as SQLAlchemy's SQLite ``DATETIME`` stores it, naive UTC."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


class Driver:
    """A DB-API connection of one dialect (``sqlite`` or ``postgresql``), and its placeholder."""

    def __init__(self, connection: Any, dialect: str, placeholder: str) -> None:
        self.connection = connection
        self.dialect = dialect
        self.placeholder = placeholder

    @classmethod
    def of_sqlalchemy(cls, connection: Any) -> Driver:
        """The DB-API connection under a SQLAlchemy ``Connection`` (same transaction)."""
        dialect = connection.dialect
        placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
        return cls(connection.connection.dbapi_connection, dialect.name, placeholder)

    def marks(self, n: int) -> str:
        return ", ".join([self.placeholder] * n)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
        finally:
            cursor.close()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.executemany(sql, [tuple(row) for row in rows])
        finally:
            cursor.close()

    # -- values ------------------------------------------------------------------------

    def encode(self, column: str, value: Any) -> Any:
        """A Python value as this driver sends it for `column`."""
        if value is None:
            return None
        if column in JSON_COLUMNS:
            return json_dumps(value)
        if column in TIMESTAMP_COLUMNS:
            if not isinstance(value, datetime):
                raise TypeError(f"cannot store {value!r} in {column}: not a timestamp")
            if self.dialect == "sqlite":
                return sqlite_timestamp(value)
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if column in BOOLEAN_COLUMNS and self.dialect == "sqlite":
            return int(bool(value))
        return value

    def decode(self, column: str, value: Any) -> Any:
        """A value as this driver returns it for `column`, as SQLAlchemy would."""
        if value is None:
            return None
        if column in JSON_COLUMNS and isinstance(value, str | bytes):
            return json.loads(value)
        if column in TIMESTAMP_COLUMNS:
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            if isinstance(value, datetime):
                return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if column in BOOLEAN_COLUMNS:
            return bool(value)
        return value

    def rows(self, columns: Sequence[str], found: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
        """Fetched tuples as dicts of decoded values."""
        return [
            {name: self.decode(name, value) for name, value in zip(columns, row, strict=True)}
            for row in found
        ]
