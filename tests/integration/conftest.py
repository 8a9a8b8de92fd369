"""Real Prefect for the integration tests: one test harness (a temporary API server on
SQLite) for the whole session, and an audit database per test on SQLite or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness

from prefect_failtrack.capture import rows
from prefect_failtrack.store.recorder import get_recorder, reset_recorder
from tests.db_fixtures import database_url, postgres_url  # noqa: F401  (fixtures)


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=90):
        yield


def use_database(url: str) -> None:
    """Point failtrack at `url` for what follows (settings and recorder read afresh)."""
    reset_recorder()
    os.environ["PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL"] = url
    rows.settings.cache_clear()


@pytest.fixture
def audit_db(database_url: str) -> Iterator[str]:  # noqa: F811
    """An empty audit database that tracked runs record into; closed after the test."""
    use_database(database_url)
    yield database_url
    get_recorder().flush(timeout=10)
    reset_recorder()
    os.environ.pop("PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL", None)
    rows.settings.cache_clear()
