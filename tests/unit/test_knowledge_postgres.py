"""PostgreSQL through psycopg 3, psycopg2 and asyncpg, with real errors from the local
server (127.0.0.1:5432, database ``test``) and real connection failures (port 1).

Errors that are hard to provoke on demand (too many connections, serialization
failures) are built the way the drivers build them from a server's SQLSTATE:
``psycopg.errors.lookup(code)`` and asyncpg's ``PostgresError.new(fields)``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

from prefect_failtrack import ErrorType, classify
from tests.unit.knowledge_helpers import raised as _raised, decision as _decision

psycopg = pytest.importorskip("psycopg")
psycopg2 = pytest.importorskip("psycopg2")
asyncpg = pytest.importorskip("asyncpg")

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION
HOST = "host=127.0.0.1 port=5432 user=postgres"
DSN = f"{HOST} dbname=test"
ASYNC_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REFUSED = "host=127.0.0.1 port=1 dbname=test user=postgres connect_timeout=5"


def _pg_unreachable() -> str | None:
    try:
        psycopg.connect(DSN, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc}"
    return None


_WHY = _pg_unreachable()


def needs_pg(test):
    """Marks a test (or class) as needing the local PostgreSQL; skipped, with why, without it."""
    return pytest.mark.postgres(pytest.mark.skipif(_WHY is not None, reason=_WHY or "")(test))




@pytest.fixture
def conn():
    with psycopg.connect(DSN, autocommit=True) as connection:
        yield connection


@pytest.fixture
def shared_table():
    """A real (not temporary) table two connections can both see; dropped afterwards."""
    name = f"failtrack_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(f"create table {name} (id int primary key, v int)")
        admin.execute(f"insert into {name} values (1, 0), (2, 0)")
        yield name
        admin.execute(f"drop table if exists {name}")


# --- psycopg 3: connecting (no SQLSTATE) ---------------------------------------------------

def test_psycopg_connection_refused_is_transient():
    exc = _raised(psycopg.connect, REFUSED)
    assert type(exc) is psycopg.OperationalError and exc.sqlstate is None
    assert _decision(exc) == (T, "type psycopg.OperationalError")


@needs_pg
@pytest.mark.parametrize(
    ("dsn", "label"),
    [
        (f"{HOST} dbname=failtrack_no_such_db", "database does not exist"),
        ("host=127.0.0.1 port=5432 dbname=test user=failtrack_no_such_role",
         "role does not exist"),
    ],
)
def test_psycopg_connect_failures_no_retry_fixes(dsn, label):
    exc = _raised(psycopg.connect, dsn)
    assert type(exc) is psycopg.OperationalError and exc.sqlstate is None
    assert _decision(exc) == (P, f"type psycopg.OperationalError message '{label}'")


# --- psycopg 3: server errors (SQLSTATE decides) --------------------------------------------

@needs_pg
class TestPsycopgServerErrors:
    def test_unique_violation(self, conn):
        conn.execute("create temp table t (id int primary key)")
        conn.execute("insert into t values (1)")
        exc = _raised(conn.execute, "insert into t values (1)")
        assert type(exc) is psycopg.errors.UniqueViolation
        result = classify(exc)
        assert (result.error_type, result.reason) == (V, "sqlstate 23505")
        assert result.reason.startswith("sqlstate 23505")
        assert result.decided_by == "psycopg.errors.UniqueViolation"
        assert result.retryable is False

    def test_other_constraints_and_bad_data(self, conn):
        conn.execute("create temp table parent (id int primary key)")
        conn.execute("create temp table child (id int not null, p int references parent)")
        cases = [
            ("insert into child values (null, null)", "23502"),
            ("insert into child values (1, 42)", "23503"),
            ("select 1 / 0", "22012"),
            ("select 'abc'::int", "22P02"),
        ]
        for sql, code in cases:
            assert _decision(_raised(conn.execute, sql)) == (V, f"sqlstate {code}")

    def test_syntax_and_missing_objects_are_permanent(self, conn):
        assert _decision(_raised(conn.execute, "selec 1")) == (P, "sqlstate 42601")
        assert _decision(_raised(conn.execute, "select * from failtrack_nope")) == (
            P, "sqlstate 42P01"
        )

    def test_statement_timeout_is_a_timeout(self, conn):
        conn.execute("set statement_timeout = 50")
        exc = _raised(conn.execute, "select pg_sleep(2)")
        assert type(exc) is psycopg.errors.QueryCanceled
        assert _decision(exc) == (TO, "sqlstate 57014")

    def test_terminated_backend_is_transient(self):
        victim = psycopg.connect(DSN, autocommit=True)
        with psycopg.connect(DSN, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (victim.info.backend_pid,))
        exc = _raised(victim.execute, "select 1")
        victim.close()
        assert type(exc) is psycopg.errors.AdminShutdown
        assert _decision(exc) == (T, "sqlstate 57P01")

    def test_idle_in_transaction_timeout(self):
        with psycopg.connect(DSN) as idle:
            idle.execute("set idle_in_transaction_session_timeout = '100ms'")
            idle.execute("select 1")
            time.sleep(0.4)
            exc = _raised(idle.execute, "select 1")
        assert _decision(exc) == (TO, "sqlstate 25P03")

    def test_lock_not_available(self, shared_table):
        with psycopg.connect(DSN) as holder, psycopg.connect(DSN) as waiter:
            holder.execute(f"select * from {shared_table} where id = 1 for update")
            exc = _raised(
                waiter.execute, f"select * from {shared_table} where id = 1 for update nowait"
            )
        assert type(exc) is psycopg.errors.LockNotAvailable
        assert _decision(exc) == (T, "sqlstate 55P03")

    def test_deadlock(self, shared_table):
        errors: list[BaseException] = []

        def update(connection, row):
            try:
                connection.execute(f"update {shared_table} set v = 2 where id = {row}")
            except psycopg.Error as exc:
                errors.append(exc)
                connection.rollback()

        with psycopg.connect(DSN) as a, psycopg.connect(DSN) as b:
            for c in (a, b):
                c.execute("set deadlock_timeout = '50ms'")
            a.execute(f"update {shared_table} set v = 1 where id = 1")
            b.execute(f"update {shared_table} set v = 1 where id = 2")
            other = threading.Thread(target=update, args=(a, 2))
            other.start()
            time.sleep(0.2)
            update(b, 1)
            other.join(10)
            a.rollback()
            b.rollback()
        assert len(errors) == 1 and type(errors[0]) is psycopg.errors.DeadlockDetected
        assert _decision(errors[0]) == (T, "sqlstate 40P01")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("40001", T), ("53300", T), ("53200", T), ("53100", P), ("57P03", T), ("57P02", T),
        ("08006", T), ("28P01", P), ("3D000", P), ("42501", P), ("XX000", P), ("XX001", P),
        ("25006", T), ("54001", P), ("0A000", P), ("58030", T),
    ],
)
def test_sqlstates_as_psycopg_maps_them(code, expected):
    exc = psycopg.errors.lookup(code)("as the server said it")
    assert exc.sqlstate == code
    assert _decision(exc) == (expected, f"sqlstate {code}")


@needs_pg
def test_psycopg_client_side_errors():
    assert _decision(psycopg.errors.ConnectionTimeout("connection timeout expired")) == (
        TO, "type psycopg.errors.ConnectionTimeout"
    )
    exc = _raised(psycopg.connect, "host=127.0.0.1 port=5432 nonsense_option=1")
    assert type(exc) is psycopg.ProgrammingError
    assert _decision(exc) == (P, "type psycopg.ProgrammingError")


# --- psycopg2 -------------------------------------------------------------------------------

def test_psycopg2_connection_refused_is_transient():
    exc = _raised(psycopg2.connect, REFUSED)
    assert type(exc) is psycopg2.OperationalError and exc.pgcode is None
    assert _decision(exc) == (T, "type psycopg2.OperationalError")


@needs_pg
class TestPsycopg2:
    def test_missing_database(self):
        exc = _raised(psycopg2.connect, f"{HOST} dbname=failtrack_no_such_db")
        assert _decision(exc) == (
            P, "type psycopg2.OperationalError message 'database does not exist'"
        )

    def test_unique_violation_and_timeout(self):
        connection = psycopg2.connect(DSN)
        connection.autocommit = True
        try:
            cur = connection.cursor()
            cur.execute("create temp table t (id int primary key)")
            cur.execute("insert into t values (1)")
            exc = _raised(cur.execute, "insert into t values (1)")
            assert type(exc) is psycopg2.errors.UniqueViolation and exc.pgcode == "23505"
            assert _decision(exc) == (V, "sqlstate 23505")
            cur.execute("set statement_timeout = 50")
            exc = _raised(cur.execute, "select pg_sleep(2)")
            assert isinstance(exc, psycopg2.extensions.QueryCanceledError)
            assert _decision(exc) == (TO, "sqlstate 57014")
        finally:
            connection.close()

    def test_closed_connection(self):
        connection = psycopg2.connect(DSN)
        connection.close()
        exc = _raised(connection.cursor)
        assert type(exc) is psycopg2.InterfaceError
        assert _decision(exc) == (
            T, "type psycopg2.InterfaceError message 'connection closed'"
        )


# --- asyncpg --------------------------------------------------------------------------------

def test_asyncpg_connection_refused_is_the_builtin_error():
    exc = _raised(asyncio.run, asyncpg.connect("postgresql://postgres@127.0.0.1:1/test", timeout=5))
    assert isinstance(exc, ConnectionRefusedError | OSError)
    assert classify(exc).error_type is T


@pytest.mark.parametrize(
    ("code", "cls", "expected"),
    [
        ("40P01", "DeadlockDetectedError", T),
        ("40001", "SerializationError", T),
        ("53300", "TooManyConnectionsError", T),
        ("57014", "QueryCanceledError", TO),
        ("08003", "ConnectionDoesNotExistError", T),
        ("23505", "UniqueViolationError", V),
        ("42P01", "UndefinedTableError", P),
        ("28P01", "InvalidPasswordError", P),
    ],
)
def test_asyncpg_errors_from_server_fields(code, cls, expected):
    # asyncpg builds server errors with PostgresError.new(fields): the class by SQLSTATE
    exc = asyncpg.PostgresError.new({"C": code, "M": "as the server said it", "S": "ERROR"})
    assert type(exc).__name__ == cls and exc.sqlstate == code
    assert _decision(exc) == (expected, f"sqlstate {code}")


def test_asyncpg_client_side_errors():
    closed = asyncpg.exceptions.InterfaceError(
        "cannot call Connection.fetch(): connection is closed"
    )
    assert _decision(closed) == (
        T, "type asyncpg.exceptions._base.InterfaceError message 'connection closed'"
    )
    busy = asyncpg.exceptions.InterfaceError(
        "cannot perform operation: another operation is in progress"
    )
    assert _decision(busy) == (P, "type asyncpg.exceptions._base.InterfaceError")
    stale = asyncpg.exceptions.OutdatedSchemaCacheError("cached statement plan is invalid")
    assert classify(stale).error_type is T


@needs_pg
class TestAsyncpgReal:
    def test_unique_violation_missing_db_and_closed_connection(self):
        async def scenario():
            found = []
            conn = await asyncpg.connect(ASYNC_DSN)
            await conn.execute("create temp table t (id int primary key)")
            await conn.execute("insert into t values (1)")
            try:
                await conn.execute("insert into t values (1)")
            except asyncpg.PostgresError as exc:
                found.append(exc)
            await conn.close()
            try:
                await conn.fetch("select 1")
            except asyncpg.InterfaceError as exc:
                found.append(exc)
            try:
                await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/failtrack_no_such_db")
            except asyncpg.PostgresError as exc:
                found.append(exc)
            return found

        unique, closed, missing = asyncio.run(scenario())
        assert type(unique) is asyncpg.UniqueViolationError
        assert _decision(unique) == (V, "sqlstate 23505")
        assert classify(closed).error_type is T
        assert type(missing) is asyncpg.InvalidCatalogNameError
        assert _decision(missing) == (P, "sqlstate 3D000")
