"""Built-in knowledge: Python builtins, OS errno values, sockets and DNS, asyncio and concurrent timeouts."""

from __future__ import annotations

import errno

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

TYPES = {
    "TimeoutError": TO,
    "asyncio.exceptions.TimeoutError": TO,
    "concurrent.futures._base.TimeoutError": TO,
    "socket.timeout": TO,
    "ConnectionError": T,
    "ConnectionResetError": T,
    "ConnectionAbortedError": T,
    "ConnectionRefusedError": T,
    "BrokenPipeError": T,
    "socket.gaierror": T,
    "FileNotFoundError": P,
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
}

GENERIC_TYPES = {
    "OSError": T,
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
