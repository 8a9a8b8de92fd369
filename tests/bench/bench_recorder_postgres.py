"""recorder_postgres: sustained rows/s through the Recorder into PostgreSQL vs the raw driver.

The same rows as recorder_sqlite, into the same table (failtrack's migrations, with
its indexes and unique natural key), in a database created for the bench and dropped
afterwards; the table is truncated before each trial, trials interleaved ABAB.

The reference is psycopg 3's best bulk path, chosen in the same run: both are timed
once first, and the faster is the reference for the interleaved trials:

- ``copy``: ``COPY ... FROM STDIN`` (``Copy.write_row``), in transactions of
  `RAW_CHUNK` rows. Plain COPY cannot skip rows already there, so it is the ceiling
  for an insert that must also be idempotent;
- ``executemany``: ``INSERT ... ON CONFLICT DO NOTHING`` with ``executemany``, which
  psycopg 3 runs in pipeline mode, in the same transactions.

The recorder side is as in recorder_sqlite: ``record_transition`` for every row, then
``flush``, nothing spooled.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from _common import RowMaker, interleaved, load_average, log, median, postgres_database
from bench_recorder_sqlite import recorder_insert
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from prefect_failtrack.store.database import dispose_engines, ensure_schema
from prefect_failtrack.store.models import transitions

RAW_CHUNK = 5000
COLUMNS = [c.name for c in transitions.c]
JSON_COLUMNS = {"tags", "metadata"}


def _conninfo(url: str) -> str:
    parsed = make_url(url)
    return f"host={parsed.host} port={parsed.port} dbname={parsed.database} user={parsed.username}"


def _values(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        record = []
        for name in COLUMNS:
            value = row.get(name)
            if name in JSON_COLUMNS:
                value = Jsonb(value if value is not None else ([] if name == "tags" else {}))
            elif name == "recorded_at":
                value = row["occurred_at"]
            record.append(value)
        out.append(tuple(record))
    return out


def raw_copy(conninfo: str, rows: list[dict[str, Any]]) -> float:
    with psycopg.connect(conninfo) as connection:
        connection.execute(f"TRUNCATE {transitions.name}")
        connection.commit()
        start = time.perf_counter()
        statement = f"COPY {transitions.name} ({', '.join(COLUMNS)}) FROM STDIN"
        for first in range(0, len(rows), RAW_CHUNK):
            with connection.cursor() as cursor:
                with cursor.copy(statement) as copy:
                    for record in _values(rows[first:first + RAW_CHUNK]):
                        copy.write_row(record)
            connection.commit()
        return time.perf_counter() - start


def raw_executemany(conninfo: str, rows: list[dict[str, Any]]) -> float:
    sql = (f"INSERT INTO {transitions.name} ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) ON CONFLICT DO NOTHING")
    with psycopg.connect(conninfo) as connection:
        connection.execute(f"TRUNCATE {transitions.name}")
        connection.commit()
        start = time.perf_counter()
        for first in range(0, len(rows), RAW_CHUNK):
            with connection.cursor() as cursor:
                cursor.executemany(sql, _values(rows[first:first + RAW_CHUNK]))
            connection.commit()
        return time.perf_counter() - start


def _count(conninfo: str) -> int:
    with psycopg.connect(conninfo) as connection:
        return connection.execute(f"SELECT count(*) FROM {transitions.name}").fetchone()[0]


def run(quick: bool) -> dict:
    n, rounds = (5_000, 2) if quick else (100_000, 5)
    rows = RowMaker().rows(n)
    folder = Path(tempfile.mkdtemp(prefix="failtrack-bench-pg-"))
    with postgres_database() as url:
        ensure_schema(url)
        conninfo = _conninfo(url)
        methods = {"copy": raw_copy, "executemany": raw_executemany}
        calibration = {name: n / method(conninfo, rows) for name, method in methods.items()}
        best = max(calibration, key=lambda name: calibration[name])
        log("raw calibration: %s; reference: %s",
            {k: round(v) for k, v in calibration.items()}, best)

        def raw() -> float:
            rate = n / methods[best](conninfo, rows)
            assert _count(conninfo) == n
            log("raw %s: %.0f rows/s", best, rate)
            return rate

        def recorded() -> float:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute(f"TRUNCATE {transitions.name}")
            rate = n / recorder_insert(url, folder / "spool.jsonl", rows)
            assert _count(conninfo) == n
            dispose_engines()
            log("recorder: %.0f rows/s", rate)
            return rate

        raw_rates, recorder_rates = interleaved(rounds, raw, recorded)
    r, s = median(raw_rates), median(recorder_rates)
    return {
        "bench": "recorder_postgres",
        "raw_rows_s": round(r),
        "recorder_rows_s": round(s),
        "ratio": round(s / r, 3),
        "raw_method": best,
        "raw_calibration_rows_s": {k: round(v) for k, v in calibration.items()},
        "rows": n,
        "rounds": rounds,
        "load": load_average(),
    }
