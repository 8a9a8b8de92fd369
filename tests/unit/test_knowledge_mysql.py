"""MySQL and MariaDB, with real errors from the MariaDB of this machine (127.0.0.1:3306, root,
no password, database ``test``) through PyMySQL and mysql-connector; and pg8000 against the
local PostgreSQL. The expected classes follow the server's error reference (knowledge/mysql.py)."""

from __future__ import annotations

import threading

import pytest

from prefect_failtrack import ErrorType, classify
from tests.unit.knowledge_helpers import decision as decided, closed_port, needs_service, raised

pymysql = pytest.importorskip("pymysql")
mysql_connector = pytest.importorskip("mysql.connector")
pg8000 = pytest.importorskip("pg8000")
sqlalchemy = pytest.importorskip("sqlalchemy")

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION
needs_mariadb = needs_service(3306, "MariaDB")
needs_pg = needs_service(5432, "PostgreSQL")
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "database": "test"}


@pytest.fixture
def conn():
    connection = pymysql.connect(**MARIADB, autocommit=True)
    yield connection
    connection.close()


@pytest.fixture
def table(conn):
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS failtrack_t14 (id INT PRIMARY KEY, v INT)")
        cursor.execute("DELETE FROM failtrack_t14")
        cursor.execute("INSERT INTO failtrack_t14 VALUES (1, 1)")
    yield "failtrack_t14"
    with conn.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS failtrack_t14")


def _execute(conn, sql):
    with conn.cursor() as cursor:
        cursor.execute(sql)


@needs_mariadb
class TestPyMySQL:
    def test_statement_time_limit_is_timeout(self, conn):
        # MariaDB ER_STATEMENT_TIMEOUT (1969): max_statement_time
        exc = raised(_execute, conn, "SET STATEMENT max_statement_time=0.01 FOR SELECT SLEEP(2)")
        assert exc.args[0] == 1969
        assert decided(exc) == (TO, "mysql code 1969")

    def test_unknown_table_syntax_and_duplicates(self, conn, table):
        assert decided(raised(_execute, conn, "SELECT * FROM no_such_table_14")) == (
            P, "mysql code 1146")
        assert decided(raised(_execute, conn, "SELEKT 1")) == (P, "mysql code 1064")
        assert decided(raised(_execute, conn, f"INSERT INTO {table} VALUES (1, 2)")) == (
            V, "mysql code 1062")
        assert decided(raised(_execute, conn, f"INSERT INTO {table} VALUES (2, 'x')"))[0] is V

    def test_wrong_password_is_permanent(self):
        exc = raised(pymysql.connect, **{**MARIADB, "user": "nobody14", "password": "nope"})
        assert exc.args[0] == 1045 and decided(exc) == (P, "mysql code 1045")

    def test_command_denied_is_permanent(self, conn, table):
        _execute(conn, "CREATE USER IF NOT EXISTS 'ft14ro'@'%' IDENTIFIED BY 'pw14'")
        _execute(conn, "GRANT SELECT ON test.* TO 'ft14ro'@'%'")
        try:
            limited = pymysql.connect(**{**MARIADB, "user": "ft14ro", "password": "pw14"})
            exc = raised(_execute, limited, f"DELETE FROM {table}")
            limited.close()
        finally:
            _execute(conn, "DROP USER IF EXISTS 'ft14ro'@'%'")
        assert exc.args[0] == 1142 and decided(exc) == (P, "mysql code 1142")

    def test_lost_connection_is_transient(self, conn):
        victim = pymysql.connect(**MARIADB)
        _execute(conn, f"KILL {victim.thread_id()}")
        exc = raised(_execute, victim, "SELECT 1")
        assert exc.args[0] in (2006, 2013, 1927, 4031)  # gone / lost / killed
        assert classify(exc).error_type is T

    def test_lock_wait_timeout_is_transient(self, conn, table):
        holder = pymysql.connect(**MARIADB)
        waiter = pymysql.connect(**MARIADB)
        try:
            _execute(holder, "BEGIN")
            _execute(holder, f"UPDATE {table} SET v = 2 WHERE id = 1")
            _execute(waiter, "SET SESSION innodb_lock_wait_timeout = 1")
            _execute(waiter, "BEGIN")
            exc = raised(_execute, waiter, f"UPDATE {table} SET v = 3 WHERE id = 1")
        finally:
            holder.rollback(), waiter.rollback()
            holder.close(), waiter.close()
        assert exc.args[0] == 1205 and decided(exc) == (T, "mysql code 1205")

    def test_refused_connection_is_transient(self):
        exc = raised(pymysql.connect, **{**MARIADB, "port": closed_port(), "connect_timeout": 2})
        assert exc.args[0] == 2003 and decided(exc) == (T, "mysql code 2003")

    def test_sqlalchemy_wrapper_does_not_outweigh_its_cause(self):
        engine = sqlalchemy.create_engine("mysql+pymysql://root:@127.0.0.1:3306/test")
        with engine.connect() as connection:
            exc = raised(connection.exec_driver_sql,
                         "SET STATEMENT max_statement_time=0.01 FOR SELECT SLEEP(2)")
        engine.dispose()
        assert type(exc).__module__ == "sqlalchemy.exc"
        result = classify(exc)
        assert (result.error_type, result.reason) == (TO, "mysql code 1969")
        assert result.decided_by == "pymysql.err.OperationalError"


@needs_mariadb
class TestMysqlConnector:
    def test_error_numbers_from_errno(self):
        connection = mysql_connector.connect(**MARIADB)
        try:
            cursor = connection.cursor()
            exc = raised(cursor.execute, "SELECT * FROM no_such_table_14")
        finally:
            connection.close()
        assert exc.errno == 1146 and decided(exc) == (P, "mysql code 1146")

    def test_refused_and_bad_password(self):
        refused = raised(mysql_connector.connect, **{**MARIADB, "port": closed_port()})
        assert classify(refused).error_type is T  # 2003 CR_CONN_HOST_ERROR
        denied = raised(mysql_connector.connect, **{**MARIADB, "password": "wrong14",
                                                   "user": "nobody14"})
        assert decided(denied) == (P, "mysql code 1045")


@needs_pg
class TestPg8000:
    """pg8000 keeps the server's fields in ``args[0]`` (``{'C': sqlstate, ...}``)."""

    def test_statement_timeout_is_timeout(self):
        connection = pg8000.connect(user="postgres", host="127.0.0.1", database="test")
        try:
            connection.run("SET statement_timeout = 10")
            exc = raised(connection.run, "SELECT pg_sleep(2)")
        finally:
            connection.close()
        assert exc.args[0]["C"] == "57014"
        assert decided(exc) == (TO, "sqlstate 57014")

    def test_sqlalchemy_programming_error_around_a_timeout_is_timeout(self):
        engine = sqlalchemy.create_engine("postgresql+pg8000://postgres@127.0.0.1/test")
        with engine.connect() as connection:
            connection.exec_driver_sql("SET statement_timeout = 10")
            exc = raised(connection.exec_driver_sql, "SELECT pg_sleep(2)")
        engine.dispose()
        assert type(exc).__name__ == "ProgrammingError"  # SQLAlchemy's wrapper
        assert decided(exc) == (TO, "sqlstate 57014")

    def test_missing_table_and_refused(self):
        connection = pg8000.connect(user="postgres", host="127.0.0.1", database="test")
        try:
            assert decided(raised(connection.run, "SELECT * FROM no_such_14")) == (
                P, "sqlstate 42P01")
        finally:
            connection.close()
        refused = raised(pg8000.connect, user="postgres", host="127.0.0.1", port=closed_port())
        assert classify(refused).error_type is T  # pg8000's InterfaceError: can't connect


def test_threads_do_not_matter():  # the rules hold no per-thread state
    results = []
    exc = pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
    threads = [threading.Thread(target=lambda: results.append(classify(exc).reason))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["mysql code 2013"] * 4
