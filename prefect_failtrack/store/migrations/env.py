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
        # One upgrade at a time per database, each all or nothing.
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            transactional_ddl=True,
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
