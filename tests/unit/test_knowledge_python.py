"""The standard library: builtins, sockets, errno, TLS, subprocesses, executors, sqlite3 —
provoked for real wherever the OS lets us."""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import os
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys

import pytest

from prefect_failtrack import ErrorType, classify
from tests.unit.knowledge_helpers import raised as _raised, decision as _decision

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION




@pytest.fixture
def listener():
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def _connection_reset(listener) -> ConnectionResetError:
    client = socket.create_connection(listener.getsockname(), timeout=5)
    peer, _ = listener.accept()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()  # linger 0: the peer sends RST
    try:
        exc = _raised(client.recv, 10)
    finally:
        client.close()
    assert isinstance(exc, ConnectionResetError)
    return exc


# --- sockets and the OS ---------------------------------------------------------------------

def test_connection_refused():
    exc = _raised(socket.create_connection, ("127.0.0.1", 1), timeout=5)
    assert _decision(exc) == (T, "type ConnectionRefusedError")


def test_connection_reset(listener):
    assert _decision(_connection_reset(listener)) == (T, "type ConnectionResetError")


def test_socket_read_timeout_is_the_builtin_timeout(listener):
    with socket.create_connection(listener.getsockname(), timeout=0.05) as client:
        exc = _raised(client.recv, 10)
    assert type(exc) is TimeoutError  # socket.timeout is TimeoutError since 3.10
    assert _decision(exc) == (TO, "type TimeoutError")


def test_dns_failures_are_transient():
    exc = _raised(socket.getaddrinfo, "failtrack-no-such-host.invalid", 80)
    assert type(exc) is socket.gaierror
    assert _decision(exc) == (T, "type socket.gaierror")
    assert _decision(socket.herror(1, "Unknown host")) == (T, "type socket.herror")


def test_files():
    assert _decision(_raised(open, "/nonexistent/failtrack")) == (P, "type FileNotFoundError")
    assert _decision(_raised(os.mkdir, "/")) == (P, "type FileExistsError")


@pytest.mark.parametrize(
    ("code", "expected"),
    [(errno.ENOSPC, P), (errno.EBUSY, T), (errno.ENETUNREACH, T), (errno.EHOSTUNREACH, T),
     (errno.EROFS, P)],
)
def test_plain_os_errors_by_errno(code, expected):
    exc = OSError(code, os.strerror(code))
    assert type(exc) is OSError  # no builtin subclass for these
    assert _decision(exc) == (expected, f"errno {code}")


def test_os_error_without_errno_is_generically_transient():
    assert _decision(OSError("something in the OS")) == (T, "type OSError")


# --- TLS, subprocesses, async, executors ----------------------------------------------------

def test_tls_errors():
    verify = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    assert _decision(verify) == (P, "type ssl.SSLCertVerificationError")
    eof = ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:2427)")
    assert _decision(eof) == (T, "type ssl.SSLEOFError")  # stdlib_net lists the leaves
    wrapped = ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    assert _decision(wrapped) == (P, "type ssl.SSLError message 'certificate verify failed'")


def test_subprocess_timeout():
    exc = _raised(subprocess.run, [sys.executable, "-c", "import time; time.sleep(5)"],
                  timeout=0.2)
    assert type(exc) is subprocess.TimeoutExpired
    assert _decision(exc) == (TO, "type subprocess.TimeoutExpired")


def test_asyncio_and_futures_timeouts_are_the_builtin():
    async def slow():
        await asyncio.wait_for(asyncio.sleep(5), timeout=0.01)

    assert _decision(_raised(asyncio.run, slow())) == (TO, "type TimeoutError")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(lambda: __import__("time").sleep(0.3))
        assert _decision(_raised(future.result, timeout=0.01)) == (TO, "type TimeoutError")


def test_broken_process_pool_is_transient():
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        exc = _raised(pool.submit(os._exit, 1).result, timeout=30)
    assert type(exc) is concurrent.futures.process.BrokenProcessPool
    assert classify(exc).error_type is T


def test_builtins():
    assert _decision(_raised(int, "x")) == (V, "type ValueError")
    assert _decision(_raised(b"\xff".decode, "utf-8")) == (V, "type UnicodeError")
    assert _decision(_raised(lambda: {}["k"])) == (P, "type KeyError")
    assert _decision(_raised(lambda: None + 1)) == (P, "type TypeError")
    assert _decision(MemoryError()) == (T, "type MemoryError")
    assert classify(_raised(lambda: 1 / 0)).error_type is P


# --- chains ---------------------------------------------------------------------------------

def test_runtime_error_from_a_real_reset_is_transient(listener):
    reset = _connection_reset(listener)
    try:
        raise RuntimeError("loading batch 7 failed") from reset
    except RuntimeError as exc:
        result = classify(exc)
    assert (result.error_type, result.reason) == (T, "type ConnectionResetError")
    assert (result.error_class, result.decided_by) == ("RuntimeError", "ConnectionResetError")


def test_implicit_context_counts_but_suppressed_context_does_not(listener):
    reset = _connection_reset(listener)
    try:
        try:
            raise reset
        except ConnectionResetError:
            raise LookupError("no result")  # noqa: B904 (implicit context on purpose)
    except LookupError as exc:
        implicit = exc
    try:
        try:
            raise reset
        except ConnectionResetError:
            raise LookupError("no result") from None
    except LookupError as exc:
        suppressed = exc
    assert classify(implicit).error_type is T
    assert classify(suppressed).reason == "no rule decided"


def test_outermost_specific_link_wins():
    try:
        raise ValueError("bad row") from ConnectionResetError("reset")
    except ValueError as exc:
        assert _decision(exc) == (V, "type ValueError")


# --- sqlite3 directly -----------------------------------------------------------------------

def test_sqlite3_errors(tmp_path):
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("create table t (id integer primary key)")
    holder.execute("insert into t values (1)")
    assert _decision(_raised(holder.execute, "insert into t values (1)")) == (
        V, "type sqlite3.IntegrityError"
    )
    assert _decision(_raised(holder.execute, "select * from nope")) == (
        P, "type sqlite3.OperationalError"
    )
    holder.execute("begin exclusive")
    waiter = sqlite3.connect(path, timeout=0)
    locked = _raised(waiter.execute, "select * from t")
    assert str(locked) == "database is locked" and locked.sqlite_errorname == "SQLITE_BUSY"
    assert _decision(locked) == (T, "type sqlite3.OperationalError message 'database is locked'")
    holder.execute("rollback")
    for conn in (holder, waiter):
        conn.close()
    assert _decision(_raised(holder.execute, "select 1")) == (P, "type sqlite3.ProgrammingError")
    assert _decision(_raised(sqlite3.connect, tmp_path / "no" / "dir.db")) == (
        P, "type sqlite3.OperationalError"
    )


def test_sqlite3_disk_io_error_message_is_transient():
    exc = sqlite3.OperationalError("disk I/O error")
    assert _decision(exc) == (T, "type sqlite3.OperationalError message 'disk I/O error'")
