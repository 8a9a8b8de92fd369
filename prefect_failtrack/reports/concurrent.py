"""The report's queries side by side, each on a connection of its own.

The queries of a report do not depend on one another, and the two largest (the
window's profile, each run's latest transition) take about as long each as all the
others together: run side by side, the report takes about as long as its longest
query. Each query sees the database as of its own start, so a report built while
rows arrive may count a transition in one figure and not yet in another.

An engine whose connections do not share one database (SQLite in memory), or that
hands out a single connection, runs the queries one after the other instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

from .scope import Scope

WORKERS = 3

Query = Callable[[Connection, Scope], Any]


def run_queries(engine: Engine, scope: Scope, queries: Mapping[str, Query]) -> dict[str, Any]:
    """Each query's result, by name; side by side where the engine allows it."""

    def run(query: Query) -> Any:
        with engine.connect() as connection:
            scope.ready(connection)
            return query(connection, scope)

    if not _shares_database(engine):
        return {name: run(query) for name, query in queries.items()}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="failtrack-report") as pool:
        futures = {name: pool.submit(run, query) for name, query in queries.items()}
        return {name: future.result() for name, future in futures.items()}


def _shares_database(engine: Engine) -> bool:
    """Whether several connections of `engine` can work at once on the same database."""
    if not isinstance(engine.pool, QueuePool | NullPool):
        return False
    database = engine.url.database or ""
    return not (
        engine.dialect.name == "sqlite"
        and (database in ("", ":memory:") or "mode=memory" in database)
    )
