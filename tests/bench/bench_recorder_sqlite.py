"""recorder_sqlite: sustained rows/s through the Recorder into SQLite vs raw sqlite3.

Both write the same rows (realistic transitions, one in five a failure with message
and stack) into the same table (created by failtrack's migrations, with its indexes),
each trial into a fresh database file, trials interleaved ABAB.

- raw: what you would write by hand with the standard library: ``sqlite3``,
  ``INSERT OR IGNORE`` (idempotent, like the recorder), ``executemany`` in
  transactions of `RAW_CHUNK` rows, values converted with ``json.dumps`` and
  ``isoformat``, the same pragmas as failtrack's engine (WAL, synchronous=NORMAL).
- recorder: ``Recorder.record_transition`` for every row as fast as the caller can,
  then ``flush``; rows/s from the first call to the end of the flush. The queue is
  big enough for all rows (nothing spools), so this is the write path itself.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from _common import RowMaker, interleaved, load_average, log, median

from prefect_failtrack.store import Recorder
from prefect_failtrack.store.database import dispose_engines, ensure_schema
from prefect_failtrack.store.models import transitions

RAW_CHUNK = 5000
COLUMNS = [c.name for c in transitions.c]
JSON_COLUMNS = {"tags", "metadata"}
TIME_COLUMNS = {"occurred_at", "scheduled_at", "recorded_at"}


def _sqlite_time(value: Any) -> Any:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def raw_insert(path: Path, rows: list[dict[str, Any]]) -> float:
    """Seconds to write `rows` with plain sqlite3 (conversion included)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    sql = (f"INSERT OR IGNORE INTO {transitions.name} ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
    dumps = json.dumps
    now = time.time()
    start = time.perf_counter()
    for first in range(0, len(rows), RAW_CHUNK):
        values = []
        for row in rows[first:first + RAW_CHUNK]:
            record = []
            for name in COLUMNS:
                value = row.get(name)
                if name in JSON_COLUMNS:
                    value = dumps(value if value is not None else ([] if name == "tags" else {}))
                elif name in TIME_COLUMNS:
                    value = _sqlite_time(value) if name != "recorded_at" else now
                record.append(value)
            values.append(record)
        connection.execute("BEGIN")
        connection.executemany(sql, values)
        connection.execute("COMMIT")
    took = time.perf_counter() - start
    count = connection.execute(f"SELECT count(*) FROM {transitions.name}").fetchone()[0]
    connection.close()
    assert count == len(rows), (count, len(rows))
    return took


def recorder_insert(url: str, spool: Path, rows: list[dict[str, Any]]) -> float:
    recorder = Recorder(url, spool_path=spool, queue_size=len(rows) + 10)
    try:
        recorder._writer_ready()  # schema and connection ready before the clock starts
        start = time.perf_counter()
        for row in rows:
            recorder.record_transition(dict(row))  # a fresh dict each time, as the hooks hand over
        if not recorder.flush(timeout=600):
            raise RuntimeError("recorder did not flush")
        took = time.perf_counter() - start
        stats = recorder.stats()
    finally:
        recorder.close()
    if stats["written"] != len(rows) or stats["spooled"]:
        raise RuntimeError(f"not all rows written directly: {stats}")
    return took


def run(quick: bool) -> dict:
    n, rounds = (5_000, 2) if quick else (100_000, 5)
    rows = RowMaker().rows(n)
    folder = Path(tempfile.mkdtemp(prefix="failtrack-bench-sqlite-"))
    trial = iter(range(10**6))

    def fresh() -> tuple[Path, str]:
        path = folder / f"t{next(trial)}.db"
        url = f"sqlite:///{path}"
        ensure_schema(url)
        return path, url

    def raw() -> float:
        path, _ = fresh()
        dispose_engines()  # no pooled connection of ours stays open on the file
        took = raw_insert(path, rows)
        path.unlink()
        log("raw: %.0f rows/s", n / took)
        return n / took

    def recorded() -> float:
        path, url = fresh()
        took = recorder_insert(url, folder / "spool.jsonl", rows)
        dispose_engines()
        path.unlink()
        log("recorder: %.0f rows/s", n / took)
        return n / took

    raw_rates, recorder_rates = interleaved(rounds, raw, recorded)
    r, s = median(raw_rates), median(recorder_rates)
    return {
        "bench": "recorder_sqlite",
        "raw_rows_s": round(r),
        "recorder_rows_s": round(s),
        "ratio": round(s / r, 3),
        "rows": n,
        "rounds": rounds,
        "load": load_average(),
    }
