"""Built-in knowledge: DuckDB (the ``duckdb`` Python package; classes in module ``_duckdb``).

DuckDB raises one class per kind of failure (its C++ ``ExceptionType``, listed in the
Python API's "Exceptions" page), each under a DB-API base. An in-process database has
no network: what fails again on retry is the query, the catalog or the data, so most
classes are PERMANENT or VALIDATION. TRANSIENT: a write-write conflict between
transactions (``TransactionException``: "Conflict on tuple deletion"), a file held by
another process (``IOException`` "Could not set lock on file"), running out of memory.
``HTTPException`` (httpfs reading from HTTP or S3) carries the response's
``status_code``, which the generic layer reads.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_D = "_duckdb"
TYPES = {
    f"{_D}.TransactionException": T,
    f"{_D}.OutOfMemoryException": T,
    f"{_D}.InterruptException": P,  # interrupt() was called: someone stopped it
    f"{_D}.CatalogException": P,
    f"{_D}.BinderException": P,
    f"{_D}.ParserException": P,
    f"{_D}.SyntaxException": P,
    f"{_D}.PermissionException": P,
    f"{_D}.DependencyException": P,
    f"{_D}.SequenceException": P,
    f"{_D}.NotImplementedException": P,
    f"{_D}.InternalException": P,
    f"{_D}.FatalException": P,  # the database is invalidated: a new connection is needed
    f"{_D}.ConnectionException": P,  # "Connection already closed"
    f"{_D}.InvalidInputException": V,
    f"{_D}.ConversionException": V,
    f"{_D}.ConstraintException": V,
    f"{_D}.OutOfRangeException": V,
    f"{_D}.TypeMismatchException": V,
    f"{_D}.InvalidTypeException": V,
    f"{_D}.SerializationException": V,
}

# IOException: files. A lock held by another process goes away; a missing file does not.
TYPE_MESSAGES = {
    f"{_D}.IOException": [
        (r"could not set lock on file|conflicting lock is held", T, "file locked"),
        (r"no files found|no such file|cannot open file|does not exist", P, "no such file"),
        (r"permission denied", P, "permission denied"),
    ],
}

GENERIC_TYPES = {
    f"{_D}.HTTPException": T,  # its status decides first (generic layer)
    f"{_D}.IOException": T,
    f"{_D}.OperationalError": T,
    f"{_D}.ProgrammingError": P,
    f"{_D}.DataError": V,
    f"{_D}.IntegrityError": V,
    f"{_D}.InternalError": P,
    f"{_D}.NotSupportedError": P,
    f"{_D}.DatabaseError": P,
    f"{_D}.Error": P,
}
