"""The recorder's database side: engine and schema, batches written, failures told apart.

Imported by the recorder's writer thread when it first writes, never by the pipeline's
thread: SQLAlchemy, the models and (only when the schema must change) Alembic load
there, off the pipeline's critical path.

A failed write is one of three things, and each is handled differently:

- an **outage** (`Outage`): the database cannot be reached; rows go to the spool and
  are replayed when it answers again;
- **bad rows** (`is_bad_data`): the database refused some rows (a constraint, a value);
  the batch is written row by row and the refused ones are counted and reported;
- a **schema problem** (`SchemaProblem`): the tables do not match failtrack's (made by
  hand, a column dropped, an old or newer revision); no retry fixes it. Rows go to the
  spool, the problem is reported once with the command that fixes it, and the schema is
  checked again now and then, quietly, until it matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from prefect_failtrack.store import summaries, writes
from prefect_failtrack.store.database import (
    SchemaProblem,
    ensure_schema,
    forget_schema,
    get_engine,
    safe_url,
)
from prefect_failtrack.store.spool import Entry

TRANSITION = "transition"
SUMMARY = "summary"
HEARTBEAT = "heartbeat"

# SQLSTATE 42703 undefined_column, 42P01 undefined_table (PostgreSQL); SQLite's wording.
_SCHEMA_SQLSTATES = {"42703", "42P01"}
_SQLITE_SCHEMA = re.compile(r"no such (?:table|column)|has no column named", re.IGNORECASE)


def engine_for(url: str) -> Engine:
    """The engine for `url`, its schema checked (`ensure_schema`) once per process."""
    ensure_schema(url)
    return get_engine(url)


def execute(connection: Connection, batch: Sequence[Entry]) -> None:
    """Write one batch in the caller's transaction: transitions (and the summaries they
    change), then summaries handed over as such, then the processes' heartbeats."""
    from prefect_failtrack.liveness.writes import write_heartbeats
    from prefect_failtrack.store.driver import Driver

    writes.insert_transitions(connection, [row for kind, row in batch if kind == TRANSITION])
    writes.insert_summaries(
        connection, [row for kind, row in batch if kind == SUMMARY], replace=True
    )
    beats = [row for kind, row in batch if kind == HEARTBEAT]
    if beats:
        write_heartbeats(Driver.of_sqlalchemy(connection), beats)


def store_one_by_one(
    engine: Engine, batch: Sequence[Entry],
    execute_one: Callable[[Connection, Sequence[Entry]], None],
) -> list[BaseException]:
    """Write each entry in a transaction of its own; the errors of the rows refused.
    An error that is not about the row (an outage, the schema) goes on."""
    refused: list[BaseException] = []
    for entry in batch:
        try:
            with engine.begin() as connection:
                execute_one(connection, [entry])
        except Exception as exc:
            if not is_bad_data(exc):
                raise
            refused.append(exc)
    return refused


def is_bad_data(exc: BaseException) -> bool:
    """A row problem (constraint, type, value) rather than a database that cannot be reached
    or a schema that does not match."""
    if is_schema_error(exc):
        return False
    if isinstance(exc, IntegrityError | DataError):
        return True
    if isinstance(exc, StatementError):
        return not isinstance(exc, DBAPIError)
    return isinstance(exc, ValueError | TypeError)


def is_schema_error(exc: BaseException) -> bool:
    """The statement names a table or column the database does not have."""
    if isinstance(exc, SchemaProblem):
        return True
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _SCHEMA_SQLSTATES:
        return True
    return type(orig).__module__ == "sqlite3" and bool(_SQLITE_SCHEMA.search(str(orig)))


def schema_problem(url: str, exc: BaseException) -> SchemaProblem:
    """`exc` as a `SchemaProblem` that says how to fix it; the schema is checked anew next."""
    forget_schema(url)
    if isinstance(exc, SchemaProblem):
        return exc
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return SchemaProblem(
        f"the audit database {safe_url(url)} does not match failtrack's schema: "
        f"{describe(cause)}. Fix it with: failtrack db upgrade --url {safe_url(url)!r}"
    )


def describe(exc: BaseException) -> str:
    """The error in one line: the driver's own message, without SQLAlchemy's SQL and parameters."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}".rstrip(": ")


class SqlalchemyWriter:
    """The recorder's writer for databases the driver-level path (`direct`) does not
    write: any SQLAlchemy URL failtrack supports."""

    def __init__(self, url: str) -> None:
        self.url = url

    def check(self) -> None:
        engine_for(self.url)

    def write(self, batch: Sequence[Entry]) -> None:
        with engine_for(self.url).begin() as connection:
            execute(connection, batch)

    def write_each(self, batch: Sequence[Entry]) -> list[BaseException]:
        return store_one_by_one(engine_for(self.url), batch, execute)

    def view(self, flow_run_id: str) -> summaries.FlowRunView:
        return read_view(self.url, flow_run_id)

    def spent(self, run_id: str) -> dict[str, int]:
        return count_spent(self.url, run_id)

    def kind_of(self, exc: BaseException) -> str:
        if is_schema_error(exc):
            return "schema"
        return "bad_data" if is_bad_data(exc) else "outage"

    def close(self) -> None:
        return None


def read_view(url: str, flow_run_id: str) -> summaries.FlowRunView:
    """The flow run's view, read from the table (`summaries.views`)."""
    from prefect_failtrack.store.driver import Driver

    with engine_for(url).connect() as connection:
        return summaries.views(Driver.of_sqlalchemy(connection), [flow_run_id])[flow_run_id]


def count_spent(url: str, run_id: str) -> dict[str, int]:
    """Retries already spent on a run, per class (an attempt that lands in another process
    finds its budget here)."""
    from prefect_failtrack.store.driver import Driver

    with engine_for(url).connect() as connection:
        return summaries.spent(Driver.of_sqlalchemy(connection), run_id)


__all__ = [
    "SUMMARY",
    "SqlalchemyWriter",
    "TRANSITION",
    "count_spent",
    "describe",
    "engine_for",
    "execute",
    "is_bad_data",
    "is_schema_error",
    "read_view",
    "schema_problem",
    "store_one_by_one",
]
