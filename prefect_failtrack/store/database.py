"""Which database the audit trail goes to, engines for it, and its schema (Alembic)."""

from __future__ import annotations

import json
import shlex
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from prefect.settings import get_current_settings
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from prefect_failtrack.settings import FailtrackSettings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "failtrack_alembic_version"
SQLITE_BUSY_TIMEOUT_MS = 5000

_engines: dict[str, Engine] = {}
_schema_ready: set[str] = set()
_lock = threading.Lock()
_schema_lock = threading.Lock()


def resolve_database_url(settings: FailtrackSettings | None = None) -> str:
    """The audit database URL: the setting, else the configuration block's, else a default file."""
    settings = settings or get_settings()
    return (
        settings.database_url
        or url_from_block(settings.config_block)
        or settings.default_database_url()
    )


def url_from_block(name: str | None = None) -> str | None:
    """The database URL of the FailtrackConfig block document, when such a block exists.

    The document is `name`, else the one the ``config_block`` setting names. Only asked
    when a Prefect API is configured, at most once per process, within a few seconds;
    ``None`` on any problem, never an error (`prefect_failtrack.config.load_config`).
    """
    from prefect_failtrack.config import config_database_url

    try:
        return config_database_url(name)
    except Exception:  # config_database_url does not raise; this guards the store anyway
        return None


def json_default(value: Any) -> Any:
    """What ``json`` cannot encode, made encodable: dates as ISO strings, the rest as ``str``."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return list(value)
    return str(value)


json_dumps = json.JSONEncoder(default=json_default).encode
"""``json.dumps`` for any value (unknown types as ``str``); one encoder, reused, is cheaper."""


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


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the packaged migrations; no ``alembic.ini`` needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the audit database at ``url`` to ``revision``; a no-op when it is there already."""
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the audit database at ``url`` is at (``None``: never migrated)."""
    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def ensure_schema(url: str) -> None:
    """Upgrade the audit database to head, once per process and URL; cheap afterwards."""
    if url in _schema_ready:
        return
    with _schema_lock:
        if url not in _schema_ready:
            upgrade(url)
            _schema_ready.add(url)


class AuditDatabaseError(ValueError):
    """The audit database cannot be read as it is: missing, without failtrack's tables, or at
    another schema revision than this package's. The message says what to do."""


def open_existing(url: str) -> Engine:
    """An engine on the audit database at `url`, which must exist, with failtrack's schema at
    this package's revision. Nothing is created: no folder, file, table or revision.

    For readers (the reports, ``failtrack report``...): a mistyped URL must not look like an
    empty audit trail. Writers (the recorder, reconcile) and ``failtrack db upgrade`` create
    and upgrade schemas (`ensure_schema`). Raises `AuditDatabaseError`, or SQLAlchemy's own
    error when the server cannot be reached or has no such database.
    """
    parsed = make_url(url)
    shown = safe_url(url)
    upgrade_hint = f"`failtrack db upgrade --url {shlex.quote(shown)}`"
    if parsed.get_backend_name() == "sqlite" and not parsed.query.get("uri"):
        if not parsed.database or parsed.database == ":memory:":
            raise AuditDatabaseError(f"{shown!r} is an in-memory database: it holds no audit trail")
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            raise AuditDatabaseError(
                f"there is no SQLite file {str(path)!r} (nothing was created): check the URL, "
                f"or create the audit database with {upgrade_hint}"
            )
    engine = get_engine(url)
    revision, head = current_revision(url), head_revision()
    if revision == head:
        return engine
    if revision is None:
        raise AuditDatabaseError(f"{shown} has no failtrack tables: run {upgrade_hint}")
    if revision in _known_revisions():
        raise AuditDatabaseError(
            f"{shown} is at schema revision {revision!r}, this failtrack reads {head!r}: "
            f"run {upgrade_hint}"
        )
    raise AuditDatabaseError(
        f"{shown} is at schema revision {revision!r}, which this failtrack does not know "
        f"(it reads {head!r}): upgrade prefect-failtrack"
    )


def _known_revisions() -> set[str]:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()
    return {script.revision for script in scripts}


def safe_url(url: str) -> str:
    """`url` as it may be shown: its password hidden (``***``)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable url>"
