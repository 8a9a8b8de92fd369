"""Built-in knowledge: SQLAlchemy.

SQLAlchemy wraps every driver error in a ``DBAPIError`` subclass named after
the DB-API class and keeps the driver's error in ``.orig``, which the chain
walk visits right after the wrapper. The wrappers are therefore generic: the
driver's SQLSTATE or type decides, the wrapper only when nothing inside does
(a driver SQLAlchemy has no knowledge of). SQLAlchemy's own errors, raised
without a driver error, are specific.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_SA = "sqlalchemy.exc"

GENERIC_TYPES = {
    f"{_SA}.OperationalError": T,
    f"{_SA}.IntegrityError": V,  # as SQLSTATE class 23 (see postgres)
    f"{_SA}.DataError": V,
    f"{_SA}.ProgrammingError": P,
    f"{_SA}.InterfaceError": P,
    f"{_SA}.InternalError": P,
    f"{_SA}.NotSupportedError": P,
    f"{_SA}.StatementError": P,  # parameter processing failed; .orig (TypeError...) decides
    f"{_SA}.TimeoutError": TO,  # "QueuePool limit of size 5 overflow 10 reached"
    f"{_SA}.DisconnectionError": T,  # pool pre-ping / checkout found a dead connection
}

TYPES = {
    f"{_SA}.PendingRollbackError": P,  # the session needs rollback() after an earlier error
    f"{_SA}.NoResultFound": P,
    f"{_SA}.MultipleResultsFound": V,  # the data broke a uniqueness the code assumed
    f"{_SA}.NoSuchTableError": P,
    f"{_SA}.NoSuchColumnError": P,
    f"{_SA}.ArgumentError": P,
    f"{_SA}.CompileError": P,
    f"{_SA}.InvalidRequestError": P,
    f"{_SA}.ResourceClosedError": P,
    f"{_SA}.NoReferenceError": P,
    f"{_SA}.CircularDependencyError": P,
}
