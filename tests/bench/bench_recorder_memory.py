"""recorder_memory: resident memory growth while rows stream through a recorder that is behind.

A Recorder with the default settings (``get_settings()``: batch size, flush interval,
queue size) writes into SQLite, but every batch first sleeps as long as a database
doing `DB_ROWS_PER_S` rows/s would take: the producer, which hands over freshly made
rows as fast as it can (as a pipeline would, one dict per transition), is faster.
So the queue fills, stays full, and the overflow goes to the spool file.

The figure is the peak resident set size during the stream (sampled every 10 ms by a
thread), less the resident size just before it (imports done, recorder, engine and
schema ready, a first thousand rows written). The reference is that baseline, in the
same process; rows that the recorder wrote, spooled, dropped or still held are counted
and must add up to the rows submitted.
"""

from __future__ import annotations

import atexit
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import RowMaker, load_average, log, rss_mb

from prefect_failtrack.settings import get_settings
from prefect_failtrack.store import Recorder

DB_ROWS_PER_S = 2_000


class SlowRecorder(Recorder):
    """A recorder whose database takes 1/`DB_ROWS_PER_S` s a row, until `fast` is set."""

    fast = False

    def _store(self, batch: Any) -> bool:
        if not self.fast:
            time.sleep(len(batch) / DB_ROWS_PER_S)
        return super()._store(batch)


class PeakRss:
    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_mb())


def run(quick: bool) -> dict:
    rows = 50_000 if quick else 1_000_000
    settings = get_settings()
    folder = Path(tempfile.mkdtemp(prefix="failtrack-bench-memory-"))
    recorder = SlowRecorder(
        f"sqlite:///{folder / 'audit.db'}",
        batch_size=settings.batch_size,
        flush_interval=settings.flush_interval,
        queue_size=settings.queue_size,
        spool_path=folder / "spool.jsonl",
    )
    atexit.unregister(recorder.close)  # the spool need not be replayed at exit
    maker = RowMaker(seed=11)
    recorder.fast = True
    for i in range(1000):
        recorder.record_transition(maker.row(i))
    recorder.flush(timeout=60)
    recorder.fast = False
    time.sleep(0.5)
    baseline = rss_mb()
    sampler = PeakRss()
    start = time.perf_counter()
    for i in range(rows):
        recorder.record_transition(maker.row(i))
        if i % 100_000 == 0 and i:
            log("%d rows in %.1f s, rss %.0f MiB (+%.0f), %s", i, time.perf_counter() - start,
                rss_mb(), rss_mb() - baseline, recorder.stats())
    took = time.perf_counter() - start
    peak = sampler.stop()
    stats = recorder.stats()
    accounted = (stats["written"] - 1000 + stats["spooled"] + stats["dropped"] + stats["queued"]
                 + stats["writing"])
    log("done: %d rows in %.1f s, peak +%.1f MiB, %s", rows, took, peak - baseline, stats)
    if accounted < rows:
        raise RuntimeError(f"rows unaccounted for: {stats} for {rows} submitted")
    return {
        "bench": "recorder_memory",
        "rows": rows,
        "rss_growth_mb": round(peak - baseline, 1),
        "baseline_mb": round(baseline, 1),
        "queue_size": settings.queue_size,
        "spooled": stats["spooled"],
        "seconds": round(took, 1),
        "load": load_average(),
    }
