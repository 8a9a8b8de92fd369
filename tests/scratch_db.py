"""Scratch PostgreSQL databases on this machine's server, for tests, drills and benches.

One created per test (or drill, or bench) and dropped afterwards. ``STRATEGY FILE_COPY``
copies the small template's files instead of writing them all to the WAL (PostgreSQL
15's default, ``WAL_LOG``): about 0.05 s a database here instead of 0.22 s, hundreds of
times per test session. Imports nothing but psycopg (no pytest: the drills and the
benches are plain scripts).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN = f"host={PG_HOST} port={PG_PORT} dbname=test user=postgres connect_timeout=5"


def create_database(admin: object, prefix: str) -> str:
    """A new, empty database named `prefix`_<random>, created through `admin` (autocommit)."""
    from psycopg import sql

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(  # type: ignore[attr-defined]
        sql.SQL("CREATE DATABASE {} STRATEGY FILE_COPY").format(sql.Identifier(name))
    )
    return name


def drop_database(admin: object, name: str) -> None:
    """Drop the database `name` if it exists, its connections closed."""
    from psycopg import sql

    admin.execute(  # type: ignore[attr-defined]
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def url_of(name: str) -> str:
    return f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A fresh, empty database (its SQLAlchemy URL); failtrack's engines disposed and the
    database dropped afterwards."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        name = create_database(admin, prefix)
    try:
        yield url_of(name)
    finally:
        from prefect_failtrack.store.database import dispose_engines

        dispose_engines()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            drop_database(admin, name)
