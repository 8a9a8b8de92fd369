"""SQLAlchemy: the wrapper is generic, the driver error in ``.orig`` decides. Real engines
against the local PostgreSQL (psycopg 3 and psycopg2) and SQLite files."""

from __future__ import annotations

import uuid

import pytest

from prefect_failtrack import ErrorType, classify

sa = pytest.importorskip("sqlalchemy")
from sqlalchemy import exc as sa_exc  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from tests.unit.knowledge_helpers import raised as _raised

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_unreachable() -> str | None:
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc}"
    finally:
        engine.dispose()


_WHY = _pg_unreachable()


def needs_pg(test):
    return pytest.mark.postgres(pytest.mark.skipif(_WHY is not None, reason=_WHY or "")(test))



def _execute(engine, *statements):
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


# --- PostgreSQL -----------------------------------------------------------------------------

@needs_pg
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_integrity_error_is_judged_by_the_sqlstate_of_orig(driver):
    engine = sa.create_engine(f"postgresql+{driver}://postgres@127.0.0.1:5432/test")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("create temp table t (id int primary key)"))
            conn.execute(sa.text("insert into t values (1)"))
            exc = _raised(conn.execute, sa.text("insert into t values (1)"))
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.IntegrityError
    result = classify(exc)
    assert result.error_type is V
    assert result.reason.startswith("sqlstate 23505")
    assert result.error_class == "sqlalchemy.exc.IntegrityError"
    assert result.decided_by == f"{driver}.errors.UniqueViolation"


@needs_pg
def test_programming_error_by_sqlstate():
    engine = sa.create_engine(PG_URL)
    try:
        exc = _raised(_execute, engine, "select * from failtrack_no_such_table")
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.ProgrammingError
    assert (classify(exc).error_type, classify(exc).reason) == (P, "sqlstate 42P01")


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_operational_error_connecting_to_port_1_is_transient(driver):
    engine = sa.create_engine(f"postgresql+{driver}://postgres@127.0.0.1:1/test")
    try:
        exc = _raised(engine.connect)
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.OperationalError
    result = classify(exc)
    assert (result.error_type, result.reason) == (T, f"type {driver}.OperationalError")
    assert result.decided_by == f"{driver}.OperationalError"


@needs_pg
def test_missing_database_through_sqlalchemy_is_permanent():
    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/failtrack_no_such_db")
    try:
        exc = _raised(engine.connect)
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.OperationalError
    assert (classify(exc).error_type, classify(exc).reason) == (
        P, "type psycopg.OperationalError message 'database does not exist'"
    )


# --- SQLite ---------------------------------------------------------------------------------

@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.db'}"


def test_sqlite_database_is_locked_is_transient(sqlite_url):
    holder = sa.create_engine(sqlite_url)
    waiter = sa.create_engine(sqlite_url, connect_args={"timeout": 0})
    try:
        _execute(holder, "create table t (id integer primary key)")
        with holder.connect() as conn:
            conn.exec_driver_sql("begin exclusive")
            exc = _raised(_execute, waiter, "insert into t values (1)")
            conn.exec_driver_sql("rollback")
    finally:
        holder.dispose()
        waiter.dispose()
    assert type(exc) is sa_exc.OperationalError
    result = classify(exc)
    assert (result.error_type, result.reason) == (
        T, "type sqlite3.OperationalError message 'database is locked'"
    )
    assert result.decided_by == "sqlite3.OperationalError"


def test_sqlite_no_such_table_is_permanent_not_the_wrappers_transient(sqlite_url):
    engine = sa.create_engine(sqlite_url)
    try:
        exc = _raised(_execute, engine, "select * from nope")
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.OperationalError
    assert (classify(exc).error_type, classify(exc).reason) == (P, "type sqlite3.OperationalError")


def test_sqlite_integrity_error(sqlite_url):
    engine = sa.create_engine(sqlite_url)
    try:
        _execute(engine, "create table t (id integer primary key)")
        exc = _raised(_execute, engine, "insert into t values (1)", "insert into t values (1)")
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.IntegrityError
    assert (classify(exc).error_type, classify(exc).reason) == (V, "type sqlite3.IntegrityError")


def test_statement_error_is_judged_by_orig(sqlite_url):
    engine = sa.create_engine(sqlite_url)
    table = sa.Table("d", sa.MetaData(), sa.Column("day", sa.Date))
    try:
        table.metadata.create_all(engine)
        with engine.begin() as conn:
            exc = _raised(conn.execute, table.insert().values(day="2024-01-01"))
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.StatementError and isinstance(exc.orig, TypeError)
    assert (classify(exc).error_type, classify(exc).reason) == (P, "type TypeError")


def test_pool_timeout_is_a_timeout(sqlite_url):
    engine = sa.create_engine(sqlite_url, poolclass=sa.pool.QueuePool, pool_size=1,
                              max_overflow=0, pool_timeout=0.05)
    try:
        with engine.connect():
            exc = _raised(engine.connect)
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.TimeoutError
    assert (classify(exc).error_type, classify(exc).reason) == (
        TO, "type sqlalchemy.exc.TimeoutError"
    )


def test_orm_no_result_found(sqlite_url):
    engine = sa.create_engine(sqlite_url)
    try:
        _execute(engine, "create table t (id integer primary key)")
        with Session(engine) as session:
            exc = _raised(session.execute(sa.text("select id from t")).scalar_one)
    finally:
        engine.dispose()
    assert type(exc) is sa_exc.NoResultFound
    assert classify(exc).error_type is P


def test_wrapper_decides_when_the_driver_is_unknown():
    class VendorError(Exception):
        """A driver failtrack knows nothing about."""

    exc = sa_exc.OperationalError("select 1", {}, VendorError("link to the warehouse failed"))
    result = classify(exc)
    assert (result.error_type, result.reason) == (T, "type sqlalchemy.exc.OperationalError")
    exc = sa_exc.IntegrityError("insert", {}, VendorError("row rejected"))
    assert classify(exc).error_type is V


def test_disconnection_error_is_transient():
    assert classify(sa_exc.DisconnectionError("pre-ping failed")).error_type is T
