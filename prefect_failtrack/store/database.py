"""Which database the audit trail goes to, engines for it, and its schema (Alembic).

The schema is checked once per process and URL (`ensure_schema`), cheaply: one query of
the version table, and one that names every column of failtrack's tables. Alembic is
only imported when the database is not at the revision this package ships
(`HEAD_REVISION`): to create it, or to upgrade it. A database that cannot be brought
to that revision (a table made by hand, a column dropped, a revision from a newer
failtrack) raises `SchemaProblem`, whose message says what does not match and the
command that fixes it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect.settings import get_current_settings
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url

from prefect_failtrack.store.encoding import json_default, json_dumps
from prefect_failtrack.store.location import resolve_database_url, url_from_block

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "failtrack_alembic_version"
HEAD_REVISION = "collector"
"""The newest migration this package ships (a test keeps it equal to Alembic's head)."""
SQLITE_BUSY_TIMEOUT_MS = 5000

_engines: dict[str, Engine] = {}
_schema_ready: set[str] = set()
_lock = threading.Lock()
_schema_lock = threading.Lock()


class SchemaProblem(RuntimeError):
    """The audit database's tables do not match this failtrack's: no retry will fix it."""


__all__ = [
    "HEAD_REVISION",
    "SchemaProblem",
    "VERSION_TABLE",
    "current_revision",
    "dispose_engines",
    "ensure_schema",
    "get_engine",
    "head_revision",
    "json_default",
    "json_dumps",
    "resolve_database_url",
    "safe_url",
    "upgrade",
    "url_from_block",
]


def get_engine(url: str) -> Engine:
    """An engine for ``url``, created once per URL and process.

    SQLite gets its folder created, WAL journaling and a busy timeout; PostgreSQL gets
    pre-ping. Prefect's own database is refused: the audit trail must not live there.
    """
    engine = _engines.get(url)
    if engine is not None:
        return engine
    with _lock:
        if url not in _engines:
            _engines[url] = _create_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    """Close every cached engine and forget which schemas were checked (tests switch databases)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _schema_ready.clear()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if _same_database(parsed, _prefect_database_url()):
        raise ValueError(
            f"Refusing {parsed.render_as_string()!r} for the failtrack audit trail: it is "
            "Prefect's own database (PREFECT_API_DATABASE_CONNECTION_URL). Set "
            "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL to another database."
        )
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, json_serializer=json_dumps)
    raise ValueError(
        f"failtrack stores its audit trail in SQLite or PostgreSQL, not {backend!r} ({url!r})."
    )


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.query.get("uri"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False}, json_serializer=json_dumps
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    return engine


def _prefect_database_url() -> URL | None:
    secret = get_current_settings().server.database.connection_url
    return make_url(secret.get_secret_value()) if secret is not None else None


def _same_database(a: URL, b: URL | None) -> bool:
    if b is None or a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        return bool(a.database) and _sqlite_path(a) == _sqlite_path(b)
    return (a.host, a.port or 5432, a.database) == (b.host, b.port or 5432, b.database)


def _sqlite_path(url: URL) -> Path | None:
    if not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve()


def safe_url(url: str) -> str:
    """`url` as it may be shown: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the packaged migrations; no ``alembic.ini`` needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the audit database at ``url`` to ``revision``; a no-op when it is there already."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the audit database at ``url`` is at (``None``: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str | None:
    """The newest revision the package ships, as Alembic reads it from the migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def ensure_schema(url: str) -> None:
    """Bring the audit database to `HEAD_REVISION`, once per process and URL; cheap afterwards.

    Raises `SchemaProblem` when it cannot be (see the module's documentation); connection
    errors go on as they are (the database may come back).
    """
    if url in _schema_ready:
        return
    with _schema_lock:
        if url in _schema_ready:
            return
        engine = get_engine(url)
        if _revision(engine) != HEAD_REVISION:
            _upgrade_or_explain(url, engine)
        check_columns(engine, url)
        _schema_ready.add(url)


def forget_schema(url: str) -> None:
    """Check the schema of `url` again at its next use (after a `SchemaProblem`)."""
    with _schema_lock:
        _schema_ready.discard(url)


def _revision(engine: Engine) -> str | None:
    """The version table's revision; ``None`` when there is no such table (a new database)."""
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as connection:
        if not engine.dialect.has_table(connection, VERSION_TABLE):
            return None
        try:
            return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        except DBAPIError as error:
            problem = f"unreadable {VERSION_TABLE}: {_first_line(error.orig or error)}"
            raise SchemaProblem(_mismatch(str(engine.url), problem)) from error


def _upgrade_or_explain(url: str, engine: Engine) -> None:
    """Run the migrations; what makes them fail is a `SchemaProblem` that says how to fix it
    (a lost connection stays what it is: the database may come back)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    try:
        upgrade(url)
    except CommandError as error:  # e.g. a revision this package does not know: a newer failtrack
        raise SchemaProblem(_mismatch(url, _first_line(error))) from error
    except DBAPIError as error:
        if error.connection_invalidated:
            raise
        raise SchemaProblem(_mismatch(url, _first_line(error.orig or error))) from error


def check_columns(engine: Engine, url: str) -> None:
    """Every column failtrack writes is there (one query per table, reading no row)."""
    from sqlalchemy.exc import DBAPIError

    from prefect_failtrack.store.models import metadata

    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = ", ".join(column.name for column in table.c)
            try:
                connection.execute(text(f"SELECT {columns} FROM {table.name} WHERE 1 = 0"))
            except DBAPIError as error:
                if error.connection_invalidated:
                    raise
                problem = f"table {table.name}: {_first_line(error.orig or error)}"
                raise SchemaProblem(_mismatch(url, problem)) from error


def _mismatch(url: str, problem: str) -> str:
    return (
        f"the audit database {safe_url(url)} does not match failtrack's schema (revision "
        f"{HEAD_REVISION}): {problem}. Fix it with: failtrack db upgrade --url {safe_url(url)!r} "
        "(a table made by hand or a column dropped must be repaired or the database replaced)"
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
