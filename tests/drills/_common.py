"""What the drills share: logging to stderr, scratch PostgreSQL databases, switching the audit
database in-process, a TCP proxy that can be stopped, and counting what was stored.

Not a drill itself (no ``drill_`` prefix): `run.py` does not discover it.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.scratch_db import PG_HOST, PG_PORT  # noqa: E402  (run.py puts the root on sys.path)
DATABASE_URL_ENV = "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL"


def log(message: str, *args: Any) -> None:
    """One line on stderr (stdout carries the JSON lines only)."""
    text = message % args if args else message
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


# ------------------------------------------------------------------------ databases


@contextmanager
def postgres_database(drill: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one drill (a SQLAlchemy URL); dropped afterwards."""
    from tests.scratch_db import scratch_database

    with scratch_database(f"failtrack_drill_{drill}") as url:
        try:
            yield url
        finally:
            from prefect_failtrack.store.recorder import reset_recorder

            reset_recorder()


def use_database(url: str | None) -> None:
    """Point failtrack at `url` for what follows (``None``: unset); settings and the process
    recorder are read afresh, as `tests/integration/conftest.py` does for the tests."""
    from prefect_failtrack.capture import rows
    from prefect_failtrack.store.recorder import reset_recorder

    reset_recorder()
    if url is None:
        os.environ.pop(DATABASE_URL_ENV, None)
    else:
        os.environ[DATABASE_URL_ENV] = url
    rows.settings.cache_clear()


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with ``None``, unset) environment variables; the capture settings cache and
    the process recorder are reset on the way in and out."""
    from prefect_failtrack.capture import rows
    from prefect_failtrack.store.recorder import reset_recorder

    saved = {name: os.environ.get(name) for name in values}
    reset_recorder()
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    rows.settings.cache_clear()
    try:
        yield
    finally:
        reset_recorder()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        rows.settings.cache_clear()


def scalar(url: str, query: str, **params: Any) -> Any:
    """The single value a SQL query returns, on the audit database at `url`."""
    from sqlalchemy import text

    from prefect_failtrack.store.database import ensure_schema, get_engine

    ensure_schema(url)
    with get_engine(url).connect() as connection:
        return connection.execute(text(query), params).scalar_one()


def column(url: str, query: str, **params: Any) -> list[Any]:
    """The first column of every row a SQL query returns."""
    from sqlalchemy import text

    from prefect_failtrack.store.database import ensure_schema, get_engine

    ensure_schema(url)
    with get_engine(url).connect() as connection:
        return list(connection.execute(text(query), params).scalars())


class SubmittedRows:
    """Counts what the hooks hand to a recorder, by wrapping that recorder's two entry points."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.transition_ids: list[str] = []
        self.summary_ids: list[str] = []

    def watch(self, recorder: Any) -> Any:
        record_transition, record_summary = recorder.record_transition, recorder.record_summary

        def transition(row: dict[str, Any] | Callable[[], dict[str, Any]]) -> None:
            # The hooks hand over functions that make the row (in the writer thread): one is
            # called here too, to read the id, and the function itself is handed on.
            made = row() if callable(row) else row
            with self.lock:
                self.transition_ids.append(str(made.get("id")))
            record_transition(row)

        def summary(row: dict[str, Any]) -> None:
            with self.lock:
                self.summary_ids.append(str(row.get("flow_run_id")))
            record_summary(row)

        recorder.record_transition, recorder.record_summary = transition, summary
        return recorder


# ------------------------------------------------------------------------ a TCP proxy


class TcpProxy:
    """A local TCP proxy in front of PostgreSQL that can be stopped (connections refused,
    open ones cut) and started again on the same port: a database outage on demand. It can
    also freeze: connections are still taken, but nothing goes through either way (a
    network partition, a database that hangs), until it is stopped."""

    def __init__(self, target: tuple[str, int] = (PG_HOST, PG_PORT)) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._frozen = threading.Event()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def up(self) -> bool:
        return self._running.is_set()

    def start(self) -> None:
        if self.up:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._running.set()
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def freeze(self) -> None:
        """Take connections, let nothing through (open connections hang too)."""
        self._frozen.set()

    def stop(self) -> None:
        """Refuse new connections and cut every open one (frozen ones too)."""
        self._running.clear()
        self._frozen.clear()
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = list(self._open), set()
        if listener is not None:
            listener.close()
            # The kernel keeps the port listening while the acceptor still waits on it.
            self._acceptor.join(timeout=5)
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self._running.is_set() and self._listener is listener:
            try:
                client, _ = listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            if self._frozen.is_set():
                with self._lock:
                    self._open.add(client)  # held, silent, until stopped
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self._frozen.is_set() and self._running.is_set():
                    time.sleep(0.05)  # hold it: the other side waits for an answer
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with self._lock:
                    self._open.discard(sock)
                _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
