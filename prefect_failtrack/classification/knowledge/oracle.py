"""Built-in knowledge: Oracle Database (python-oracledb, cx_Oracle).

Both drivers raise DB-API classes whose ``args[0]`` is an error object with
``full_code`` (``ORA-00942``, or python-oracledb's own ``DPY-4011`` /
``DPI-1080``), ``code`` and ``isrecoverable``. python-oracledb maps the ORA numbers
that mean a dead session to ``DPY-4011`` (``oracledb/errors.py``,
``ERR_ORACLE_ERROR_XREF``) and sets ``isrecoverable`` for
``ERR_RECOVERABLE_ERROR_CODES`` (1033, 1034, 1090, 12514, 12571...): that verdict
counts when it says "recoverable"; False only means "not known to be".
The numbers: Oracle's "Database Error Messages" reference and python-oracledb's
"Error Messages" appendix.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_SOURCE = [
    CodeSource(
        "oracle", code="args[0].full_code", verdict="args[0].isrecoverable", only_true=True,
        message=r"\b((?:ORA|DPY|DPI)-\d{4,5})\b",
    ),
]
CODE_SOURCES = {
    "oracledb.exceptions.Error": _SOURCE,
    "cx_Oracle.Error": _SOURCE,
}

CODES = {
    "oracle": {
        # connections and instances
        "ORA-00018": T, "ORA-00020": T,  # maximum sessions / processes exceeded
        "ORA-00028": T,  # your session has been killed
        "ORA-01012": T,  # not logged on
        "ORA-01033": T, "ORA-01034": T, "ORA-01089": T, "ORA-01090": T,  # start-up, shutdown
        "ORA-03113": T, "ORA-03114": T, "ORA-03135": T,  # end-of-file, not connected, lost
        "ORA-12170": TO,  # TNS:Connect timeout occurred
        "ORA-12514": T,  # service not (yet) registered with the listener
        "ORA-12516": T, "ORA-12519": T, "ORA-12520": T,  # no appropriate service handler
        "ORA-12528": T, "ORA-12537": T, "ORA-12541": T, "ORA-12543": T, "ORA-12547": T,
        "ORA-12560": T, "ORA-12571": T, "ORA-12757": T,
        "ORA-25408": T,  # can not safely replay call
        "ORA-04068": T, "ORA-04061": T,  # existing state of packages discarded
        "ORA-04030": T, "ORA-04031": T,  # out of process / shared memory
        # concurrency
        "ORA-00054": T,  # resource busy and acquire with NOWAIT specified
        "ORA-00060": T,  # deadlock detected
        "ORA-08177": T,  # can't serialize access for this transaction
        "ORA-30006": T,  # resource busy; acquire with WAIT timeout expired
        "ORA-01555": T,  # snapshot too old
        "ORA-01013": TO,  # user requested cancel (the driver's call_timeout)
        # permanent
        "ORA-01017": P,  # invalid username/password
        "ORA-01031": P,  # insufficient privileges
        "ORA-01045": P,  # lacks CREATE SESSION privilege
        "ORA-28000": P,  # the account is locked
        "ORA-28001": P,  # the password has expired
        "ORA-12154": P,  # could not resolve the connect identifier
        "ORA-12505": P,  # listener does not know of the SID
        "ORA-00942": P,  # table or view does not exist
        "ORA-00904": P,  # invalid identifier
        "ORA-00900": P, "ORA-00933": P, "ORA-00936": P,  # invalid / malformed SQL
        "ORA-00955": P,  # name is already used by an existing object
        "ORA-01652": P, "ORA-01653": P, "ORA-01654": P, "ORA-01688": P,  # unable to extend
        "ORA-30036": P,  # unable to extend undo segment
        # the data
        "ORA-00001": V,  # unique constraint violated
        "ORA-01400": V,  # cannot insert NULL
        "ORA-01407": V,  # cannot update to NULL
        "ORA-01401": V, "ORA-12899": V,  # value too large for column
        "ORA-01438": V,  # value larger than specified precision
        "ORA-01722": V,  # invalid number
        "ORA-01830": V, "ORA-01840": V, "ORA-01841": V, "ORA-01843": V, "ORA-01847": V,
        "ORA-01858": V, "ORA-01861": V,  # dates that do not parse
        "ORA-02290": V,  # check constraint violated
        "ORA-02291": V, "ORA-02292": V,  # integrity constraint: parent key / child records
        "ORA-01476": V,  # divisor is equal to zero
        # python-oracledb's own (DPY-1xxx interface, 2xxx programming, 4xxx database, 6xxx
        # operational)
        "DPY-1001": P,  # not connected to database: a closed connection used again
        "DPY-4005": TO,  # timed out waiting for the connection pool
        "DPY-4011": T,  # the database or network closed the connection
        "DPY-4024": TO,  # call timeout exceeded
        "DPY-6000": T,  # listener refused connection
        "DPY-6001": T,  # service is not registered with the listener (yet)
        "DPY-6003": P,  # SID is not registered with the listener
        "DPY-6005": T,  # cannot connect to database
        "DPY-4000": P, "DPY-4026": P, "DPY-4027": P,  # tnsnames, configuration directory
        "DPY-3010": P, "DPY-3015": P,  # database version / password verifier not supported
        "DPI-1080": T,  # connection was closed by ORA-%d
        "DPI-1010": T,  # not connected
        "DPI-1047": P,  # Oracle Client library cannot be loaded
    },
}

_X = "oracledb.exceptions"
GENERIC_TYPES = {
    f"{_X}.OperationalError": T,
    f"{_X}.InterfaceError": P,
    f"{_X}.ProgrammingError": P,
    f"{_X}.IntegrityError": V,
    f"{_X}.DataError": V,
    f"{_X}.NotSupportedError": P,
    f"{_X}.InternalError": P,
    f"{_X}.DatabaseError": P,
}
