"""Built-in knowledge: redis-py (``redis.exceptions``).

redis-py has its own ``ConnectionError`` and ``TimeoutError``, which are not the
builtins of that name (their MRO is ``RedisError``, ``Exception``), so they are
listed here. The server's error replies are ``ResponseError``s: the known
subclasses decide, a bare ``ResponseError`` ("WRONGTYPE", "ERR unknown
command") is a mistake in the command, PERMANENT.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_R = "redis.exceptions"

TYPES = {
    f"{_R}.ConnectionError": T,
    f"{_R}.TimeoutError": TO,
    f"{_R}.BusyLoadingError": T,  # "LOADING Redis is loading the dataset in memory"
    f"{_R}.MaxConnectionsError": T,  # the client's pool is exhausted
    f"{_R}.TryAgainError": T,
    f"{_R}.ClusterDownError": T,  # MasterDownError is a subclass
    f"{_R}.ClusterError": T,
    f"{_R}.SlotNotCoveredError": T,
    f"{_R}.ReadOnlyError": T,  # wrote to a replica: usually mid-failover
    f"{_R}.OutOfMemoryError": T,  # maxmemory reached; eviction and consumers free it
    f"{_R}.WatchError": T,  # optimistic lock lost the race
    f"{_R}.InvalidResponse": T,  # protocol garbage, usually a broken connection
    f"{_R}.AuthenticationError": P,  # a ConnectionError subclass: listed
    f"{_R}.AuthorizationError": P,
    f"{_R}.NoPermissionError": P,
    f"{_R}.AuthenticationWrongNumberOfArgsError": P,
    f"{_R}.ExecAbortError": P,  # MULTI discarded after a bad command
    f"{_R}.DataError": V,  # "Invalid input of type: 'dict'"
    f"{_R}.LockError": P,  # releasing or extending a lock not held: a bug
    f"{_R}.LockNotOwnedError": P,
}

GENERIC_TYPES = {
    f"{_R}.ResponseError": P,
}

TYPE_MESSAGES = {
    f"{_R}.LockError": [
        (r"unable to acquire lock", T, "lock not acquired in time"),
    ],
    # the server refuses writes while its RDB snapshots fail (disk full, permissions
    # on the server): an operator's problem, fixed without the pipeline changing
    f"{_R}.ResponseError": [(r"^MISCONF\b", T, "snapshots failing")],
}
