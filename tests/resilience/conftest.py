"""Fixtures for the resilience tests: an empty, migrated audit database (SQLite, then PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
from tests.db_fixtures import database_url, postgres_url  # noqa: F401  (fixtures)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:  # noqa: F811
    """An engine on an empty, migrated audit database; disposed after the test."""
    ensure_schema(database_url)
    yield get_engine(database_url)
    dispose_engines()
