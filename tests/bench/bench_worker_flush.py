"""worker_flush: what flushing at the end of a task run costs a worker process.

A task run away from its flow's process (process pool, Dask, Ray) flushes its rows at
its end (`capture/task_hooks.py`: ``WATCH.harvest`` then ``Recorder.flush``), so that a
worker torn down right after loses nothing. Here, in one process, like a worker: a
task's rows (Running, Completed) are recorded, then flushed, `n` times; the figure is the
time one flush takes (median and 95th percentile), i.e. what each task run pays on top
of Prefect's own per-task overhead, with the recorder's writer thread already running.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from _common import RowMaker, load_average, log, median, postgres_database

from prefect_failtrack.store import Recorder
from prefect_failtrack.store.database import dispose_engines, ensure_schema


def flushes(url: str, n: int, spool: Path) -> list[float]:
    ensure_schema(url)
    recorder = Recorder(url, spool_path=spool)
    recorder.flush(30)
    rows = RowMaker().rows(2 * n)
    took = []
    for i in range(n):
        recorder.record_transition(dict(rows[2 * i]))
        recorder.record_transition(dict(rows[2 * i + 1]))
        start = time.perf_counter()
        assert recorder.flush(30)
        took.append((time.perf_counter() - start) * 1000)
    recorder.close()
    return took


def _figures(backend: str, took: list[float]) -> dict:
    q = statistics.quantiles(took, n=20)
    return {
        "bench": "worker_flush",
        "backend": backend,
        "tasks": len(took),
        "flush_ms_median": round(median(took), 2),
        "flush_ms_p95": round(q[18], 2),
        "load": load_average(),
    }


def run(quick: bool) -> list[dict]:
    n = 100 if quick else 1_000
    folder = Path(tempfile.mkdtemp(prefix="bench-flush-"))
    out = [_figures("sqlite", flushes(f"sqlite:///{folder / 'a.db'}", n, folder / "s1"))]
    log("sqlite: %s", out[-1])
    try:
        with postgres_database() as url:
            out.append(_figures("postgresql", flushes(url, n, folder / "s2")))
            log("postgresql: %s", out[-1])
    except Exception as exc:  # PostgreSQL not reachable: say so, go on
        log("postgresql skipped: %s", exc)
    dispose_engines()
    return out
