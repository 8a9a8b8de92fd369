"""The recorder: takes rows from the pipeline without ever blocking or failing it.

Rows go into a bounded in-memory queue; a daemon thread writes them in batches with
idempotent inserts. When the queue is full, or the database is down, rows go to the
spool file and are replayed once the database answers (in this process or the next).

The pipeline's thread pays for the queue only: this module imports no SQLAlchemy, and
the database URL (which may need the configuration block, an API call), the connection
and the schema check are the writer thread's work. It writes SQLite and PostgreSQL
(psycopg 3) through the driver alone (`direct`), and any other URL through SQLAlchemy
(`sink`); SQLAlchemy and Alembic load only to create or upgrade the schema. When the audit database does not match failtrack's schema, rows are spooled,
the problem is reported once with the command that fixes it, and the schema is checked
again every `SCHEMA_RECHECK` seconds, quietly.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect.logging import get_logger

from prefect_failtrack.settings import tolerant_settings
from prefect_failtrack.store import spool
from prefect_failtrack.store.encoding import utcnow
from prefect_failtrack.store.location import resolve_database_url

if TYPE_CHECKING:
    from prefect_failtrack.store.summaries import FlowRunView

logger = get_logger("prefect_failtrack.recorder")

TRANSITION = "transition"
SUMMARY = "summary"
HEARTBEAT = "heartbeat"  # A process's beat (prefect_failtrack/liveness/heartbeat.py)
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 30.0
SCHEMA_RECHECK = 60.0
"""Seconds between quiet checks of a schema that did not match."""
BATCHES_WHEN_BEHIND = 10
"""Batches written in one transaction when behind: bounds the rows in memory (5,000). Fewer,
bigger transactions keep up with a burst on SQLite: 100,000 rows went in at about 26,000
rows/s with 10, 21,400 with 5 (``docs/performance.md``)."""
SWEEP_INTERVAL = 60.0
"""How often a healthy recorder looks for spools left by other processes."""

_STOP = object()

Row = dict[str, Any] | Callable[[], dict[str, Any]]
"""A row, or a function without arguments that makes it (called in the writer thread)."""


class Recorder:
    """Queue, batch writer and spool for one audit database.

    ``record_transition`` and ``record_summary`` never raise and never wait for the
    database; ``flush`` waits until what was submitted is written or spooled.

    `url`: the audit database; ``None`` resolves it (`resolve_database_url`) in the writer
    thread, when it first writes.
    """

    def __init__(
        self,
        url: str | None,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        queue_size: int = 10_000,
        spool_path: Path | str,
    ) -> None:
        self._url = url
        self._url_lock = threading.Lock()
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.spool = spool.Spool(Path(spool_path))
        # A deque, not a queue.Queue: appending takes no lock (a Queue's lock, contended by
        # the writer thread, cost the pipeline's thread ~3 µs a row). Bounded by hand.
        self.queue_size = queue_size
        self._queue: deque[Any] = deque()
        self._wake = threading.Event()  # a batch, a flush or a close is waiting: write now
        self._counts = dict.fromkeys(("written", "spooled", "replayed", "dropped", "rejected"), 0)
        self._counts_lock = threading.Lock()
        self._closed = False
        self._down = False
        self._schema_problem: str | None = None  # what does not match, while it does not
        self._retry_at = 0.0
        self._backoff = FIRST_RETRY_DELAY
        self._drop_warned = False
        self._replay_due = True  # a previous process may have left a spool
        self._next_sweep = 0.0
        self._inflight: list[spool.Entry] | None = None  # the batch being written now
        self._active: Any = None  # the writer (direct or SQLAlchemy), made in the writer thread
        self._checked = False  # its schema checked
        self._producers: list[Callable[[], None]] = []
        self._signals = 0  # flush markers and stops in the queue: the writer must not wait
        self._signals_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="failtrack-recorder", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    @property
    def url(self) -> str:
        """The audit database's URL (resolved now if the writer has not done it yet)."""
        if self._url is None:
            with self._url_lock:
                if self._url is None:
                    self._url = resolve_database_url(tolerant_settings())
        return self._url

    @property
    def healthy(self) -> bool:
        """Whether the last write reached the database (no outage, no schema problem)."""
        return not self._down and self._schema_problem is None

    # -- the caller's side -------------------------------------------------------------

    def record_transition(self, row: Row) -> None:
        """Queue one ``failtrack_transitions`` row: a dict keyed by column name, or a function
        without arguments that makes one, called later in the writer thread (so that the
        pipeline's thread only hands over raw values; see ``capture.rows.pending_transition``).

        The dict is kept, not copied: hand over a new one each time.
        """
        self._submit(TRANSITION, row)

    def record_summary(self, row: dict[str, Any]) -> None:
        """Queue one ``failtrack_flow_runs`` row; the newest ``updated_at`` wins. (Tracked
        runs need not: a summary is derived from the rows when the flow run's final row is
        stored, see `prefect_failtrack.store.summaries`.)"""
        self._submit(SUMMARY, row, stamp="updated_at")

    # Heartbeats are rows like the others (any transport can carry them)
    def record_heartbeat(self, row: dict[str, Any]) -> None:
        """Queue one heartbeat row (``prefect_failtrack.liveness.writes`` stores it)."""
        self._submit(HEARTBEAT, row)

    def _submit(self, kind: str, row: Row, stamp: str | None = None) -> None:
        try:
            if stamp and isinstance(row, dict) and row.get(stamp) is None:
                row = {**row, stamp: utcnow()}
            if self._closed:
                self._spool([(kind, row)])
                return
            waiting = len(self._queue)
            if waiting >= self.queue_size:  # full (several producers may overshoot a little)
                self._spool([(kind, row)])
                self._replay_due = True
                return
            self._queue.append((kind, row))
            if waiting + 1 >= self.batch_size and not self._wake.is_set():
                self._wake.set()  # a whole batch is waiting: no need to wait out the interval
        except Exception as exc:  # never let the audit trail fail the pipeline
            self._drop(1, exc)

    def _made(self, entries: Iterable[tuple[str, Row]]) -> list[spool.Entry]:
        """The entries with every row made (the functions `record_transition` took, called).
        A function that raises loses its row only: it is counted as dropped and reported."""
        made: list[spool.Entry] = []
        for kind, row in entries:
            if callable(row):
                try:
                    row = row()
                except Exception as exc:
                    self._count("dropped", 1)
                    logger.warning("failtrack could not make an audit row (%s); it is not kept.",
                                   _describe(exc), exc_info=True)
                    continue
            made.append((kind, row))
        return made

    def _signal(self, item: Any) -> None:
        """Queue a flush marker or the stop, and wake the writer (it will not wait while one
        is queued: a wake-up can be taken by the batch before it)."""
        self._signalled(+1)
        self._queue.append(item)
        self._wake.set()

    def _signalled(self, change: int) -> None:
        with self._signals_lock:
            self._signals += change

    def add_producer(self, produce: Callable[[], None]) -> None:
        """Have `produce` called before each batch is taken (in the writer thread) and before
        `flush` waits (in the caller's): a function that records rows it notices rather than
        is handed (capture's watch on running tasks). Its errors are logged, not raised."""
        if produce not in self._producers:
            self._producers.append(produce)

    def _produce(self) -> None:
        for produce in list(self._producers):
            self._guarded(produce)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far is written or spooled; ``False`` on timeout."""
        self._produce()
        if not self._thread.is_alive():
            return not self._queue
        marker = threading.Event()
        self._signal(marker)
        return marker.wait(timeout)

    def view(self, flow_run_id: str, timeout: float = 5.0) -> FlowRunView | None:
        """The flow run's view as stored (`summaries.FlowRunView`), after a flush; ``None``
        when the database cannot be read now (an outage, a schema problem)."""
        if not self.flush(timeout) or not self.healthy:
            return None
        try:
            return self._writer_ready().view(flow_run_id)
        except Exception as exc:
            logger.warning("failtrack could not read flow run %s back (%s).",
                           flow_run_id, _describe(exc))
            return None

    def spent(self, run_id: str) -> dict[str, int] | None:
        """Retries spent on a run per class, as stored; ``None`` when it cannot be read."""
        if not self.healthy:
            return None
        try:
            return self._writer_ready().spent(run_id)
        except Exception:
            return None

    def close(self, timeout: float = 5.0) -> None:
        """Flush, then stop the writer thread. Rows recorded afterwards go to the spool, and
        so do the rows a writer that does not stop in time still holds (`_rescue`)."""
        atexit.unregister(self.close)
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self._signal(_STOP)
        self._thread.join(timeout)
        self._rescue()

    def _rescue(self) -> None:
        """Spool the rows still queued, and the batch a stuck writer is holding (a database
        that hangs): at process exit they would be lost. Stored twice at worst: writes are
        idempotent."""
        held: list[Any] = list(self._inflight or []) if self._thread.is_alive() else []
        stop = False
        while True:
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            if item is _STOP:
                stop = True
                self._signalled(-1)
            elif isinstance(item, threading.Event):
                item.set()
                self._signalled(-1)
            else:
                held.append(item)  # made by _spool
        if held:
            self._spool(held)
            self._replay_due = True
        if stop:
            self._signal(_STOP)  # for the writer, should it come back

    def stats(self) -> dict[str, int]:
        """Row counts: ``written`` from the queue, ``spooled``, ``replayed`` from the spool,
        ``dropped`` (not even the spool took them), ``rejected`` (the database refused them),
        ``queued`` (waiting now) and ``writing`` (taken from the queue, being written now).
        """
        with self._counts_lock:
            return dict(self._counts, queued=len(self._queue), writing=len(self._inflight or ()))

    def _count(self, name: str, n: int) -> None:
        with self._counts_lock:
            self._counts[name] += n

    # -- the writer thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._guarded(self._maybe_replay)
            batch, markers, stop = self._collect()
            if batch:
                self._guarded(self._write, batch)
            for marker in markers:
                marker.set()
            if stop:
                # One last try, even after an outage (it may have been a moment's): what
                # still cannot be written stays in the spool, unclaimed, for the next process.
                if self._replay_due or not self.healthy:
                    self._guarded(self._replay)
                if self._active is not None:
                    self._guarded(self._active.close)
                return

    def _guarded(self, step: Callable[..., None], *args: Any) -> None:
        try:
            step(*args)
        except Exception as exc:  # the writer thread must outlive any surprise
            logger.warning("failtrack recorder error (it carries on): %r", exc)

    def _collect(self) -> tuple[list[spool.Entry], list[threading.Event], bool]:
        """Up to ``batch_size`` rows, waiting at most ``flush_interval``; a flush marker ends early.

        The writer sleeps out ``flush_interval`` while rows pile up in the queue, then takes
        them at once: it wakes up about twice a second rather than once a row (each wake-up
        takes the GIL from the pipeline's thread for a moment). A full batch, a flush or a
        close cuts the wait short (`_wake`).

        Behind by more than a batch, it takes several batches at once: one transaction
        for many rows is what keeps up with a burst (most of all on SQLite).
        """
        batch: list[spool.Entry] = []
        markers: list[threading.Event] = []
        behind = len(self._queue) >= self.batch_size or self._signals > 0
        if not behind:
            self._wake.wait(self.flush_interval)
        self._wake.clear()
        self._produce()
        limit = self.batch_size * (BATCHES_WHEN_BEHIND if behind else 1)
        while len(batch) < limit:
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            if item is _STOP:
                self._signalled(-1)
                return batch, markers, True
            if isinstance(item, threading.Event):
                self._signalled(-1)
                markers.append(item)
                break
            if callable(item[1]):
                batch.extend(self._made([item]))
            else:
                batch.append(item)
        return batch, markers, False

    def _write(self, batch: list[spool.Entry]) -> None:
        self._inflight = batch
        try:
            if not self.healthy and time.monotonic() < self._retry_at:
                self._spool(batch)
            elif self._store(batch):
                self._count("written", len(batch))
            else:
                self._spool(batch)
        finally:
            self._inflight = None

    def _maybe_replay(self) -> None:
        now = time.monotonic()
        if not self.healthy:
            if now >= self._retry_at and self.spool.exists():
                self._replay()
        elif self._replay_due or now >= self._next_sweep:
            self._replay()

    def _replay(self) -> None:
        """Replay the spool and orphaned claims of dead processes.

        A claimed file whose replay fails goes straight back to the spool: nothing stays
        claimed while the database is down, so any process (this one later, or the next)
        can replay it as soon as the database answers.
        """
        if not self.healthy and not self._reachable():
            return
        sweep = time.monotonic() >= self._next_sweep
        self._replay_due = False
        if sweep:
            self._next_sweep = time.monotonic() + SWEEP_INTERVAL
        claimed = self.spool.claim()
        claims = [claimed] if claimed else []
        claims += self.spool.claim_orphans() if sweep else []
        for path in claims:
            if not self.healthy or not self._replay_file(path):
                self._give_back(path)

    def _replay_file(self, path: Path) -> bool:
        """Store a claimed file's entries and delete it; ``False`` (file kept) on an outage."""
        batch: list[spool.Entry] = []
        stored = 0
        for entry in spool.read(path):
            batch.append(entry)
            if len(batch) >= self.batch_size * BATCHES_WHEN_BEHIND:
                if not self._store(batch):
                    return False
                stored += len(batch)
                batch = []
        if batch and not self._store(batch):
            return False
        path.unlink(missing_ok=True)
        self._count("replayed", stored + len(batch))
        return True

    def _give_back(self, path: Path) -> None:
        try:
            self.spool.give_back(path)
        except OSError as exc:  # left on disk: a sweep adopts it once it is old enough
            logger.warning(
                "failtrack could not return %s to the spool (%s); it is replayed later.",
                path,
                _describe(exc),
            )

    def _store(self, batch: Sequence[spool.Entry]) -> bool:
        """Insert the batch; ``False`` when the database cannot take it now (an outage or a
        schema problem, each reported)."""
        writer = None
        try:
            writer = self._writer()
            self._writer_ready()
            self._write_batch(writer, batch)
        except Exception as exc:
            kind = self._kind(writer, exc)
            if kind != "bad_data" or writer is None:
                self._failed(kind, exc)
                return False
            try:
                refused = writer.write_each(batch)
            except Exception as error:
                self._failed(self._kind(writer, error), error)
                return False
            if refused:
                self._count("rejected", len(refused))
                logger.warning(
                    "failtrack audit database refused %d row(s); they are not kept. "
                    "First error: %s", len(refused), _describe(refused[0]),
                )
        self._back_up()
        return True

    def _reachable(self) -> bool:
        """Whether the database answers, its schema matching, now (tried before claiming a
        spool while it was down or did not match)."""
        writer = None
        try:
            writer = self._writer()
            self._writer_ready(recheck=True)
        except Exception as exc:
            self._failed(self._kind(writer, exc), exc)
            return False
        self._back_up()
        return True

    def _back_up(self) -> None:
        if self._schema_problem is not None:
            self._schema_problem = None
            self._replay_due = True
            logger.warning(
                "failtrack audit database %s matches failtrack's schema now; replaying the "
                "spool.", self._safe_url(),
            )
        if self._down:
            self._down = False
            self._replay_due = True
            logger.warning("failtrack %s answers again; replaying the spool.", self._where())

    def _writer(self) -> Any:
        """The writer for this recorder's database (the seam tests use to take it away)."""
        if self._active is None:
            self._active = make_writer(self.url)
        return self._active

    def _writer_ready(self, recheck: bool = False) -> Any:
        """The writer, its schema checked (once, or again with `recheck`): a database not at
        failtrack's revision is brought there by Alembic first (`database.ensure_schema`)."""
        writer = self._writer()
        if recheck or not self._checked:
            from prefect_failtrack.store.direct import NotAtHead

            try:
                writer.check()
            except NotAtHead:
                from prefect_failtrack.store.database import ensure_schema, forget_schema

                forget_schema(self.url)
                ensure_schema(self.url)
                writer.check()
            self._checked = True
        return writer

    def _write_batch(self, writer: Any, batch: Sequence[spool.Entry]) -> None:
        writer.write(batch)

    def _kind(self, writer: Any, exc: BaseException) -> str:
        """``"schema"``, ``"bad_data"`` or ``"outage"``."""
        if type(exc).__name__ == "SchemaProblem":
            return "schema"
        if writer is not None:
            try:
                return str(writer.kind_of(exc))
            except Exception:
                return "outage"
        return "outage"

    def _failed(self, kind: str, exc: BaseException) -> None:
        self._checked = False  # the schema is checked again at the next write
        if kind == "schema":
            self._on_schema_problem(exc)
        else:
            self._outage(exc)

    # -- when things go wrong ----------------------------------------------------------

    def _spool(self, entries: list[tuple[str, Row]]) -> None:
        made = self._made(entries)
        try:
            self.spool.append(made)
        except Exception as exc:
            self._drop(len(made), exc)
            return
        self._drop_warned = False
        self._count("spooled", len(made))

    def _drop(self, n: int, exc: BaseException) -> None:
        self._count("dropped", n)
        if not self._drop_warned:
            self._drop_warned = True
            logger.warning(
                "failtrack dropped %d audit row(s): the spool %s could not take them (%s). "
                "Further drops are counted in Recorder.stats() until the spool works again.",
                n,
                self.spool.path,
                _describe(exc),
            )

    def _outage(self, exc: BaseException) -> None:
        if self._down:
            self._backoff = min(self._backoff * 2, MAX_RETRY_DELAY)
        else:
            self._down = True
            self._backoff = FIRST_RETRY_DELAY
            logger.warning(
                "failtrack %s is unavailable (%s); rows go to the spool %s "
                "and are replayed once it is back.",
                self._where(),
                _describe(exc),
                self.spool.path,
            )
        self._retry_at = time.monotonic() + self._backoff

    def _on_schema_problem(self, problem: BaseException) -> None:
        """Reported once (until it is fixed); checked again every `SCHEMA_RECHECK` seconds."""
        if type(problem).__name__ != "SchemaProblem":
            from prefect_failtrack.store import sink

            problem = sink.schema_problem(self.url, problem)
        text = str(problem)
        if self._schema_problem is None:
            logger.error(
                "failtrack: %s. Until then, rows go to the spool %s (nothing is lost) and the "
                "schema is checked again every %.0f s.", text, self.spool.path, SCHEMA_RECHECK,
            )
        self._schema_problem = text
        self._down = False  # not an outage: a different message, a slower, quiet retry
        self._retry_at = time.monotonic() + SCHEMA_RECHECK

    def _where(self) -> str:
        """Where the rows go, as the log lines name it (the sink's name and address)."""
        return f"audit database {self._safe_url()}"

    def _safe_url(self) -> str:
        try:
            from prefect_failtrack.store.database import safe_url

            return safe_url(self.url)
        except Exception:
            return "<unparsable URL>"


def make_writer(url: str) -> Any:
    """The driver-level writer (`direct`) where it can write `url`, else SQLAlchemy's."""
    from prefect_failtrack.store.direct import Direct

    direct = Direct.for_url(url)
    if direct is not None:
        return direct
    from prefect_failtrack.store.sink import SqlalchemyWriter

    return SqlalchemyWriter(url)


def _describe(exc: BaseException) -> str:
    """The error in one line: the driver's own message, without SQLAlchemy's SQL and parameters."""
    orig = getattr(exc, "orig", None)
    cause = orig if isinstance(orig, BaseException) else exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}".rstrip(": ")


_recorder: Recorder | None = None
_recorder_lock = threading.Lock()


def get_recorder() -> Recorder:
    """The process-wide recorder; its database (``resolve_database_url()``) is resolved by its
    writer thread at first use. With ``PREFECT_INTEGRATIONS_FAILTRACK_TRANSPORT=events``,
    one whose rows go to Prefect's events API instead (`prefect_failtrack.transport`)."""
    global _recorder
    if _recorder is not None:
        return _recorder
    with _recorder_lock:
        if _recorder is None:
            settings = tolerant_settings()  # called in hooks: it must not raise
            options: dict[str, Any] = {}
            make: Callable[..., Recorder] = Recorder
            if settings.transport == "events":  # rows travel as Prefect events (`transport`)
                from prefect_failtrack.transport.events import EventRecorder

                make = EventRecorder
            else:
                options["url"] = settings.database_url
            _recorder = make(
                **options,
                batch_size=settings.batch_size,
                flush_interval=settings.flush_interval,
                queue_size=settings.queue_size,
                spool_path=settings.spool_path(),
            )
        return _recorder


def reset_recorder() -> None:
    """Flush, close and forget the process-wide recorder; the next use builds a new one."""
    global _recorder
    recorder = _recorder
    if recorder is not None:
        # Closed while still the process-wide one: what its producers record as it flushes
        # (completions noticed last) goes to it, not to a new recorder.
        recorder.close()
    with _recorder_lock:
        if _recorder is recorder:
            _recorder = None
