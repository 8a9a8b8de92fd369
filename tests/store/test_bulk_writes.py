"""Batches take the driver's bulk path (SQLite executemany, PostgreSQL COPY): same rows stored,
same idempotence, same errors as through SQLAlchemy's executemany."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import DataError

from prefect_failtrack.store import writes
from prefect_failtrack.store.database import ensure_schema, get_engine
from prefect_failtrack.store.models import transitions
from tests.store.conftest import make_transition

N = 3 * writes.BULK_FROM_ROWS


def varied_rows() -> list[dict]:
    """Rows that exercise every column type's conversion, the edge cases included."""
    rows = []
    for i in range(N):
        row = make_transition(
            run_count=i % 4,
            occurred_at=datetime(2026, 3, 1, 12, 0, i % 60, (i * 7919) % 1_000_000,
                                 tzinfo=timezone(timedelta(hours=i % 5 - 2))),
            recorded_at=datetime(2026, 3, 1, 12, 0, 0),  # naive: taken as UTC
            scheduled_at=None if i % 3 else datetime(2026, 3, 1, 13, tzinfo=UTC),
            retryable=[True, False, None][i % 3],
            retry_delay_s=None if i % 2 else 0.25 * i,
            metadata={} if i % 2 else {"metrics": {"rows": i}, "note": "é ✓ \\n \t"},
            tags=[] if i % 5 == 0 else ["a", f"t{i}"],
            error_message=None if i % 4 == 0 else f"line one\nline 'two'\t\\ {i}",
        )
        rows.append(row)
    return rows


def stored(url: str) -> list[dict]:
    with get_engine(url).connect() as connection:
        found = connection.execute(select(transitions).order_by(transitions.c.id)).mappings()
        return [dict(row) for row in found]


def write(url: str, rows: list[dict]) -> None:
    with get_engine(url).begin() as connection:
        writes.insert_transitions(connection, rows)


def test_the_bulk_path_stores_what_the_generic_path_stores(database_url, monkeypatch) -> None:
    ensure_schema(database_url)
    rows = varied_rows()

    monkeypatch.setattr(writes, "BULK_FROM_ROWS", 10**9)  # SQLAlchemy's executemany
    write(database_url, rows)
    generic = stored(database_url)
    with get_engine(database_url).begin() as connection:
        connection.execute(delete(transitions))
    monkeypatch.undo()
    write(database_url, rows)
    bulk = stored(database_url)

    assert len(bulk) == N
    assert bulk == generic
    first = next(r for r in bulk if r["id"] == rows[1]["id"])
    assert first["occurred_at"] == rows[1]["occurred_at"]
    assert first["occurred_at"].tzinfo is not None
    assert first["metadata"] == rows[1]["metadata"]


def test_the_bulk_path_is_idempotent(database_url) -> None:
    ensure_schema(database_url)
    rows = varied_rows()
    again = [dict(r, id=f"other-{i}") for i, r in enumerate(rows[:5])]  # same natural keys

    write(database_url, rows + rows[:7])  # duplicates within one batch
    write(database_url, rows + again)

    assert len(stored(database_url)) == N


@pytest.mark.postgres
def test_copy_errors_are_sqlalchemy_errors_and_the_recorder_keeps_the_good_rows(
    postgres_url, make_recorder, count_transitions
) -> None:
    ensure_schema(postgres_url)
    rows = varied_rows()
    rows[3] = dict(rows[3], run_count="not a number")

    with pytest.raises(DataError):
        write(postgres_url, rows)

    recorder = make_recorder(postgres_url)
    for row in rows:
        recorder.record_transition(row)
    assert recorder.flush()
    assert count_transitions(postgres_url) == N - 1
    assert recorder.stats()["rejected"] == 1


def test_a_value_that_cannot_be_converted_is_a_bad_row_not_an_outage(
    database_url, make_recorder, count_transitions
) -> None:
    rows = varied_rows()
    rows[5] = dict(rows[5], occurred_at=12345)  # not a timestamp

    recorder = make_recorder(database_url)
    for row in rows:
        recorder.record_transition(row)

    assert recorder.flush()
    assert count_transitions(database_url) == N - 1
    assert recorder.stats()["rejected"] == 1
    assert recorder.stats()["spooled"] == 0
