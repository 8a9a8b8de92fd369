"""MySQL/MariaDB, pg8000, MongoDB, Oracle, ClickHouse, Trino, Snowflake, DuckDB."""

from __future__ import annotations

from . import P, T, TO, V, Case, raised


def cases() -> list[Case]:
    return [*_mysql(), *_pg8000(), *_mongodb(), *_oracle(), *_clickhouse(), *_trino(),
            *_snowflake(), *_duckdb()]


def _mysql() -> list[Case]:
    import mysql.connector.errors as connector
    import pymysql.err as err

    def op(code: int, message: str, cls=err.OperationalError):
        return lambda: cls(code, message)

    # MySQL 8.4 Server/Client Error Message Reference; MariaDB Error Codes
    table = [
        (2003, "Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)", T,
         "CR_CONN_HOST_ERROR: nothing listening"),
        (2006, "MySQL server has gone away", T, "CR_SERVER_GONE_ERROR"),
        (2013, "Lost connection to MySQL server during query", T, "CR_SERVER_LOST"),
        (2055, "Lost connection to MySQL server at 'reading initial communication packet'", T,
         "CR_SERVER_LOST_EXTENDED"),
        (1040, "Too many connections", T, "ER_CON_COUNT_ERROR"),
        (1053, "Server shutdown in progress", T, "ER_SERVER_SHUTDOWN"),
        (1205, "Lock wait timeout exceeded; try restarting transaction", T,
         "ER_LOCK_WAIT_TIMEOUT: InnoDB says restart the transaction"),
        (1213, "Deadlock found when trying to get lock; try restarting transaction", T,
         "ER_LOCK_DEADLOCK"),
        (1969, "Query execution was interrupted (max_statement_time exceeded)", TO,
         "MariaDB ER_STATEMENT_TIMEOUT"),
        (3024, "Query execution was interrupted, maximum statement execution time exceeded", TO,
         "MySQL ER_QUERY_TIMEOUT"),
        (1290, "The MariaDB server is running with the --read-only option", T,
         "ER_OPTION_PREVENTS_STATEMENT: a replica mid-failover"),
        (1927, "Connection was killed", T, "ER_CONNECTION_KILLED (MariaDB)"),
        (1045, "Access denied for user 'etl'@'10.0.0.5' (using password: YES)", P,
         "ER_ACCESS_DENIED_ERROR"),
        (1044, "Access denied for user 'etl'@'%' to database 'sales'", P,
         "ER_DBACCESS_DENIED_ERROR"),
        (1142, "DELETE command denied to user 'ro'@'%' for table 'orders'", P,
         "ER_TABLEACCESS_DENIED_ERROR"),
        (1049, "Unknown database 'salse'", P, "ER_BAD_DB_ERROR"),
        (1054, "Unknown column 'amount_eur' in 'field list'", P, "ER_BAD_FIELD_ERROR"),
        (1064, "You have an error in your SQL syntax", P, "ER_PARSE_ERROR"),
        (1146, "Table 'sales.orderz' doesn't exist", P, "ER_NO_SUCH_TABLE"),
        (1062, "Duplicate entry '42' for key 'PRIMARY'", V, "ER_DUP_ENTRY"),
        (1452, "Cannot add or update a child row: a foreign key constraint fails", V,
         "ER_NO_REFERENCED_ROW_2"),
        (1406, "Data too long for column 'name' at row 1", V, "ER_DATA_TOO_LONG"),
        (1366, "Incorrect integer value: 'n/a' for column 'qty' at row 3", V,
         "ER_TRUNCATED_WRONG_VALUE_FOR_FIELD"),
        (1048, "Column 'customer_id' cannot be null", V, "ER_BAD_NULL_ERROR"),
        (2026, "SSL connection error: unknown error number", P, "CR_SSL_CONNECTION_ERROR"),
        (4031, "The client was disconnected by the server because of inactivity", T,
         "ER_CLIENT_INTERACTION_TIMEOUT: reconnect"),
    ]
    found = [Case("mysql", op(code, message), kind, f"pymysql {code}: {why}")
             for code, message, kind, why in table]
    found += [
        Case("mysql", op(1146, "Table 'x' doesn't exist", err.ProgrammingError), P,
             "pymysql ProgrammingError 1146"),
        Case("mysql", op(1062, "Duplicate entry", err.IntegrityError), V,
             "pymysql IntegrityError 1062"),
        Case("mysql", lambda: err.InterfaceError(0, ""), P,
             "pymysql InterfaceError (0, ''): a closed connection used again"),
        Case("mysql", lambda: connector.DatabaseError(
            msg="Lost connection to MySQL server during query", errno=2013), T,
             "mysql-connector errno 2013"),
        Case("mysql", lambda: connector.ProgrammingError(
            msg="Table 'x.y' doesn't exist", errno=1146, sqlstate="42S02"), P,
             "mysql-connector errno 1146"),
        Case("mysql", lambda: connector.IntegrityError(
            msg="Duplicate entry", errno=1062, sqlstate="23000"), V, "mysql-connector 1062"),
        Case("mysql", lambda: connector.OperationalError(
            msg="Query execution was interrupted", errno=3024), TO, "mysql-connector 3024"),
        Case("mysql", lambda: connector.InterfaceError(
            msg="Can't connect to MySQL server on 'db:3306' (111)", errno=2003), T,
             "mysql-connector 2003"),
        Case("mysql", lambda: connector.ProgrammingError(
            msg="Access denied for user", errno=1045, sqlstate="28000"), P,
             "mysql-connector 1045"),
        Case("mysql", lambda: connector.PoolError("Failed getting connection; pool exhausted"),
             TO, "mysql-connector PoolError: no pooled connection in time"),
    ]
    return found


def _pg8000() -> list[Case]:
    import pg8000.exceptions as e

    def db(code: str, message: str):
        return lambda: e.DatabaseError({"S": "ERROR", "V": "ERROR", "C": code, "M": message})

    return [
        Case("pg8000", db("57014", "canceling statement due to statement timeout"), TO,
             "SQLSTATE 57014 query_canceled"),
        Case("pg8000", db("40001", "could not serialize access"), T, "40001 serialization"),
        Case("pg8000", db("40P01", "deadlock detected"), T, "40P01 deadlock_detected"),
        Case("pg8000", db("42P01", 'relation "x" does not exist'), P, "42P01 undefined_table"),
        Case("pg8000", db("23505", "duplicate key value violates unique constraint"), V,
             "23505 unique_violation"),
        Case("pg8000", db("28P01", 'password authentication failed for user "etl"'), P,
             "28P01 invalid_password"),
        Case("pg8000", db("53300", "sorry, too many clients already"), T,
             "53300 too_many_connections"),
        Case("pg8000", db("22P02", 'invalid input syntax for type integer: "n/a"'), V,
             "22P02 invalid_text_representation"),
        Case("pg8000", lambda: e.InterfaceError("network error"), T,
             "pg8000 InterfaceError: the connection failed"),
    ]


def _mongodb() -> list[Case]:
    import bson.errors
    import pymongo.errors as e

    def failure(code: int, labels=(), cls=e.OperationFailure):
        return lambda: cls(f"server error {code}", code=code,
                           details={"code": code, "errorLabels": list(labels)})

    # server error_codes.yml; the drivers' Retryable Reads/Writes specifications
    codes = [
        (6, T, "HostUnreachable"), (7, T, "HostNotFound"), (89, TO, "NetworkTimeout"),
        (91, T, "ShutdownInProgress"), (189, T, "PrimarySteppedDown"),
        (262, TO, "ExceededTimeLimit"), (9001, T, "SocketException"),
        (10107, T, "NotWritablePrimary"), (11600, T, "InterruptedAtShutdown"),
        (11602, T, "InterruptedDueToReplStateChange"), (13435, T, "NotPrimaryNoSecondaryOk"),
        (112, T, "WriteConflict"), (50, TO, "MaxTimeMSExpired"), (13, P, "Unauthorized"),
        (18, P, "AuthenticationFailed"), (26, P, "NamespaceNotFound"),
        (2, V, "BadValue"), (121, V, "DocumentValidationFailure"),
    ]
    found = [Case("mongodb", failure(code), kind, f"code {code} {name}")
             for code, kind, name in codes]
    found += [
        Case("mongodb", failure(999999, ["TransientTransactionError"]), T,
             "an unlisted code with the TransientTransactionError label"),
        Case("mongodb", lambda: e.DuplicateKeyError("E11000 duplicate key error", 11000), V,
             "DuplicateKeyError"),
        Case("mongodb", lambda: e.BulkWriteError({"writeErrors": [
            {"index": 0, "code": 11000, "errmsg": "E11000 duplicate key error"}]}), V,
             "BulkWriteError of duplicate keys"),
        Case("mongodb", lambda: e.AutoReconnect("connection closed"), T,
             "AutoReconnect: 'retry the operation'"),
        Case("mongodb", lambda: e.NetworkTimeout("timed out"), TO, "NetworkTimeout"),
        Case("mongodb", lambda: e.ServerSelectionTimeoutError(
            "localhost:27017: [Errno 111] Connection refused"), TO,
             "ServerSelectionTimeoutError (timeout property True)"),
        Case("mongodb", lambda: e.NotPrimaryError("not primary", {}), T,
             "NotPrimaryError: an election"),
        Case("mongodb", lambda: e.ExecutionTimeout("operation exceeded time limit", 50), TO,
             "ExecutionTimeout"),
        Case("mongodb", lambda: e.WTimeoutError("waiting for replication timed out", 64), TO,
             "WTimeoutError"),
        Case("mongodb", lambda: e.ConfigurationError("Unknown option replicaSett"), P,
             "ConfigurationError"),
        Case("mongodb", lambda: e.InvalidURI("Invalid URI scheme"), P, "InvalidURI"),
        Case("mongodb", lambda: e.CursorNotFound("cursor id not found", 43), T,
             "CursorNotFound: the query can run again"),
        Case("mongodb", lambda: e.DocumentTooLarge("BSON document too large"), V,
             "DocumentTooLarge"),
        Case("mongodb", lambda: bson.errors.InvalidDocument("cannot encode object"), V,
             "bson InvalidDocument"),
    ]
    return found


def _oracle() -> list[Case]:
    import oracledb
    from oracledb import errors as oe

    def ora(cls, message: str, code: int = 0, recoverable: bool = False):
        return lambda: cls(oe._Error(message, code=code, isrecoverable=recoverable))

    return [
        Case("oracle", ora(oracledb.OperationalError, "DPY-6005: cannot connect to database"), T,
             "DPY-6005"),
        Case("oracle", ora(oracledb.DatabaseError,
                           "ORA-03113: end-of-file on communication channel", 3113), T,
             "ORA-03113 maps to DPY-4011, a dead session"),
        Case("oracle", ora(oracledb.DatabaseError, "ORA-00060: deadlock detected", 60), T,
             "ORA-00060 deadlock"),
        Case("oracle", ora(oracledb.DatabaseError, "ORA-00054: resource busy", 54), T,
             "ORA-00054 NOWAIT"),
        Case("oracle", ora(oracledb.DatabaseError,
                           "ORA-01033: ORACLE initialization or shutdown in progress", 1033,
                           True), T, "ORA-01033, isrecoverable"),
        Case("oracle", ora(oracledb.DatabaseError,
                           "ORA-01017: invalid username/password; logon denied", 1017), P,
             "ORA-01017"),
        Case("oracle", ora(oracledb.DatabaseError,
                           "ORA-00942: table or view does not exist", 942), P, "ORA-00942"),
        Case("oracle", ora(oracledb.IntegrityError,
                           "ORA-00001: unique constraint (X.PK) violated", 1), V, "ORA-00001"),
        Case("oracle", ora(oracledb.DatabaseError, "ORA-01722: invalid number", 1722), V,
             "ORA-01722"),
        Case("oracle", ora(oracledb.DatabaseError,
                           "ORA-01013: user requested cancel of current operation", 1013), TO,
             "ORA-01013 call timeout"),
        Case("oracle", ora(oracledb.DatabaseError,
                           "ORA-12541: TNS:no listener", 12541), T, "ORA-12541"),
        Case("oracle", ora(oracledb.DatabaseError,
                           "ORA-12154: TNS:could not resolve the connect identifier", 12154), P,
             "ORA-12154 configuration"),
        Case("oracle", lambda: oracledb.DatabaseError("ORA-01555: snapshot too old"), T,
             "a driver message naming ORA-01555"),
        Case("oracle", lambda: oracledb.DatabaseError(
            oe._create_err(oe.ERR_CALL_TIMEOUT_EXCEEDED, timeout=1000)), TO, "DPY-4024"),
    ]


def _clickhouse() -> list[Case]:
    import clickhouse_connect.driver.exceptions as cc
    import clickhouse_driver.errors as ch

    def server(code: int):
        return lambda: ch.ServerException(f"DB::Exception: error {code}", code=code)

    codes = [(241, T, "MEMORY_LIMIT_EXCEEDED"), (202, T, "TOO_MANY_SIMULTANEOUS_QUERIES"),
             (252, T, "TOO_MANY_PARTS"), (159, TO, "TIMEOUT_EXCEEDED"),
             (209, TO, "SOCKET_TIMEOUT"), (999, T, "KEEPER_EXCEPTION"),
             (60, P, "UNKNOWN_TABLE"), (62, P, "SYNTAX_ERROR"), (516, P, "AUTHENTICATION_FAILED"),
             (6, V, "CANNOT_PARSE_TEXT"), (53, V, "TYPE_MISMATCH"),
             (394, P, "QUERY_WAS_CANCELLED")]
    found = [Case("clickhouse", server(code), kind, f"clickhouse-driver {code} {name}")
             for code, kind, name in codes]
    found += [
        Case("clickhouse", lambda: ch.NetworkError("Connection refused (db:9000)"), T,
             "NetworkError"),
        Case("clickhouse", lambda: ch.SocketTimeoutError("timed out (db:9000)"), TO,
             "SocketTimeoutError"),
        Case("clickhouse", lambda: cc.DatabaseError(
            "HTTPDriver for http://db:8123 received ClickHouse error code 241\n Code: 241. "
            "DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED)"), T,
             "clickhouse-connect: the code in the message"),
        Case("clickhouse", lambda: cc.DatabaseError(
            "received ClickHouse error code 60\n Code: 60. DB::Exception: Table default.x "
            "does not exist. (UNKNOWN_TABLE)", code=60, name="UNKNOWN_TABLE"), P,
             "clickhouse-connect code 60"),
        Case("clickhouse", lambda: cc.OperationalError(
            "Error HTTPConnectionPool(host='db', port=8123): Max retries exceeded"), T,
             "clickhouse-connect OperationalError: the HTTP connection"),
    ]
    return found


def _trino() -> list[Case]:
    import trino.exceptions as t

    def query(cls, name: str, kind: str):
        return lambda: cls({"errorName": name, "errorType": kind, "message": name}, "q1")

    return [
        Case("trino", query(t.TrinoQueryError, "EXCEEDED_TIME_LIMIT", "INSUFFICIENT_RESOURCES"),
             TO, "EXCEEDED_TIME_LIMIT"),
        Case("trino", query(t.TrinoQueryError, "EXCEEDED_GLOBAL_MEMORY_LIMIT",
                            "INSUFFICIENT_RESOURCES"), T, "memory limit"),
        Case("trino", query(t.TrinoQueryError, "NO_NODES_AVAILABLE", "INTERNAL_ERROR"), T,
             "no workers"),
        Case("trino", query(t.TrinoQueryError, "GENERIC_INTERNAL_ERROR", "INTERNAL_ERROR"), T,
             "internal error: fault-tolerant execution retries it"),
        Case("trino", query(t.TrinoUserError, "TABLE_NOT_FOUND", "USER_ERROR"), P, "no table"),
        Case("trino", query(t.TrinoUserError, "SYNTAX_ERROR", "USER_ERROR"), P, "syntax"),
        Case("trino", query(t.TrinoUserError, "PERMISSION_DENIED", "USER_ERROR"), P, "access"),
        Case("trino", query(t.TrinoUserError, "INVALID_CAST_ARGUMENT", "USER_ERROR"), V,
             "a value that does not cast"),
        Case("trino", query(t.TrinoUserError, "DIVISION_BY_ZERO", "USER_ERROR"), V, "data"),
        Case("trino", query(t.TrinoUserError, "USER_CANCELED", "USER_ERROR"), P, "cancelled"),
        Case("trino", query(t.TrinoExternalError, "HIVE_METASTORE_ERROR", "EXTERNAL"), T,
             "metastore"),
        Case("trino", query(t.TrinoExternalError, "SOME_CONNECTOR_ERROR", "EXTERNAL"), T,
             "an unlisted EXTERNAL error: the class"),
        Case("trino", lambda: t.TrinoConnectionError("failed to connect"), T, "connection"),
        Case("trino", lambda: t.TrinoAuthError("authentication failed"), P, "auth"),
        Case("trino", lambda: t.Http503Error("error 503: Service Unavailable"), T, "503"),
    ]


def _snowflake() -> list[Case]:
    import warnings

    import snowflake.connector.errors as s

    warnings.filterwarnings("ignore", category=DeprecationWarning)

    def err(cls, errno: int, sqlstate: str | None, message: str):
        return lambda: cls(msg=message, errno=errno, sqlstate=sqlstate)

    return [
        Case("snowflake", err(s.OperationalError, 250001, "08001",
                              "Could not connect to Snowflake backend after 2 attempt(s)"), T,
             "250001 ER_FAILED_TO_CONNECT_TO_DB"),
        Case("snowflake", err(s.ProgrammingError, 2003, "02000",
                              "SQL compilation error: Object 'X' does not exist"), P, "2003"),
        Case("snowflake", err(s.ProgrammingError, 1003, "42000",
                              "SQL compilation error: syntax error"), P, "1003"),
        Case("snowflake", err(s.OperationalError, 630, "57014",
                              "Statement reached its statement or warehouse timeout"), TO,
             "630 statement timeout"),
        Case("snowflake", err(s.DatabaseError, 390100, "08004",
                              "Incorrect username or password was specified."), P, "390100"),
        Case("snowflake", err(s.ProgrammingError, 100038, "22018",
                              "Numeric value 'abc' is not recognized"), V, "100038"),
        Case("snowflake", err(s.ProgrammingError, 606, "57P03",
                              "No active warehouse selected in the current session"), P, "606"),
        Case("snowflake", err(s.DatabaseError, 390114, "08001",
                              "Authentication token has expired."), T,
             "390114: a new connection logs in"),
        Case("snowflake", err(s.ProgrammingError, 555555, "42S02", "unknown number"), P,
             "an unlisted number: SQLSTATE class 42"),
        Case("snowflake", lambda: s.ServiceUnavailableError(msg="HTTP 503"), T, "503"),
    ]


def _duckdb() -> list[Case]:
    import duckdb

    connection = duckdb.connect()
    return [
        Case("duckdb", lambda: raised(connection.execute, "SELECT * FROM missing_table"), P,
             "CatalogException"),
        Case("duckdb", lambda: raised(connection.execute, "SELECT 'x'::INTEGER"), V,
             "ConversionException"),
        Case("duckdb", lambda: raised(connection.execute, "SELEC 1"), P, "ParserException"),
        Case("duckdb", lambda: raised(connection.execute, "SELECT missing_col FROM range(1)"), P,
             "BinderException"),
        Case("duckdb", lambda: raised(connection.execute,
                                      "SELECT * FROM read_csv('/nonexistent/x.csv')"), P,
             "IOException: no such file"),
        Case("duckdb", lambda: raised(connection.execute, "SELECT 2147483647::INTEGER + 1"), V,
             "OutOfRangeException"),
        Case("duckdb", lambda: duckdb.TransactionException(
            "TransactionContext Error: Conflict on tuple deletion!"), T,
             "write-write conflict"),
        Case("duckdb", lambda: duckdb.IOException(
            'IO Error: Could not set lock on file "x.db": Conflicting lock is held'), T,
             "another process holds the file"),
        Case("duckdb", lambda: duckdb.OutOfMemoryException("Out of Memory Error"), T, "memory"),
        Case("duckdb", lambda: duckdb.ConstraintException("Duplicate key"), V, "constraint"),
    ]
