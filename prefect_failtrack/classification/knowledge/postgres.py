"""Built-in knowledge: PostgreSQL SQLSTATEs and the drivers psycopg 3, psycopg2 and asyncpg.

Server errors carry a SQLSTATE (psycopg 3 and asyncpg: ``sqlstate``, psycopg2:
``pgcode``), which decides before any type. Integrity violations (class 23) are
VALIDATION: a duplicate key or a missing parent row is a fact about the rows
being written, the fix is in the data, and retrying the same rows cannot help.

Errors raised while connecting carry no SQLSTATE in psycopg and psycopg2 (libpq
does not expose it): their ``OperationalError`` is TRANSIENT (refused, reset,
DNS, server starting up) except for the messages in ``TYPE_MESSAGES`` that no
retry fixes (no such database or role, authentication).
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

# Classes first, then exact codes (an exact code beats its class).
SQLSTATES = {
    "08": T,  # connection exception
    "0A": P,  # feature not supported
    "20": P,  # case not found
    "21": V,  # cardinality violation: "more than one row returned by a subquery"
    "22": V,  # data exception: bad values (invalid_text_representation, division by zero...)
    "23": V,  # integrity constraint violation (see the module docstring)
    "24": P,  # invalid cursor state
    "25": P,  # invalid transaction state (in_failed_sql_transaction is a bug upstream)
    "26": P,
    "27": P,
    "28": P,  # invalid authorization specification
    "2B": P,
    "2D": P,
    "2F": P,
    "34": P,
    "38": P,
    "39": P,
    "3B": P,
    "3D": P,  # invalid catalog name: no such database
    "3F": P,  # invalid schema name
    "40": T,  # transaction rollback: serialization failure, deadlock
    "42": P,  # syntax error or access rule violation
    "44": P,
    "53": T,  # insufficient resources: too many connections, out of memory
    "54": P,  # program limit exceeded: statement too complex
    "55": P,  # object not in prerequisite state
    "57": T,  # operator intervention: shutdowns, restarts
    "58": T,  # system error: I/O errors outside PostgreSQL
    "72": T,  # snapshot too old: a new snapshot on the next attempt
    "F0": P,  # configuration file error
    "HV": P,  # foreign data wrapper
    "P0": P,  # PL/pgSQL: RAISE EXCEPTION, assert failure
    "XX": P,  # internal error, data corrupted
    "40001": T,  # serialization_failure
    "40P01": T,  # deadlock_detected
    "40002": V,  # transaction_integrity_constraint_violation (deferred constraint at commit)
    "40003": T,  # statement_completion_unknown
    "25006": T,  # read_only_sql_transaction: connected to a standby, usually mid-failover
    "25P03": TO,  # idle_in_transaction_session_timeout
    "53100": P,  # disk_full, as errno ENOSPC
    "53400": P,  # configuration_limit_exceeded: raise the limit, retrying will not
    "55006": T,  # object_in_use
    "55P03": T,  # lock_not_available (NOWAIT, lock_timeout)
    "57014": TO,  # query_canceled: statement_timeout (or a cancel request)
    "57P01": T,  # admin_shutdown
    "57P02": T,  # crash_shutdown
    "57P03": T,  # cannot_connect_now: starting up, in recovery
    "57P04": P,  # database_dropped
    "57P05": TO,  # idle_session_timeout
    "58P01": P,  # undefined_file
    "58P02": P,  # duplicate_file
    "HV00N": T,  # fdw_unable_to_establish_connection
}

# pg8000 keeps the server's error fields in a dict, ``args[0]`` (``{'S': 'ERROR',
# 'C': '57014', 'M': ...}``: pg8000/core.py ``handle_ERROR_RESPONSE``).
CODE_SOURCES = {
    "pg8000.exceptions.DatabaseError": [CodeSource("sqlstate", code="args[0]['C']")],
}

# Driver classes for errors without a SQLSTATE (raised by the client itself),
# and for SQLSTATEs nothing above knows. The SQLSTATE is always asked first.
TYPES = {
    "psycopg.OperationalError": T,
    "psycopg.errors.ConnectionTimeout": TO,
    "psycopg.errors.CancellationTimeout": TO,
    "psycopg.InterfaceError": P,
    "psycopg.ProgrammingError": P,  # "the query has 2 placeholders but 1 parameters were passed"
    "psycopg.DataError": V,
    "psycopg.IntegrityError": V,
    "psycopg.InternalError": P,
    "psycopg.NotSupportedError": P,
    "psycopg2.OperationalError": T,
    "psycopg2.InterfaceError": P,
    "psycopg2.ProgrammingError": P,
    "psycopg2.DataError": V,
    "psycopg2.IntegrityError": V,
    "psycopg2.InternalError": P,
    "psycopg2.NotSupportedError": P,
    # asyncpg: server errors have a class-level sqlstate; these are client-side.
    "asyncpg.exceptions._base.InterfaceError": P,  # "another operation is in progress"
    "asyncpg.exceptions._base.ClientConfigurationError": P,
    "asyncpg.exceptions._base.ProtocolError": T,
    "asyncpg.exceptions._base.OutdatedSchemaCacheError": T,  # asyncpg resets its cache
    "asyncpg.exceptions._base.TargetServerAttributeNotMatched": T,  # no primary yet (failover)
    # pg8000 raises InterfaceError for "network error" and connections it cannot make
    "pg8000.exceptions.InterfaceError": T,
}

GENERIC_TYPES = {
    "pg8000.exceptions.DatabaseError": P,  # its SQLSTATE decides first
}

_CONNECT_REFUSED_FOR_GOOD = [
    (r'database "[^"]*" does not exist', P, "database does not exist"),
    (r'role "[^"]*" does not exist', P, "role does not exist"),
    (
        r"password authentication failed|authentication failed for user|no pg_hba\.conf entry"
        r"|fe_sendauth: no password supplied|permission denied for database",
        P,
        "authentication failed",
    ),
]

TYPE_MESSAGES = {
    "psycopg.OperationalError": _CONNECT_REFUSED_FOR_GOOD,
    "psycopg2.OperationalError": _CONNECT_REFUSED_FOR_GOOD,
    # psycopg2 raises InterfaceError on a connection the server already dropped
    "psycopg2.InterfaceError": [(r"connection already closed", T, "connection closed")],
    "asyncpg.exceptions._base.InterfaceError": [
        (r"connection (?:is|was) closed", T, "connection closed"),
    ],
}
