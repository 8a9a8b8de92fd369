"""Alembic environment for failtrack's own tables (online migrations only).

The version table is ``failtrack_alembic_version`` so that an application's own
Alembic history in the same database is never touched.
"""

from alembic import context
from sqlalchemy import text

from prefect_failtrack.store.database import VERSION_TABLE, get_engine
from prefect_failtrack.store.models import metadata

# Any constant will do: it serialises concurrent upgrades of one PostgreSQL database.
_PG_LOCK_KEY = 0x6661696C


def run_migrations_online() -> None:
    engine = get_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
