"""Fixtures for the report tests: an audit database (SQLite, then PostgreSQL) holding a known history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
from tests.db_fixtures import database_url, postgres_url  # noqa: F401  (fixtures)
from tests.reports.history import History, known_history


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:  # noqa: F811
    """An engine on an empty, migrated audit database; disposed after the test."""
    ensure_schema(database_url)
    yield get_engine(database_url)
    dispose_engines()


@pytest.fixture
def history(engine: Engine) -> History:
    """The known history of `tests.reports.history`, written to `engine`'s database."""
    return known_history().write(engine)
