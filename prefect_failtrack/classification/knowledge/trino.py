"""Built-in knowledge: Trino and Presto (trino, presto-python-client).

A failed query carries the engine's error name and type (``error_name``,
``error_type`` of ``TrinoQueryError``, from the ``error`` of the query's JSON;
the names are Trino's ``StandardErrorCode`` and the connectors' error codes).
trino's client picks the class from the type (``trino/client.py``
``_process_error``): ``TrinoUserError`` for ``USER_ERROR``, ``TrinoExternalError`` for
``EXTERNAL``, a plain ``TrinoQueryError`` for ``INTERNAL_ERROR`` and
``INSUFFICIENT_RESOURCES``. The name decides; the class only when the name is not
listed: a user error is PERMANENT, the others TRANSIENT (Trino's own fault-tolerant
execution retries ``INTERNAL_ERROR``, ``EXTERNAL`` and ``INSUFFICIENT_RESOURCES``
failures, never ``USER_ERROR``).

The client itself retries 502/503/504 (``Http50xError``) before raising them.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

CODE_SOURCES = {
    "trino.exceptions.TrinoQueryError": [CodeSource("trino", code="error_name")],
    "prestodb.exceptions.PrestoQueryError": [CodeSource("trino", code="error_name")],
}

CODES = {
    "trino": {
        # time and resources
        "EXCEEDED_TIME_LIMIT": TO,  # query_max_execution_time / query_max_run_time
        "PAGE_TRANSPORT_TIMEOUT": TO,
        "ABANDONED_QUERY": TO,  # the client stopped polling
        "EXCEEDED_CPU_LIMIT": P,  # the query's own limit: it will use as much CPU again
        "EXCEEDED_SCAN_LIMIT": P,
        "EXCEEDED_GLOBAL_MEMORY_LIMIT": T,
        "EXCEEDED_LOCAL_MEMORY_LIMIT": T,
        "CLUSTER_OUT_OF_MEMORY": T,
        "EXCEEDED_SPILL_LIMIT": T,
        "QUERY_QUEUE_FULL": T,
        "QUERY_REJECTED": T,
        "SERVER_STARTING_UP": T,
        "SERVER_SHUTTING_DOWN": T,
        "NO_NODES_AVAILABLE": T,
        "REMOTE_TASK_ERROR": T,
        "REMOTE_TASK_MISMATCH": T,
        "REMOTE_HOST_GONE": T,
        "PAGE_TRANSPORT_ERROR": T,
        "TOO_MANY_REQUESTS_FAILED": T,
        "ADMINISTRATIVELY_PREEMPTED": T,
        "TRANSACTION_CONFLICT": T,
        "HIVE_METASTORE_ERROR": T,
        "HIVE_CANNOT_OPEN_SPLIT": T,
        "HIVE_FILESYSTEM_ERROR": T,
        "HIVE_PARTITION_DROPPED_DURING_QUERY": T,
        "ICEBERG_COMMIT_ERROR": T,  # a concurrent commit; the next attempt rebases
        "DELTA_LAKE_FILESYSTEM_ERROR": T,
        "JDBC_ERROR": T,
        "GENERIC_INTERNAL_ERROR": T,
        # people and plans
        "USER_CANCELED": P,
        "ADMINISTRATIVELY_KILLED": P,
        "PERMISSION_DENIED": P,
        "SYNTAX_ERROR": P,
        "NOT_SUPPORTED": P,
        "NOT_FOUND": P,
        "CATALOG_NOT_FOUND": P,
        "SCHEMA_NOT_FOUND": P,
        "TABLE_NOT_FOUND": P,
        "COLUMN_NOT_FOUND": P,
        "FUNCTION_NOT_FOUND": P,
        "MISSING_CATALOG_NAME": P,
        "MISSING_SCHEMA_NAME": P,
        "AMBIGUOUS_NAME": P,
        "ALREADY_EXISTS": P,
        "TABLE_ALREADY_EXISTS": P,
        "SCHEMA_ALREADY_EXISTS": P,
        "TYPE_MISMATCH": P,  # the query's expressions, as written
        "GENERIC_USER_ERROR": P,
        "QUERY_HAS_TOO_MANY_STAGES": P,
        "HIVE_PARTITION_SCHEMA_MISMATCH": P,
        # the data
        "INVALID_CAST_ARGUMENT": V,
        "INVALID_FUNCTION_ARGUMENT": V,
        "INVALID_ARGUMENTS": V,
        "DIVISION_BY_ZERO": V,
        "NUMERIC_VALUE_OUT_OF_RANGE": V,
        "CONSTRAINT_VIOLATION": V,
        "INVALID_LITERAL": V,
        "HIVE_BAD_DATA": V,
        "HIVE_INVALID_PARTITION_VALUE": V,
        "INVALID_JSON_LITERAL": V,
    },
}

_X = "trino.exceptions"
TYPES = {
    f"{_X}.TrinoAuthError": P,
    f"{_X}.TrinoConnectionError": T,
    f"{_X}.TrinoDataError": V,
    f"{_X}.Http502Error": T,
    f"{_X}.Http503Error": T,
    f"{_X}.Http504Error": TO,
}

GENERIC_TYPES = {
    f"{_X}.TrinoUserError": P,
    f"{_X}.TrinoExternalError": T,
    f"{_X}.TrinoInternalError": T,
    f"{_X}.TrinoQueryError": T,  # INTERNAL_ERROR or INSUFFICIENT_RESOURCES
    f"{_X}.HttpError": T,
    f"{_X}.OperationalError": T,
    f"{_X}.ProgrammingError": P,
    f"{_X}.DataError": V,
    f"{_X}.NotSupportedError": P,
    f"{_X}.InterfaceError": P,
    f"{_X}.DatabaseError": P,
}
