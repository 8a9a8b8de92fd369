"""The beat of one process: which runs it holds, one row a heartbeat interval.

What this process holds: the task runs that `capture.watch` watches (they entered
Running or Retrying here and are not final yet; the engine keeps their ``TaskRun``
objects up to date) and the tracked flow runs between their Running and end hooks
(`flow_started`, `flow_ended`).

A thread of its own, ``failtrack-heartbeat``, wakes once an interval
(``PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL``, 30 s) and hands the recorder
one plain row of kind ``heartbeat`` (`beat_row`): the process's identity and the time,
the runs it took up since the last beat, the runs it let go of, and the progress that
changed. Every tenth beat names all the runs it holds (a row lost on the way is
repaired). A beat with nothing held and nothing let go of is not sent: an idle process
writes nothing. The pipeline's thread does nothing for it, except at a flow run's end,
where the beat that lets go of the flow run (and its tasks) goes out before the flush.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prefect.logging import get_logger

from . import identity

logger = get_logger("prefect_failtrack.liveness")

FULL_EVERY = 10
"""Every this many beats, a beat names all the runs the process holds, not only new ones."""
FIRST_BEAT_S = 1.0
"""The first beat of a process comes this soon (or after one interval, if shorter)."""
MESSAGE_LIMIT = 200
"""Characters of a progress message kept (after redaction)."""
LOGGED_ERRORS = 3

Progress = tuple[int | None, str | None, float]
"""``(rows, message, time.time())`` of a run's latest `record_progress`."""


class Heartbeat:
    """The heartbeat of this process (one per process: `BEAT`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the beat's own state: one beat at a time
        self.flows: dict[Any, str] = {}  # tracked flow runs running here: id -> flow name
        self.progress: dict[Any, Progress] = {}  # run id -> its latest progress
        self.running = False  # the thread has started: `record_progress` keeps what it is given
        self.errors = 0
        self.beats = 0
        self._held: set[Any] = set()
        self._sent: dict[Any, float] = {}  # run id -> time of the progress last sent
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._tasks: Callable[[], list[tuple[Any, Any]]] | None = None
        self._submit: Callable[[dict[str, Any]], None] | None = None

    # -- the pipeline's side ---------------------------------------------------------

    def start(self) -> None:
        """Start the thread, once per process (cheap to call again); not while heartbeats
        are off (an interval of 0)."""
        if self._thread is not None or _interval() <= 0:
            return
        with self.lock:
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="failtrack-heartbeat", daemon=True
                )
                self.running = True
                self._thread.start()

    def flow_started(self, flow_run_id: Any, flow_name: str) -> None:
        self.flows[flow_run_id] = flow_name

    def flow_ended(self, flow_run_id: Any) -> None:
        """The flow run is over here: let go of it, and of its tasks, now (before the flow's
        final flush), rather than at the next beat, which may never come."""
        self.flows.pop(flow_run_id, None)
        if self.running:
            self.beat()

    # -- the beat --------------------------------------------------------------------

    def beat(self, now: datetime | None = None) -> dict[str, Any] | None:
        """Hand the recorder one heartbeat row, if anything is held or let go of; the row
        (``None``: nothing to say). Never raises: errors are logged and counted."""
        try:
            if _interval() <= 0:  # turned off since the thread started
                self.progress.clear()
                return None
            with self.lock:  # submitted under the lock too: beats reach the recorder in order
                row = self._beat_row(now or datetime.now(UTC))
                if row is not None:
                    (self._submit or _recorder_submit())(row)
            return row
        except Exception as exc:
            self.errors += 1
            if self.errors <= LOGGED_ERRORS:
                logger.warning(
                    "failtrack: a heartbeat failed (%s: %s); the runs go on unaffected "
                    "[%d so far].",
                    type(exc).__name__,
                    exc,
                    self.errors,
                    exc_info=self.errors == 1,
                )
            return None

    def _beat_row(self, now: datetime) -> dict[str, Any] | None:
        seen_at = time.time()
        tasks = {}
        for run_id, watched in (self._tasks or _watched_tasks())():
            state = watched.task_run.state
            if state is None or not state.is_final():  # final: the watch forgets it soon
                tasks[run_id] = watched
        flows = dict(self.flows)
        held = tasks.keys() | flows.keys()
        released = self._held - held
        if not held and not released:
            self._forget_progress(held, seen_at)
            return None
        full = self.beats % FULL_EVERY == 0
        self.beats += 1
        new = held if full else held - self._held
        enter = [_task_entry(r, tasks[r]) if r in tasks else _flow_entry(r, flows[r]) for r in new]
        self._held = held
        row = {
            **identity.current().columns(),
            "interval_s": _interval(),
            "beat_at": now,
            "held": len(held),
            "enter": enter,
            "progress": self._progress(held),
            "release": [str(r) for r in released],
        }
        self._forget_progress(held, seen_at)
        return row

    def _progress(self, held: set[Any]) -> list[dict[str, Any]]:
        """The progress recorded since the last beat, of the runs held."""
        changed = []
        for run_id, (rows, message, at) in list(self.progress.items()):
            if run_id in held and self._sent.get(run_id) != at:
                self._sent[run_id] = at
                changed.append(
                    {
                        "run_id": str(run_id),
                        "rows": rows,
                        "message": _clean(message),
                        "at": datetime.fromtimestamp(at, UTC),
                    }
                )
        return changed

    def _forget_progress(self, held: set[Any], seen_at: float) -> None:
        """Forget the progress of runs no longer held (recorded before this beat looked)."""
        for run_id, (_, _, at) in list(self.progress.items()):
            if run_id not in held and at < seen_at:
                self.progress.pop(run_id, None)
                self._sent.pop(run_id, None)

    # -- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        wait = min(FIRST_BEAT_S, _interval())
        while not self._stop.is_set():
            self._wake.wait(wait if wait > 0 else FIRST_BEAT_S)  # off: look again later
            self._wake.clear()
            if self._stop.is_set():
                return
            self.beat()
            wait = _interval()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and forget everything (tests; a process never needs it)."""
        thread = self._thread
        self._stop.set()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._reset()

    def _reset(self) -> None:
        self.lock = threading.Lock()
        self.flows, self.progress, self._sent, self._held = {}, {}, {}, set()
        self.running, self._thread, self.beats = False, None, 0
        self._wake, self._stop = threading.Event(), threading.Event()


def _task_entry(run_id: Any, watched: Any) -> dict[str, Any]:
    task_run = watched.task_run
    flow_run_id = task_run.flow_run_id
    return {
        "run_id": str(run_id),
        "run_kind": "task",
        "flow_run_id": str(flow_run_id) if flow_run_id is not None else None,
        "name": watched.task_name,
        "flow_name": watched.flow_name,
    }


def _flow_entry(run_id: Any, flow_name: str) -> dict[str, Any]:
    return {
        "run_id": str(run_id),
        "run_kind": "flow",
        "flow_run_id": str(run_id),
        "name": flow_name,
        "flow_name": flow_name,
    }


def _clean(message: str | None) -> str | None:
    """A progress message as stored: redacted, then cut (a user's text may hold a secret)."""
    if message is None:
        return None
    from ..store.encoding import storable
    from ..redaction import get_redactor, truncate

    return storable(truncate(get_redactor().redact(message), MESSAGE_LIMIT))


def _interval() -> float:
    from ..capture.rows import settings

    return float(settings().heartbeat_interval)


def _watched_tasks() -> Callable[[], list[tuple[Any, Any]]]:
    from ..capture.watch import WATCH

    def snapshot() -> list[tuple[Any, Any]]:
        with WATCH.lock:
            return list(WATCH.runs.items())

    return snapshot


def _recorder_submit() -> Callable[[dict[str, Any]], None]:
    from ..store.recorder import get_recorder

    return get_recorder().record_heartbeat


BEAT = Heartbeat()


def _after_fork() -> None:
    """A forked child holds none of its parent's runs, and has no heartbeat thread yet."""
    BEAT._reset()


os.register_at_fork(after_in_child=_after_fork)


def ensure_started() -> None:
    """Start this process's heartbeat (the tracker calls it whenever it uses the recorder)."""
    if not BEAT.running:
        BEAT.start()


def flow_started(flow_run_id: Any, flow_name: str) -> None:
    """A tracked flow run entered Running in this process. Never raises."""
    try:
        BEAT.flow_started(flow_run_id, flow_name)
    except Exception:  # pragma: no cover - a dict assignment
        logger.log(logging.DEBUG, "failtrack: flow_started failed", exc_info=True)


def flow_ended(flow_run_id: Any) -> None:
    """A tracked flow run ended in this process. Never raises."""
    try:
        BEAT.flow_ended(flow_run_id)
    except Exception:  # pragma: no cover - beat() guards itself
        logger.log(logging.DEBUG, "failtrack: flow_ended failed", exc_info=True)
