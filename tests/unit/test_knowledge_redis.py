"""redis-py: real connection failures (port 1, a silent listener), and server error replies
turned into exceptions by redis-py's own parser."""

from __future__ import annotations

import socket

import pytest

from prefect_failtrack import ErrorType, classify

redis = pytest.importorskip("redis")
import redis.exceptions as rx  # noqa: E402
from redis._parsers.base import BaseParser  # noqa: E402
from redis.backoff import NoBackoff  # noqa: E402
from redis.connection import Encoder  # noqa: E402
from redis.retry import Retry  # noqa: E402
from tests.unit.knowledge_helpers import raised as _raised

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION
R = "redis.exceptions"


def _client(port: int, **kwargs):
    """A client that fails at once: redis-py retries three times with backoff by default."""
    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=5,
                       retry=Retry(NoBackoff(), 0), **kwargs)



def test_redis_connection_error_is_not_the_builtin():
    assert not issubclass(rx.ConnectionError, ConnectionError)
    assert not issubclass(rx.TimeoutError, TimeoutError)


def test_connection_refused():
    exc = _raised(_client(1).ping)
    assert type(exc) is rx.ConnectionError
    assert (classify(exc).error_type, classify(exc).reason) == (T, f"type {R}.ConnectionError")


def test_read_timeout_against_a_silent_server():
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        client = _client(port, socket_timeout=0.1)
        exc = _raised(client.ping)
        client.close()
    assert type(exc) is rx.TimeoutError
    assert (classify(exc).error_type, classify(exc).reason) == (TO, f"type {R}.TimeoutError")


@pytest.mark.parametrize(
    ("reply", "cls", "expected"),
    [
        ("LOADING Redis is loading the dataset in memory", "BusyLoadingError", T),
        ("TRYAGAIN Multiple keys request during rehashing of slot", "TryAgainError", T),
        ("CLUSTERDOWN The cluster is down", "ClusterDownError", T),
        ("MASTERDOWN Link with MASTER is down", "MasterDownError", T),
        ("READONLY You can't write against a read only replica.", "ReadOnlyError", T),
        ("OOM command not allowed when used memory > 'maxmemory'.", "OutOfMemoryError", T),
        ("ERR max number of clients reached", "ConnectionError", T),
        ("WRONGPASS invalid username-password pair or user is disabled.",
         "AuthenticationError", P),
        ("NOAUTH Authentication required.", "AuthenticationError", P),
        ("NOPERM this user has no permissions to run the 'flushall' command",
         "NoPermissionError", P),
        ("EXECABORT Transaction discarded because of previous errors.", "ExecAbortError", P),
        ("WRONGTYPE Operation against a key holding the wrong kind of value", "ResponseError", P),
        ("ERR unknown command 'FOO'", "ResponseError", P),
    ],
)
def test_server_replies_as_redis_py_parses_them(reply, cls, expected):
    exc = BaseParser.parse_error(reply)
    # newer redis-py may raise a subclass (8.x: MaxClientsReachedError for "max number of
    # clients"), which must be classified as its base is
    assert cls in [base.__name__ for base in type(exc).__mro__]
    assert classify(exc).error_type is expected


def test_bare_response_error_is_generic_so_a_chain_can_decide():
    exc = BaseParser.parse_error("ERR unknown command 'FOO'")
    assert classify(exc).reason == f"type {R}.ResponseError"


def test_misconf_reply_is_transient():
    exc = BaseParser.parse_error(
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist"
    )
    assert type(exc) is rx.ResponseError
    assert (classify(exc).error_type, classify(exc).reason) == (
        T, f"type {R}.ResponseError message 'snapshots failing'"
    )


def test_bad_values_are_validation():
    exc = _raised(Encoder("utf-8", "strict", False).encode, {"a": 1})
    assert type(exc) is rx.DataError
    assert (classify(exc).error_type, classify(exc).reason) == (V, f"type {R}.DataError")


def test_locks():
    lock = _client(1).lock("nightly")
    exc = _raised(lock.release)  # never acquired: a bug in the caller
    assert type(exc) is rx.LockError
    assert classify(exc).error_type is P
    busy = rx.LockError("Unable to acquire lock within the time specified")
    assert (classify(busy).error_type, classify(busy).reason) == (
        T, f"type {R}.LockError message 'lock not acquired in time'"
    )
    assert classify(rx.WatchError("Watched variable changed.")).error_type is T
