"""SQLite reads each report query through its covering index (the bench's goals depend on it).

SQLite keeps no statistics here, so its plans are the same for this small table as for a
million rows: a plan that reads the table, or sorts every row of a wide window, would
show up here before it shows up in ``tests/bench/bench_report.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from prefect_failtrack.reports import build_report
from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
from tests.reports.history import END, known_history

# A statement's opening words -> what its plan must read it through.
EXPECTED = {
    "SELECT failtrack_transitions.run_kind, failtrack_transitions.name": "COVERING INDEX ix_failtrack_transitions_profile",
    "SELECT failtrack_transitions.fingerprint, count(*)": "COVERING INDEX ix_failtrack_transitions_patterns",
    "SELECT outcome.error_type": "COVERING INDEX ix_failtrack_transitions_retries",
    "SELECT last_seen.run_kind": "COVERING INDEX ix_failtrack_transitions_run_id_state",
    "SELECT failtrack_flow_runs.flow_name, count(*)": "COVERING INDEX ix_failtrack_flow_runs_rates",
    "SELECT failtrack_flow_runs.flow_run_id": "COVERING INDEX ix_failtrack_flow_runs_partial",
}


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'plans.db'}"
    ensure_schema(url)
    engine = get_engine(url)
    known_history().write(engine)
    yield engine
    dispose_engines()


def plans(engine: Engine, since: timedelta) -> dict[str, str]:
    """The query plan of each statement of one report, by its opening words."""
    statements: list[tuple[str, tuple]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        build_report(engine, since=since, until=END)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    found = {}
    with engine.connect() as connection:
        for statement, parameters in statements:
            for opening in EXPECTED:
                if " ".join(statement.split()).startswith(opening):
                    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                    found[opening] = "\n".join(row[-1] for row in rows)
    return found


def test_a_wide_window_streams_covering_indexes(sqlite_engine: Engine) -> None:
    found = plans(sqlite_engine, timedelta(days=30))
    assert set(found) == set(EXPECTED)
    for opening, index in EXPECTED.items():
        assert index in found[opening], found[opening]
    assert "TEMP B-TREE FOR GROUP BY" not in found[next(iter(EXPECTED))]


def test_a_narrow_window_reads_the_time_index(sqlite_engine: Engine) -> None:
    found = plans(sqlite_engine, timedelta(hours=1))
    assert "ix_failtrack_transitions_occurred_at" in found[next(iter(EXPECTED))]
