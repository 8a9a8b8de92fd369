"""Built-in knowledge: ClickHouse (clickhouse-driver, clickhouse-connect).

The server's error codes (``src/Common/ErrorCodes.cpp`` in ClickHouse; the same numbers
as ``clickhouse_driver.errors.ErrorCodes``) decide. clickhouse-driver keeps the code in
``code``; clickhouse-connect in ``code`` when it read the ``X-ClickHouse-Exception-Code``
header, and always in the message (``Code: 241. DB::Exception: ...``).

TRANSIENT: the network (209, 210, 279), load the server sheds (202 too many
simultaneous queries, 241 memory limit, 252 too many parts: "merges are processing
significantly slower than inserts"), replication and Keeper hiccups (285, 286, 999, 319
unknown status of insert: ClickHouse's docs say to retry the same insert, which
deduplicates). TIMEOUT: 159, 160. PERMANENT: unknown objects, syntax, access. VALIDATION:
the data does not parse or does not fit its type.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_CODE_IN_MESSAGE = r"\bCode:\s*(\d+)"
CODE_SOURCES = {
    "clickhouse_driver.errors.Error": [CodeSource("clickhouse", code="code")],
    "clickhouse_connect.driver.exceptions.Error": [
        CodeSource("clickhouse", code="code", message=_CODE_IN_MESSAGE),
    ],
}

CODES = {
    "clickhouse": {
        159: TO,  # TIMEOUT_EXCEEDED
        160: TO,  # TOO_SLOW
        209: TO,  # SOCKET_TIMEOUT
        210: T,  # NETWORK_ERROR
        279: T,  # ALL_CONNECTION_TRIES_FAILED
        95: T, 96: T,  # CANNOT_READ_FROM_SOCKET, CANNOT_WRITE_TO_SOCKET
        202: T,  # TOO_MANY_SIMULTANEOUS_QUERIES
        203: T,  # NO_FREE_CONNECTION
        241: T,  # MEMORY_LIMIT_EXCEEDED
        173: T,  # CANNOT_ALLOCATE_MEMORY
        252: T,  # TOO_MANY_PARTS
        236: T,  # ABORTED
        285: T,  # TOO_FEW_LIVE_REPLICAS
        286: T,  # UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
        319: T,  # UNKNOWN_STATUS_OF_INSERT
        999: T,  # KEEPER_EXCEPTION
        234: T,  # NO_REPLICA_HAS_PART
        373: T,  # SESSION_IS_LOCKED
        439: T,  # CANNOT_SCHEDULE_TASK
        242: T,  # TABLE_IS_READ_ONLY (a replica lost its Keeper session)
        1000: T,  # POCO_EXCEPTION (mostly network)
        394: P,  # QUERY_WAS_CANCELLED: someone cancelled it
        201: P,  # QUOTA_EXCEEDED (a user quota: raised by an administrator)
        60: P, 81: P, 47: P, 46: P, 8: P, 10: P,  # unknown table, database, identifier...
        62: P,  # SYNTAX_ERROR
        57: P, 82: P,  # TABLE_ALREADY_EXISTS, DATABASE_ALREADY_EXISTS
        192: P, 193: P, 194: P, 516: P, 497: P,  # users, passwords, access
        164: P,  # READONLY (the user's setting)
        43: P, 42: P,  # ILLEGAL_TYPE_OF_ARGUMENT, NUMBER_OF_ARGUMENTS_DOESNT_MATCH
        115: P, 318: P,  # UNKNOWN_SETTING, INVALID_CONFIG_PARAMETER
        243: P,  # NOT_ENOUGH_SPACE
        49: P,  # LOGICAL_ERROR (a bug in ClickHouse)
        158: P, 307: P,  # TOO_MANY_ROWS, TOO_MANY_BYTES (limits of the query)
        6: V, 25: V, 26: V, 27: V, 38: V, 41: V, 72: V,  # CANNOT_PARSE_*
        53: V, 70: V, 117: V, 69: V, 321: V, 349: V,  # type mismatch, incorrect data, ranges
        32: V,  # ATTEMPT_TO_READ_AFTER_EOF (input data cut short)
    },
}

TYPES = {
    "clickhouse_driver.errors.NetworkError": T,
    "clickhouse_driver.errors.SocketTimeoutError": TO,
    "clickhouse_driver.errors.UnexpectedPacketFromServerError": T,
    "clickhouse_driver.errors.TypeMismatchError": V,
    "clickhouse_driver.errors.CannotParseUuidError": V,
    "clickhouse_driver.errors.CannotParseDomainError": V,
    "clickhouse_driver.errors.TooLargeStringSize": V,
    "clickhouse_driver.errors.UnknownTypeError": P,
    "clickhouse_driver.errors.PartiallyConsumedQueryError": P,
    "clickhouse_connect.driver.exceptions.StreamClosedError": P,
    "clickhouse_connect.driver.exceptions.StreamFailureError": T,
}

_CC = "clickhouse_connect.driver.exceptions"
GENERIC_TYPES = {
    "clickhouse_driver.errors.ServerException": P,
    f"{_CC}.OperationalError": T,  # "Error ... executing HTTP request": the connection
    f"{_CC}.DatabaseError": P,
    f"{_CC}.ProgrammingError": P,
    f"{_CC}.DataError": V,
    f"{_CC}.InterfaceError": P,
}
