"""Built-in knowledge: Python builtins, errno values, sockets, DNS, TLS, subprocesses, sqlite3.

``socket.timeout``, ``asyncio.TimeoutError`` and ``concurrent.futures.TimeoutError``
are all the builtin ``TimeoutError`` since Python 3.11, so only that name is listed.
"""

from __future__ import annotations

import errno

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

TYPES = {
    "TimeoutError": TO,
    "subprocess.TimeoutExpired": TO,
    "ConnectionError": T,
    "ConnectionResetError": T,
    "ConnectionAbortedError": T,
    "ConnectionRefusedError": T,
    "BrokenPipeError": T,
    "InterruptedError": T,
    "BlockingIOError": T,
    # DNS: a name that does not resolve is far more often a resolver hiccup
    # than a typo that made it to production.
    "socket.gaierror": T,
    "socket.herror": T,
    "http.client.IncompleteRead": T,
    "http.client.BadStatusLine": T,  # also the base of RemoteDisconnected
    "http.client.InvalidURL": V,
    "asyncio.exceptions.IncompleteReadError": T,
    "concurrent.futures._base.BrokenExecutor": T,  # a worker process died (often OOM-killed)
    # TLS: handshakes torn down mid-way are transient; a certificate that does
    # not verify stays so until someone changes it (it is also a ValueError).
    "ssl.SSLError": T,
    "ssl.SSLCertVerificationError": P,
    "FileNotFoundError": P,
    "FileExistsError": P,
    "PermissionError": P,
    "IsADirectoryError": P,
    "NotADirectoryError": P,
    "ValueError": V,
    "UnicodeError": V,
    "TypeError": P,
    "KeyError": P,
    "IndexError": P,
    "AttributeError": P,
    "NameError": P,
    "ImportError": P,
    "NotImplementedError": P,
    "ZeroDivisionError": P,
    "AssertionError": P,
    "RecursionError": P,
    "MemoryError": T,
    # sqlite3: the DB-API classes as PostgreSQL's SQLSTATE classes would judge
    # them. OperationalError is mostly "no such table", syntax, "unable to open"
    # (permanent); lock contention and I/O are told apart by TYPE_MESSAGES.
    "sqlite3.OperationalError": P,
    "sqlite3.IntegrityError": V,  # as SQLSTATE class 23: the rows are wrong
    "sqlite3.DataError": V,
    "sqlite3.ProgrammingError": P,
    "sqlite3.InterfaceError": P,
    "sqlite3.NotSupportedError": P,
    "sqlite3.InternalError": P,
    "sqlite3.DatabaseError": P,  # "file is not a database", "database disk image is malformed"
}

GENERIC_TYPES = {
    "OSError": T,
}

CERTIFICATE_FAILURE = (
    r"certificate verify failed|CERTIFICATE_VERIFY_FAILED|self[- ]signed certificate"
    r"|certificate has expired|hostname mismatch"
)

TYPE_MESSAGES = {
    "ssl.SSLError": [(CERTIFICATE_FAILURE, P, "certificate verify failed")],
    "sqlite3.OperationalError": [
        (r"database (?:table )?is locked|database schema is locked", T, "database is locked"),
        (r"disk I/O error", T, "disk I/O error"),
        (r"database or disk is full", P, "disk full"),
    ],
}

ERRNOS = {
    errno.ECONNRESET: T,
    errno.ECONNREFUSED: T,
    errno.ECONNABORTED: T,
    errno.EPIPE: T,
    errno.ETIMEDOUT: TO,
    errno.EHOSTUNREACH: T,
    errno.ENETUNREACH: T,
    errno.ENETDOWN: T,
    errno.EAGAIN: T,
    errno.EBUSY: T,
    errno.EINTR: T,
    errno.ENOSPC: P,
    errno.EACCES: P,
    errno.EPERM: P,
    errno.ENOENT: P,
    errno.EROFS: P,
}
