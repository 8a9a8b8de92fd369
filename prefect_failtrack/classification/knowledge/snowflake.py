"""Built-in knowledge: Snowflake (snowflake-connector-python).

Errors carry Snowflake's error number in ``errno`` (server codes such as 2003 or 630,
the connector's own 25xxxx: ``snowflake/connector/errorcode.py``) and the SQLSTATE in
``sqlstate``. ``errno`` is claimed, so that 2003 is never read as an OS errno. The
number decides, then the SQLSTATE (by PostgreSQL's classes: `postgres`), then the class.
The connector retries HTTP 5xx and 429 itself; what reaches a task has run out of those.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

CODE_SOURCES = {
    "snowflake.connector.errors.Error": [CodeSource("snowflake", code="errno")],
}

CODES = {
    "snowflake": {
        # the connector's own
        250001: T,  # ER_FAILED_TO_CONNECT_TO_DB
        250002: P,  # ER_CONNECTION_IS_CLOSED: a closed connection used again
        250003: T,  # ER_FAILED_TO_REQUEST
        251001: P, 251005: P, 251006: P,  # no account, user, password
        251007: V,  # ER_INVALID_VALUE
        252005: V,  # ER_FAILED_TO_CONVERT_ROW_TO_PYTHON_TYPE
        252006: P,  # ER_CURSOR_IS_CLOSED
        253006: P,  # ER_FILE_NOT_EXISTS
        # the service's
        390100: P,  # Incorrect username or password was specified
        390101: P, 390102: P,  # user locked / disabled
        390114: T,  # Authentication token has expired: a new connection logs in again
        390144: P,  # JWT token is invalid
        390189: P,  # role not granted
        390201: P,  # the requested warehouse does not exist or not authorized
        2003: P,  # SQL compilation error: object does not exist or not authorized
        1003: P,  # SQL compilation error: syntax error
        904: P,  # invalid identifier
        2140: P,  # unknown function
        3001: P,  # insufficient privileges
        606: P,  # No active warehouse selected in the current session
        90105: P, 90106: P,  # no current database / schema
        630: TO,  # Statement reached its statement or warehouse timeout
        604: TO,  # SQL execution canceled (the client's timeout)
        625: T,  # too many waiters for this lock
        603: T,  # SQL execution internal error: "please retry"
        100038: V,  # Numeric value is not recognized
        100040: V,  # Date is not recognized
        100035: V,  # Timestamp is not recognized
        100071: V,  # Failed to cast variant value
        100072: V,  # NULL result in a non-nullable column
        100069: V,  # Error parsing JSON
    },
}

_X = "snowflake.connector.errors"
TYPES = {
    f"{_X}.RequestTimeoutError": TO,
    f"{_X}.GatewayTimeoutError": TO,
    f"{_X}.ServiceUnavailableError": T,
    f"{_X}.BadGatewayError": T,
    f"{_X}.InternalServerError": T,
    f"{_X}.OtherHTTPRetryableError": T,
    f"{_X}.ForbiddenError": P,
    f"{_X}.RefreshTokenError": P,
    f"{_X}.TokenExpiredError": T,
    f"{_X}.MissingDependencyError": P,
    f"{_X}.ConfigSourceError": P,
    f"{_X}.PresignedUrlExpiredError": T,  # a new URL is asked for on the next attempt
}

GENERIC_TYPES = {
    f"{_X}.OperationalError": T,
    f"{_X}.InterfaceError": P,
    f"{_X}.ProgrammingError": P,
    f"{_X}.DataError": V,
    f"{_X}.IntegrityError": V,
    f"{_X}.InternalError": P,
    f"{_X}.NotSupportedError": P,
    f"{_X}.DatabaseError": P,
    f"{_X}.Error": P,
}
