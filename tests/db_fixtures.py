"""Database fixtures for any test: ``database_url`` (SQLite and PostgreSQL) and ``postgres_url``.

Import them into a conftest::

    from tests.db_fixtures import database_url, postgres_url  # noqa: F401  (fixtures)

PostgreSQL is this machine's (127.0.0.1:5432, trust auth, user ``postgres``); each test
gets a database of its own, created from ``test`` and dropped afterwards. Where the server
cannot be reached, the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN = f"host={PG_HOST} port={PG_PORT} dbname=test user=postgres connect_timeout=5"


def postgres_admin() -> psycopg.Connection:
    """An autocommit connection to the ``test`` database as ``postgres``; the calling test
    skips, saying why, where the server cannot be reached."""
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True)
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {exc}")


def drop_database(admin: psycopg.Connection, name: str) -> None:
    """Drop the database `name` if it exists, its connections closed."""
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a freshly created, empty PostgreSQL database (dropped afterwards)."""
    admin = postgres_admin()
    name = f"failtrack_t_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
        finally:
            drop_database(admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty audit database: a SQLite file, then a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'failtrack.db'}"
    return request.getfixturevalue("postgres_url")
