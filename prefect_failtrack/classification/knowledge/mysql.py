"""Built-in knowledge: MySQL and MariaDB (PyMySQL, aiomysql, mysqlclient, mysql-connector).

The server's and the client library's error numbers decide (MySQL's "Server Error
Message Reference" and "Client Error Message Reference"; MariaDB's "MariaDB Error
Codes"). PyMySQL, aiomysql and mysqlclient keep the number in ``args[0]``
(``pymysql/err.py``: ``raise errorclass(errno, errval)``), mysql-connector in
``errno`` (and the SQLSTATE in ``sqlstate``). The driver's class follows the number
only loosely (PyMySQL raises ``OperationalError`` for every number >= 1000 it does not
map, ``InternalError`` below), so the number comes first and the classes are generic.

Choices: lost connections, server shutdowns, deadlocks, lock waits (InnoDB rolls back
the statement; MySQL's manual: "retry the transaction") and writes refused by a
read-only replica mid-failover are TRANSIENT; the statement time limits (MariaDB 1969
``max_statement_time``, MySQL 3024 ``max_execution_time``) are TIMEOUT; access,
unknown objects and syntax are PERMANENT; values and constraints VALIDATION.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_ARGS = [CodeSource("mysql", code="args[0]")]
CODE_SOURCES = {
    "pymysql.err.MySQLError": _ARGS,  # aiomysql raises PyMySQL's errors
    "MySQLdb._exceptions.MySQLError": _ARGS,  # mysqlclient
    "mysql.connector.errors.Error": [CodeSource("mysql", code="errno")],
    "mariadb.Error": [CodeSource("mysql", code="errno")],  # MariaDB Connector/Python
}

CODES = {
    "mysql": {
        range(1000, 2000): P,  # server errors not listed below: statements that fail as written
        range(2000, 3000): T,  # client library errors: mostly the connection
        range(3000, 5000): P,
        # connections
        1040: T,  # ER_CON_COUNT_ERROR: Too many connections
        1042: T,  # ER_BAD_HOST_ERROR: Can't get hostname for your address
        1043: T,  # ER_HANDSHAKE_ERROR
        1053: T,  # ER_SERVER_SHUTDOWN: Server shutdown in progress
        1077: T,  # ER_NORMAL_SHUTDOWN
        1079: T,  # ER_SHUTDOWN_COMPLETE
        1080: T,  # ER_FORCING_CLOSE
        1081: T,  # ER_IPSOCK_ERROR
        1129: P,  # ER_HOST_IS_BLOCKED: until FLUSH HOSTS
        1130: P,  # ER_HOST_NOT_PRIVILEGED
        1135: T,  # ER_CANT_CREATE_THREAD
        1152: T,  # ER_ABORTING_CONNECTION
        1153: P,  # ER_NET_PACKET_TOO_LARGE: raise max_allowed_packet
        1158: T,  # ER_NET_READ_ERROR
        1159: TO,  # ER_NET_READ_INTERRUPTED: net_read_timeout
        1160: T,  # ER_NET_ERROR_ON_WRITE
        1161: TO,  # ER_NET_WRITE_INTERRUPTED: net_write_timeout
        1184: T,  # ER_NEW_ABORTING_CONNECTION
        1203: T,  # ER_TOO_MANY_USER_CONNECTIONS
        1226: T,  # ER_USER_LIMIT_REACHED: max_queries_per_hour and friends
        1927: T,  # ER_CONNECTION_KILLED (MariaDB)
        4031: T,  # ER_CLIENT_INTERACTION_TIMEOUT: disconnected for inactivity; reconnect
        # concurrency
        1205: T,  # ER_LOCK_WAIT_TIMEOUT: "try restarting transaction"
        1206: T,  # ER_LOCK_TABLE_FULL
        1213: T,  # ER_LOCK_DEADLOCK: "try restarting transaction"
        1412: T,  # ER_TABLE_DEF_CHANGED: "please retry transaction"
        1614: T,  # ER_XA_RBDEADLOCK
        1637: T,  # ER_TOO_MANY_CONCURRENT_TRXS
        3101: T,  # ER_TRANSACTION_ROLLBACK_DURING_COMMIT (group replication)
        3572: T,  # ER_LOCK_NOWAIT
        1317: T,  # ER_QUERY_INTERRUPTED: KILL QUERY, a failover
        1290: T,  # ER_OPTION_PREVENTS_STATEMENT (--read-only): a replica, mid-failover
        1836: T,  # ER_READ_ONLY_MODE
        1792: P,  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION: the code asked for it
        # time limits
        1969: TO,  # ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
        3024: TO,  # ER_QUERY_TIMEOUT (MySQL max_execution_time)
        # access, objects, syntax
        1044: P,  # ER_DBACCESS_DENIED_ERROR
        1045: P,  # ER_ACCESS_DENIED_ERROR
        1142: P,  # ER_TABLEACCESS_DENIED_ERROR: command denied
        1143: P,  # ER_COLUMNACCESS_DENIED_ERROR
        1227: P,  # ER_SPECIFIC_ACCESS_DENIED_ERROR
        1049: P,  # ER_BAD_DB_ERROR: Unknown database
        1146: P,  # ER_NO_SUCH_TABLE
        1054: P,  # ER_BAD_FIELD_ERROR: Unknown column
        1064: P,  # ER_PARSE_ERROR
        1114: P,  # ER_RECORD_FILE_FULL: The table is full
        1021: P,  # ER_DISK_FULL
        # values and constraints (as SQLSTATE classes 22 and 23)
        1048: V,  # ER_BAD_NULL_ERROR
        1062: V,  # ER_DUP_ENTRY
        1169: V,  # ER_DUP_UNIQUE
        1216: V,  # ER_NO_REFERENCED_ROW
        1217: V,  # ER_ROW_IS_REFERENCED
        1451: V,  # ER_ROW_IS_REFERENCED_2
        1452: V,  # ER_NO_REFERENCED_ROW_2
        1264: V,  # ER_WARN_DATA_OUT_OF_RANGE
        1265: V,  # WARN_DATA_TRUNCATED
        1292: V,  # ER_TRUNCATED_WRONG_VALUE
        1366: V,  # ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
        1406: V,  # ER_DATA_TOO_LONG
        1365: V,  # ER_DIVISION_BY_ZERO
        1411: V,  # ER_WRONG_VALUE_FOR_TYPE
        3819: V,  # ER_CHECK_CONSTRAINT_VIOLATED
        4025: V,  # ER_CONSTRAINT_FAILED (MariaDB)
        # client library (CR_*): the connection, except these
        2026: P,  # CR_SSL_CONNECTION_ERROR: TLS settings
        2059: P,  # CR_AUTH_PLUGIN_CANNOT_LOAD
        2061: P,  # CR_AUTH_PLUGIN_ERR: e.g. caching_sha2_password needs TLS
        2014: P,  # CR_COMMANDS_OUT_OF_SYNC: a bug in the caller
        2048: P,  # CR_INVALID_CONN_HANDLE
        2047: P,  # CR_CONN_UNKNOW_PROTOCOL
    },
}

_PYMYSQL, _CONNECTOR = "pymysql.err", "mysql.connector.errors"
TYPES = {
    f"{_CONNECTOR}.ConnectionTimeoutError": TO,
    f"{_CONNECTOR}.ReadTimeoutError": TO,
    f"{_CONNECTOR}.WriteTimeoutError": TO,
    f"{_CONNECTOR}.PoolError": TO,  # "Failed getting connection; pool exhausted"
}

# Errors raised by the driver itself carry no number (or -1): their DB-API class.
GENERIC_TYPES = {
    f"{_PYMYSQL}.OperationalError": T,
    f"{_PYMYSQL}.InterfaceError": P,  # "(0, '')": a closed connection used again
    f"{_PYMYSQL}.ProgrammingError": P,
    f"{_PYMYSQL}.DataError": V,
    f"{_PYMYSQL}.IntegrityError": V,
    f"{_PYMYSQL}.InternalError": P,
    f"{_PYMYSQL}.NotSupportedError": P,
    f"{_CONNECTOR}.OperationalError": T,
    f"{_CONNECTOR}.InterfaceError": T,  # mysql-connector raises it for refused connections
    f"{_CONNECTOR}.ProgrammingError": P,
    f"{_CONNECTOR}.DataError": V,
    f"{_CONNECTOR}.IntegrityError": V,
    f"{_CONNECTOR}.InternalError": P,
    f"{_CONNECTOR}.NotSupportedError": P,
}
