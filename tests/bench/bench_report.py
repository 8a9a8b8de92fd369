"""report: the full failure report over a realistic history, on SQLite and on PostgreSQL.

The history (`_report_history`: 1,000,000 transitions, 50,000 with ``--quick``) spans
30 days of a dozen flows. Each database gives two lines: ``report_<db>``, the report
with every row in its window (the worst case: each figure over all the rows), and
``report_<db>_24h``, the default window (the last day).

Goals at 1,000,000 rows: 3 s on SQLite, 2 s on PostgreSQL (``docs/reports.md``).
``seconds`` is the best of three rounds, ``first_seconds`` the first; ``cpu_seconds`` is
this process's CPU time (all of SQLite's work, little of PostgreSQL's); ``load_avg``
says how busy the machine was.
Run alone: ``python tests/bench/bench_report.py [--quick]``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_average, log, postgres_database
from _report_history import END, SPAN, History

from prefect_failtrack.reports import build_report
from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
from prefect_failtrack.store.models import transitions as transitions_table
from prefect_failtrack.store.writes import (
    TRANSITION_COLUMNS,
    insert_summaries,
    insert_transitions,
)

FULL_ROWS = 1_000_000
QUICK_ROWS = 50_000
ROUNDS = 3
LOAD_CACHE_KIB = 512 * 1024


def load(url: str, rows: int) -> tuple[int, float]:
    """Fill the database at `url` with a history of `rows` transitions; (rows, seconds).

    SQLite: `insert_transitions` in batches, with a large page cache on the loading
    connection only. PostgreSQL: COPY, then VACUUM ANALYZE (what autovacuum does to an
    insert-only table soon after such a load).
    """
    ensure_schema(url)
    engine = get_engine(url)
    started, written = time.perf_counter(), 0
    copy = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if not copy:
            connection.exec_driver_sql(f"PRAGMA cache_size=-{LOAD_CACHE_KIB}")
        for transitions, summaries in History(rows).batches():
            if copy:
                _copy_transitions(connection, transitions)
            else:
                insert_transitions(connection, transitions, derive_summaries=False)
            insert_summaries(connection, summaries)
            written += len(transitions)
    dispose_engines()  # the report gets fresh connections, with default settings
    with get_engine(url).connect() as connection:
        if copy:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )
        else:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return written, time.perf_counter() - started


def _copy_transitions(connection: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, fed rows completed exactly as `insert_transitions` completes them."""
    from psycopg.types.json import Jsonb

    columns = TRANSITION_COLUMNS.names
    processors = [
        transitions_table.c[name].type.bind_processor(connection.dialect) for name in columns
    ]
    json_columns = {"tags", "metadata"}
    names = ", ".join(f'"{name}"' for name in columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY failtrack_transitions ({names}) FROM STDIN") as copy:
        for row in rows:
            complete = TRANSITION_COLUMNS.normalize(row)
            values = []
            for name, process in zip(columns, processors):
                value = complete[name]
                if name in json_columns:
                    value = Jsonb(value)
                elif process is not None:
                    value = process(value)
                values.append(value)
            copy.write_row(values)


def report_seconds(engine: Any, since: timedelta) -> dict[str, Any]:
    """Time the report over `since` before the history's end: best and first of a few rounds.

    ``cpu_seconds`` is this process's CPU time in the best round: the whole work of
    SQLite, which runs in-process (PostgreSQL's is in its server processes).
    """
    rounds = []
    for _ in range(ROUNDS):
        cpu0, t0 = time.process_time(), time.perf_counter()
        report = build_report(engine, since=since, until=END)
        rounds.append((time.perf_counter() - t0, time.process_time() - cpu0))
    best = min(rounds)
    return {
        "seconds": round(best[0], 3),
        "first_seconds": round(rounds[0][0], 3),
        "cpu_seconds": round(best[1], 3),
        "report": report,
    }


def measure(url: str, rows: int, bench: str) -> list[dict[str, Any]]:
    """Load, then time the full report over all rows, and over the default 24 hours."""
    written, load_s = load(url, rows)
    log("%s: %d rows loaded in %.1f s", bench, written, load_s)
    engine = get_engine(url)
    lines = []
    for suffix, since, window in (
        ("", SPAN + timedelta(days=1), f"all rows ({SPAN.days} days of history)"),
        ("_24h", timedelta(hours=24), "last 24 hours"),
    ):
        timing = report_seconds(engine, since)
        report = timing.pop("report")
        log(
            "%s%s: runs=%d failed=%d patterns=%d stuck=%d partial=%d; %s (load %s)",
            bench,
            suffix,
            report.runs,
            report.failed_runs,
            len(report.patterns),
            len(report.stuck_runs),
            len(report.partial_success_runs),
            timing,
            load_average(),
        )
        lines.append(
            {
                "bench": bench + suffix,
                "rows": written,
                **timing,
                "window": window,
                "load_avg": load_average(),
            }
        )
    return lines


def run(quick: bool) -> list[dict[str, Any]]:
    rows = QUICK_ROWS if quick else FULL_ROWS
    results = []
    with tempfile.TemporaryDirectory(prefix="failtrack-bench-report-") as folder:
        results += measure(f"sqlite:///{folder}/audit.db", rows, "report_sqlite")
        dispose_engines()
    with postgres_database("failtrack_bench_report") as url:
        results += measure(url, rows, "report_postgres")
    return results


if __name__ == "__main__":
    for line in run("--quick" in sys.argv[1:]):
        print(json.dumps(line), flush=True)
