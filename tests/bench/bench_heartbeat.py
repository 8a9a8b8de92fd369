"""heartbeat: what liveness costs a pipeline, and the database.

One Prefect test server for the whole bench; the audit trail goes to a SQLite file in a
temporary folder. Two measures (``prefect_failtrack/liveness``):

1. **Per task** (``ratio``): one ``tracked_flow`` calls a ``tracked_task`` in blocks of
   `BLOCK` calls (100 a side with ``--quick``, 1,000 otherwise), heartbeats on and off
   in turn (ABBA), each call timed on its own:
   the medians of the calls with and without heartbeats. "On" beats every
   `ON_INTERVAL` seconds, 60 times the default (30 s): an upper bound. Switched by the
   setting itself (an interval of 0 is off), so the same flow, process and server serve
   both. ``cpu_ratio`` compares the main thread's CPU time per call (steadier on a
   loaded machine); ``aa_ratio`` compares the first "off" block of each ABBA cycle with
   the last: what the noise alone makes of two arms that do the same. Also: the CPU
   time of one beat in its thread (``beat_cpu_ms``), and what a ``record_progress``
   call costs inside a task (the best of several runs).
2. **Writes with 1,000 running tasks** (``transactions_per_min``): an async
   ``tracked_flow`` starts `RUNNING` tracked tasks (`RUNNING_QUICK` with ``--quick``)
   that all wait together; once all are running and seen by a beat, every statement on
   the audit database is counted (SQLAlchemy's cursor events) for two minutes at the
   default interval (three seconds at a 1 s interval with ``--quick``): transactions,
   statements and rows per minute, and per beat (so, per minute at the default
   interval); then what the beat that names every held run writes (``full_beat_*``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HOME = Path(tempfile.mkdtemp(prefix="failtrack-bench-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_INTEGRATIONS_FAILTRACK_HOME"] = str(_HOME)
os.environ["PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL"] = f"sqlite:///{_HOME / 'audit.db'}"
INTERVAL_VAR = "PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL"

from _common import load_average, log, prefect_api  # noqa: E402
from prefect.exceptions import PrefectHTTPStatusError  # noqa: E402
from sqlalchemy import event  # noqa: E402

from prefect_failtrack import record_progress, tracked_flow, tracked_task  # noqa: E402
from prefect_failtrack.capture import rows  # noqa: E402
from prefect_failtrack.capture.watch import WATCH  # noqa: E402
from prefect_failtrack.liveness.heartbeat import BEAT, FULL_EVERY  # noqa: E402
from prefect_failtrack.store import get_recorder  # noqa: E402
from prefect_failtrack.store.database import get_engine, resolve_database_url  # noqa: E402

ON_INTERVAL = 0.5
DEFAULT_INTERVAL = 30.0
BLOCK = 10
RUNNING = 1000
RUNNING_QUICK = 100
PROGRESS_CALLS = 5_000
PROGRESS_REPEATS = 7


def heartbeats(interval: float) -> None:
    """Beat every `interval` seconds from now on (0: off), as the setting says."""
    os.environ[INTERVAL_VAR] = str(interval)
    rows.settings.cache_clear()
    BEAT._wake.set()  # the thread reads the interval again now, not after its current wait


# ------------------------------------------------------------------ 1. per task


@tracked_task
def step(i: int) -> int:
    return i + 1


@tracked_task
def progress_calls(n: int, repeats: int) -> float:
    """Seconds a ``record_progress`` call takes: the best of `repeats` runs of `n` calls
    (the machine is shared: the least disturbed run is the cost)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            record_progress(rows=i, message="loading")
        best = min(best, (time.perf_counter() - start) / n)
    return best


@tracked_flow
def pipeline(blocks: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {
        f"{arm}{kind}": [] for arm in ("on", "off", "off_a", "off_b") for kind in ("", "_cpu")
    }
    for b in range(blocks):
        on = b % 4 in (1, 2)  # off, on, on, off: ABBA
        heartbeats(ON_INTERVAL if on else 0)
        step(-1)  # the first call after a switch reads the settings afresh: not timed
        arms = ["on"] if on else ["off", "off_a" if b % 4 == 0 else "off_b"]
        for i in range(BLOCK):
            cpu, start = time.thread_time(), time.perf_counter()
            step(i)
            for arm in arms:
                times[arm].append(time.perf_counter() - start)
                times[f"{arm}_cpu"].append(time.thread_time() - cpu)
    heartbeats(ON_INTERVAL)
    times["progress"] = [progress_calls(PROGRESS_CALLS, PROGRESS_REPEATS)]
    return times


class BeatCPU:
    """CPU time the beats take in their own thread (``time.thread_time`` around each)."""

    def __init__(self) -> None:
        self.seconds, self.beats = 0.0, 0
        beat = BEAT.beat

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return beat(*args, **kwargs)
            finally:
                if threading.current_thread().name == "failtrack-heartbeat":
                    self.seconds += time.thread_time() - start
                    self.beats += 1

        BEAT.beat = timed  # type: ignore[method-assign]


def when_ready(run_flow: Callable[[], Any], attempts: int = 6) -> Any:
    """Run a flow; if the test server is still busy with the previous flow's events
    (HTTP 503 when the flow run is created), wait and try again."""
    for attempt in range(1, attempts + 1):
        try:
            return run_flow()
        except PrefectHTTPStatusError as error:
            if error.response.status_code != 503 or attempt == attempts:
                raise
            log("the server is busy (503); trying again in 20 s")
            time.sleep(20)
    return None


def per_task(quick: bool) -> dict[str, Any]:
    blocks = 20 if quick else 200
    pipeline(4)  # warm up
    get_recorder().flush(timeout=60)
    cpu = BeatCPU()
    beats = BEAT.beats
    start = time.perf_counter()
    times = when_ready(lambda: pipeline(blocks))
    log("flow of %d tasks: %.1f s", blocks * (BLOCK + 1), time.perf_counter() - start)
    beats = BEAT.beats - beats

    def ms(arm: str) -> float:
        return statistics.median(times[arm]) * 1e3

    on, off = ms("on"), ms("off")
    return {
        "on_interval_s": ON_INTERVAL,
        "off_ms": round(off, 3),
        "on_ms": round(on, 3),
        "ratio": round(on / off, 3),
        "cpu_ratio": round(ms("on_cpu") / ms("off_cpu"), 3),
        "aa_ratio": round(ms("off_b") / ms("off_a"), 3),  # off vs off: the noise
        "off_mean_ms": round(statistics.fmean(times["off"]) * 1e3, 3),
        "on_mean_ms": round(statistics.fmean(times["on"]) * 1e3, 3),
        "tasks_each": len(times["on"]),
        "beats": beats,
        "beat_cpu_ms": round(cpu.seconds * 1e3 / cpu.beats, 3) if cpu.beats else None,
        "record_progress_us": round(times["progress"][0] * 1e6, 3),
    }


# ------------------------------------------------------ 2. 1,000 running tasks

RELEASE = threading.Event()


@tracked_task
async def hold(i: int) -> int:
    while not RELEASE.is_set():
        await asyncio.sleep(0.5)
    return i


@tracked_flow
async def many(n: int) -> int:
    return sum(await asyncio.gather(*[hold(i) for i in range(n)]))


class Counted:
    """Statements on the audit database, by table written, and transactions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statements: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self.commits = 0
        self.on = False

    def statement(
        self, conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool
    ) -> None:
        if not self.on or sql.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            return
        table = next(
            (
                t
                for t in (
                    "failtrack_processes",
                    "failtrack_heartbeats",
                    "failtrack_transitions",
                    "failtrack_flow_runs",
                )
                if t in sql
            ),
            "other",
        )
        with self.lock:
            self.statements[table] = self.statements.get(table, 0) + 1
            self.rows[table] = self.rows.get(table, 0) + (len(params) if many else 1)

    def commit(self, conn: Any) -> None:
        if self.on:
            with self.lock:
                self.commits += 1


def running_writes(quick: bool) -> dict[str, Any]:
    interval = 1.0 if quick else DEFAULT_INTERVAL
    running = RUNNING_QUICK if quick else RUNNING
    window_beats = 3 if quick else 4  # 3 s at 1 s; 2 min at the default 30 s
    heartbeats(interval)
    engine = get_engine(resolve_database_url())
    counted = Counted()
    event.listen(engine, "after_cursor_execute", counted.statement)
    event.listen(engine, "commit", counted.commit)
    started = time.monotonic()
    flow = threading.Thread(
        target=when_ready, args=(lambda: asyncio.run(many(running)),), name="bench-flow"
    )
    flow.start()
    while len(WATCH.runs) < running:
        if not flow.is_alive():
            raise RuntimeError("the flow of running tasks ended before they all ran")
        time.sleep(0.2)
    log("%d tasks running after %.1f s", len(WATCH.runs), time.monotonic() - started)
    next_beat(interval)  # the beat that takes them all up, written
    with BEAT.lock:  # no full beat in the window: it is measured on its own below
        BEAT.beats = FULL_EVERY * (BEAT.beats // FULL_EVERY) + 1
    next_beat(interval)
    cpu = BeatCPU()
    counted.on = True
    window_started = time.monotonic()
    for _ in range(window_beats):  # from just after a beat to just after the last one
        next_beat(interval)
    window = time.monotonic() - window_started
    counted.on = False
    commits, statements_by_table, rows_by_table = (
        counted.commits,
        dict(counted.statements),
        dict(counted.rows),
    )
    full = full_beat(counted)
    RELEASE.set()
    flow.join()
    per_min = 60.0 / window
    statements = sum(statements_by_table.values())
    return {
        "running_tasks": running,
        "interval_s": interval,
        "window_s": round(window, 1),
        "window_beats": window_beats,
        "beat_cpu_ms_running": round(cpu.seconds * 1e3 / cpu.beats, 3) if cpu.beats else None,
        "transactions_per_min": round(commits * per_min, 2),
        "statements_per_min": round(statements * per_min, 2),
        "rows_per_min": {t: round(n * per_min, 2) for t, n in sorted(rows_by_table.items())},
        "transactions_per_beat": round(commits / window_beats, 2),
        "at_default_interval_transactions_per_min": round(
            commits / window_beats * 60 / DEFAULT_INTERVAL, 2
        ),
        **full,
    }


def next_beat(interval: float, *, now: bool = False) -> None:
    """Wait for the next beat (`now`: have it now), and until its row is written."""
    beats, deadline = BEAT.beats, time.monotonic() + 3 * interval + 30
    if now:
        BEAT._wake.set()
    while BEAT.beats == beats:
        if time.monotonic() > deadline:
            raise RuntimeError("no heartbeat while the tasks run")
        time.sleep(0.05)
    with BEAT.lock:  # the beat counts itself, then hands its row over, under this lock
        pass
    get_recorder().flush(timeout=60)


def full_beat(counted: Counted) -> dict[str, Any]:
    """What the beat that names every held run (every `FULL_EVERY`-th) writes."""
    counted.statements, counted.rows, counted.commits = {}, {}, 0
    with BEAT.lock:
        BEAT.beats = FULL_EVERY * (BEAT.beats // FULL_EVERY + 1)  # the next beat is a full one
    counted.on = True
    next_beat(DEFAULT_INTERVAL, now=True)
    counted.on = False
    return {
        "full_beat_every": FULL_EVERY,
        "full_beat_statements": dict(sorted(counted.statements.items())),
        "full_beat_rows": dict(sorted(counted.rows.items())),
    }


def run(quick: bool) -> dict:
    with prefect_api(90):
        log("server up; per task")
        first = per_task(quick)
        log("per task: %s", first)
        second = running_writes(quick)
        log("running tasks: %s", second)
        heartbeats(DEFAULT_INTERVAL)
    return {"bench": "heartbeat", **first, **second, "load": load_average()}
