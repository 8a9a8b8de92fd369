"""Database fixtures for any test: ``database_url`` (SQLite and PostgreSQL) and ``postgres_url``.

Import them into a conftest::

    from tests.db_fixtures import database_url, postgres_url  # noqa: F401  (fixtures)

PostgreSQL is this machine's (127.0.0.1:5432, trust auth, user ``postgres``); each test
gets a database of its own, created from ``test`` and dropped afterwards. Where the server
cannot be reached, the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.scratch_db import PG_ADMIN, PG_HOST, PG_PORT, create_database, drop_database, url_of

__all__ = ["PG_HOST", "PG_PORT", "database_url", "drop_database", "postgres_admin", "postgres_url"]


def postgres_admin() -> psycopg.Connection:
    """An autocommit connection to the ``test`` database as ``postgres``; the calling test
    skips, saying why, where the server cannot be reached."""
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True)
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {exc}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a freshly created, empty PostgreSQL database (dropped afterwards)."""
    admin = postgres_admin()
    with admin:
        name = create_database(admin, "failtrack_t")
        try:
            yield url_of(name)
        finally:
            drop_database(admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty audit database: a SQLite file, then a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'failtrack.db'}"
    return request.getfixturevalue("postgres_url")
