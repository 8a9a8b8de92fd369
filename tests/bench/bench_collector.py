"""collector: events per second the collector stores, against the direct writer.

Both store the same rows (realistic transitions, `RowMaker`) into a fresh SQLite database
made by failtrack's migrations, trials interleaved:

- direct: ``Recorder.record_transition`` for every row, then ``flush``: what a tracked
  run's process does with ``TRANSPORT=database``;
- collector (store): the same rows as ``failtrack.row.transition`` events (`to_event`),
  stored by the collector's own path in batches of 500 (`store_events`: rows, summaries,
  position, outbox in one transaction per batch): the collector's cost per event,
  without the network;
- collector (end to end): rows recorded by an `EventRecorder` (``TRANSPORT=events``),
  posted to a Prefect test server, followed on its event stream by a `Collector` and
  stored: events/s from the first row recorded to the last one stored.
"""

from __future__ import annotations

import asyncio
import contextvars
import tempfile
import threading
import time
from pathlib import Path

from _common import RowMaker, load_average, log, median, prefect_api
from sqlalchemy import func, select

from prefect_failtrack.collector import Collector
from prefect_failtrack.collector.store import store_events
from prefect_failtrack.store import Recorder
from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
from prefect_failtrack.store.models import transitions
from prefect_failtrack.transport.envelope import to_event
from prefect_failtrack.transport.events import EventRecorder

BATCH = 500


def fresh(folder: Path, name: str) -> str:
    url = f"sqlite:///{folder / name}.db"
    ensure_schema(url)
    return url


def direct(url: str, rows: list[dict], spool: Path) -> float:
    recorder = Recorder(url, queue_size=len(rows) + 10, spool_path=spool)
    recorder.flush(30)  # the engine and schema ready, as in a running process
    start = time.perf_counter()
    for row in rows:
        recorder.record_transition(dict(row))
    assert recorder.flush(600)
    took = time.perf_counter() - start
    recorder.close()
    return len(rows) / took


def collector_store(url: str, rows: list[dict]) -> float:
    events = [to_event("transition", row) for row in rows]
    engine = get_engine(url)
    start = time.perf_counter()
    for first in range(0, len(events), BATCH):
        store_events(engine, events[first : first + BATCH], name="bench", observe=False)
    return len(events) / (time.perf_counter() - start)


def stored(url: str) -> int:
    with get_engine(url).connect() as connection:
        return connection.execute(select(func.count()).select_from(transitions)).scalar_one()


def end_to_end(url: str, rows: list[dict], spool: Path) -> float:
    collector = Collector(get_engine(url), name="bench-e2e", flush_interval=0.2)
    stop = threading.Event()
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(asyncio.run, collector.run(stop.is_set)))
    thread.start()
    time.sleep(2.0)  # connected
    recorder = EventRecorder(queue_size=len(rows) + 10, spool_path=spool)
    start = time.perf_counter()
    for row in rows:
        recorder.record_transition(dict(row))
    assert recorder.flush(600)
    deadline = time.monotonic() + 600
    while stored(url) < len(rows) and time.monotonic() < deadline:
        time.sleep(0.05)
    took = time.perf_counter() - start
    recorder.close()
    stop.set()
    thread.join(60)
    assert stored(url) == len(rows), "not every event was stored"
    return len(rows) / took


def run(quick: bool) -> list[dict]:
    n, trials = (1_000, 1) if quick else (20_000, 3)
    e2e_n = 200 if quick else 5_000
    folder = Path(tempfile.mkdtemp(prefix="bench-collector-"))
    rows = RowMaker().rows(n)
    results: dict[str, list[float]] = {"direct": [], "collector_store": []}
    for trial in range(trials):
        results["direct"].append(direct(fresh(folder, f"d{trial}"), rows, folder / f"s{trial}"))
        results["collector_store"].append(collector_store(fresh(folder, f"c{trial}"), rows))
        log(
            "trial %d: direct %.0f rows/s, collector %.0f events/s",
            trial,
            results["direct"][-1],
            results["collector_store"][-1],
        )
    with prefect_api(120):
        e2e = end_to_end(fresh(folder, "e2e"), RowMaker(seed=11).rows(e2e_n), folder / "e2e-spool")
    log("end to end: %.0f events/s", e2e)
    dispose_engines()
    return [
        {
            "bench": "collector",
            "what": "direct writer (Recorder -> SQLite)",
            "rows": n,
            "rows_per_s": round(median(results["direct"])),
            "load": load_average(),
        },
        {
            "bench": "collector",
            "what": "collector store path (events -> SQLite)",
            "rows": n,
            "events_per_s": round(median(results["collector_store"])),
            "load": load_average(),
        },
        {
            "bench": "collector",
            "what": "end to end (EventRecorder -> Prefect server -> collector -> SQLite)",
            "rows": e2e_n,
            "events_per_s": round(e2e),
            "load": load_average(),
        },
    ]
