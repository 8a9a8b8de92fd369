"""The recorder's own path to the database: the driver and a handful of statements.

A worker-launched flow run is a process of its own, and what failtrack loads there is
paid by every run (issue 18: a one-task flow took 1.31× as long as a plain one, and 32
MiB more memory, most of it SQLAlchemy, SQLModel and Alembic). The recorder's writer
thread only ever inserts transitions, upserts summaries and reads a flow run's rows
back; this module does that with ``sqlite3`` or psycopg 3 alone, writing exactly what
the SQLAlchemy path writes (``tests/store/test_direct_writes.py`` compares them).

SQLAlchemy is still what creates and upgrades the schema (Alembic, on the first write to
a database that is not at `HEAD_REVISION`), what reconcile, reports and the CLI use, and
what writes for other drivers (`Direct.for_url` answers ``None`` for them).

A failed write is told apart as in `sink`: ``"outage"`` (cannot reach the database),
``"bad_data"`` (refused rows) or ``"schema"`` (tables that do not match).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..liveness.writes import write_heartbeats
from . import summaries
from .columns import (
    FLOW_RUNS,
    HEAD_REVISION,
    SUMMARY_COLUMNS,
    TRANSITION_COLUMNS,
    TRANSITIONS,
    VERSION_TABLE,
    complete,
)
from .driver import Driver
from .encoding import storable, utcnow
from .observed import replace_observed

SQLITE_BUSY_TIMEOUT_S = 5.0
_SQLITE_SCHEMA = re.compile(r"no such (?:table|column)|has no column named", re.IGNORECASE)
_SCHEMA_SQLSTATES = {"42703", "42P01"}  # undefined_column, undefined_table


class NotAtHead(Exception):
    """The tables are missing or at another revision: Alembic must bring them to head."""


class Direct:
    """Writes batches of ``(kind, row)`` entries to one SQLite or PostgreSQL database."""

    def __init__(self, url: str, dialect: str, connect: dict[str, Any]) -> None:
        self.url = url
        self.dialect = dialect
        self._connect_args = connect
        self._connection: Any = None
        self._lock = threading.Lock()

    @classmethod
    def for_url(cls, url: str) -> Direct | None:
        """A direct writer for `url`: SQLite files and PostgreSQL with psycopg 3; ``None``
        for anything else (the SQLAlchemy path writes those)."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme == "sqlite":
            path = unquote(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else ""
            if not path or path == ":memory:" or parts.query:
                return None
            return cls(url, "sqlite", {"database": path})
        if scheme in ("postgresql+psycopg", "postgres+psycopg"):
            query = dict(parse_qsl(parts.query))
            connect = {
                "host": parts.hostname or None,
                "port": parts.port or None,
                "user": unquote(parts.username) if parts.username else None,
                "password": unquote(parts.password) if parts.password else None,
                "dbname": unquote(parts.path.lstrip("/")) or None,
                **query,
            }
            return cls(url, "postgresql", {k: v for k, v in connect.items() if v is not None})
        return None

    # -- connections -------------------------------------------------------------------

    def _open(self) -> Any:
        if self.dialect == "sqlite":
            import sqlite3
            from pathlib import Path

            path = Path(self._connect_args["database"]).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                str(path), timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None,
                check_same_thread=False,
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            return connection
        import psycopg

        return psycopg.connect(**self._connect_args, autocommit=True, connect_timeout=10)

    def _driver(self, connection: Any) -> Driver:
        return Driver(connection, self.dialect, "?" if self.dialect == "sqlite" else "%s")

    def _begin(self, connection: Any) -> None:
        connection.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")

    def _run(self, work: Any) -> Any:
        """`work(driver)` in one transaction on the writer's connection, opened at first use
        and dropped after a failure (the next call connects anew)."""
        with self._lock:
            if self._connection is None:
                self._connection = self._open()
            connection = self._connection
            try:
                self._begin(connection)
                result = work(self._driver(connection))
                connection.execute("COMMIT")
                return result
            except BaseException:
                self._drop(connection)
                raise

    def _drop(self, connection: Any) -> None:
        try:
            connection.execute("ROLLBACK")
        except Exception:
            pass
        try:
            connection.close()
        except Exception:
            pass
        self._connection = None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._drop(self._connection)

    # -- schema ------------------------------------------------------------------------

    def check(self) -> None:
        """The tables are at `HEAD_REVISION` with every column; `NotAtHead` if they are
        missing or at another revision, ``"schema"``-kind errors if columns are missing."""

        def read(driver: Driver) -> None:
            if not self._has_table(driver, VERSION_TABLE):
                raise NotAtHead("no failtrack tables")
            found = driver.query(f"SELECT version_num FROM {VERSION_TABLE}")
            if not found or found[0][0] != HEAD_REVISION:
                raise NotAtHead(f"at revision {found[0][0] if found else None!r}")
            columns = ", ".join(TRANSITION_COLUMNS)
            driver.query(f"SELECT {columns} FROM {TRANSITIONS} WHERE 1 = 0")
            driver.query(f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM {FLOW_RUNS} WHERE 1 = 0")

        self._run(read)

    def _has_table(self, driver: Driver, name: str) -> bool:
        if self.dialect == "sqlite":
            sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        else:
            sql = "SELECT 1 FROM information_schema.tables WHERE table_name = %s " \
                  "AND table_schema = current_schema()"
        return bool(driver.query(sql, [name]))

    # -- writes and reads --------------------------------------------------------------

    def write(self, batch: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """One batch in one transaction: transitions (skipping those already there), then
        the summaries handed over, then the summaries the transitions change, then the
        processes' heartbeats."""
        transitions = [row for kind, row in batch if kind == "transition"]
        handed = [row for kind, row in batch if kind == "summary"]
        beats = [row for kind, row in batch if kind == "heartbeat"]

        def work(driver: Driver) -> None:
            self._insert(driver, transitions)
            summaries.upsert(driver, handed)
            if transitions:
                summaries.refresh(driver, summaries.touched(driver, transitions))
            write_heartbeats(driver, beats)

        self._run(work)

    def _insert(self, driver: Driver, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        replace_observed(driver, rows)
        now = utcnow()
        complete_rows = sorted(
            (storable(complete(TRANSITIONS, row, now)) for row in rows),
            key=lambda r: (str(r["run_id"]), str(r["to_state"]), str(r["run_count"])),
        )
        values = [[driver.encode(c, r[c]) for c in TRANSITION_COLUMNS] for r in complete_rows]
        names = ", ".join(TRANSITION_COLUMNS)
        sql = (
            f"INSERT INTO {TRANSITIONS} ({names}) VALUES ({driver.marks(len(TRANSITION_COLUMNS))}) "
            "ON CONFLICT DO NOTHING"
        )
        if self.dialect == "postgresql" and len(values) >= COPY_FROM_ROWS:
            _copy(driver, values)
        else:
            driver.executemany(sql, values)

    def write_each(self, batch: Sequence[tuple[str, dict[str, Any]]]) -> list[BaseException]:
        """Each entry in a transaction of its own; the errors of the rows refused. An error
        that is not about the row (an outage, the schema) goes on."""
        refused: list[BaseException] = []
        for entry in batch:
            try:
                self.write([entry])
            except Exception as exc:
                if self.kind_of(exc) != "bad_data":
                    raise
                refused.append(exc)
        return refused

    def view(self, flow_run_id: str) -> summaries.FlowRunView:
        return self._run(lambda driver: summaries.views(driver, [flow_run_id])[flow_run_id])

    def spent(self, run_id: str) -> dict[str, int]:
        return self._run(lambda driver: summaries.spent(driver, run_id))

    # -- what went wrong ---------------------------------------------------------------

    def kind_of(self, exc: BaseException) -> str:
        """``"schema"``, ``"bad_data"`` or ``"outage"``."""
        module = type(exc).__module__
        if module == "sqlite3":
            text = str(exc)
            if _SQLITE_SCHEMA.search(text):
                return "schema"
            name = type(exc).__name__
            if name in ("IntegrityError", "DataError", "InterfaceError", "ProgrammingError"):
                return "bad_data"
            return "outage"
        if module.startswith("psycopg"):
            if getattr(exc, "sqlstate", None) in _SCHEMA_SQLSTATES:
                return "schema"
            import psycopg

            if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):
                return "bad_data"
            return "outage"
        if isinstance(exc, ValueError | TypeError | OverflowError | UnicodeError):
            return "bad_data"
        return "outage"


COPY_FROM_ROWS = 20
"""PostgreSQL: fewer rows than this go in with one ``executemany``, more with ``COPY``."""
STAGING = "failtrack_incoming_transitions"


def _copy(driver: Driver, values: list[list[Any]]) -> None:
    copy_transitions(driver.connection, TRANSITION_COLUMNS, lambda: values)


def copy_transitions(
    connection: Any, names: Sequence[str], rows: Callable[[], Iterable[Sequence[Any]]]
) -> None:
    """``COPY`` rows into the transitions table with psycopg 3, in the caller's transaction:
    straight into the table in a savepoint (the common case, all rows new, at the speed of
    ``COPY``); if some rows are there already, into a temporary table instead, then
    inserted from it where new, in the order writers sort by (Python's: code points), so
    that concurrent writers of overlapping rows never deadlock. `rows` makes the value
    rows (again, for the second try): a batch of thousands is never held twice. Both
    write paths use it (`writes.BulkInsert` with SQLAlchemy's values)."""
    import psycopg

    columns = ", ".join(names)
    order = 'run_id COLLATE "C", to_state COLLATE "C", run_count::text COLLATE "C"'
    with connection.cursor() as cursor:
        try:
            with connection.transaction():  # a savepoint in the caller's transaction
                _copy_rows(cursor, f"COPY {TRANSITIONS} ({columns}) FROM STDIN", rows())
            return
        except psycopg.errors.UniqueViolation:
            pass
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} "
            f"(LIKE {TRANSITIONS} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        _copy_rows(cursor, f"COPY {STAGING} ({columns}) FROM STDIN", rows())
        cursor.execute(
            f"INSERT INTO {TRANSITIONS} ({columns}) SELECT {columns} FROM {STAGING} "
            f"ORDER BY {order} ON CONFLICT DO NOTHING"
        )


def _copy_rows(cursor: Any, statement: str, rows: Iterable[Sequence[Any]]) -> None:
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
