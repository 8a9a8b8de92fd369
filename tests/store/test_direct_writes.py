"""The recorder's driver-level path (`direct`) stores what the SQLAlchemy path stores, and
knows the tables as the models declare them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import JSON, Boolean, delete, select

from prefect_failtrack.store import columns
from prefect_failtrack.store.database import ensure_schema, get_engine
from prefect_failtrack.store.direct import Direct
from prefect_failtrack.store.models import (
    FlowRunSummary,
    Transition,
    UTCDateTime,
    flow_runs,
    heartbeats,
    processes,
    transitions,
)
from prefect_failtrack.store.sink import SqlalchemyWriter
from prefect_failtrack.store.writes import SUMMARY_COLUMNS, TRANSITION_COLUMNS
from tests.store.test_bulk_writes import varied_rows
from tests.store.test_summaries import a_flow_run, flow_row


def test_the_columns_are_the_models() -> None:
    assert columns.TRANSITION_COLUMNS == tuple(c.name for c in transitions.c)
    assert columns.SUMMARY_COLUMNS == tuple(c.name for c in flow_runs.c)
    # the tables the driver-level path writes (heartbeats too: `liveness.writes`)
    every = [*transitions.c, *flow_runs.c, *heartbeats.c, *processes.c]
    assert columns.JSON_COLUMNS == {c.name for c in every if isinstance(c.type, JSON)}
    assert columns.TIMESTAMP_COLUMNS == {c.name for c in every if isinstance(c.type, UTCDateTime)}
    assert columns.BOOLEAN_COLUMNS == {c.name for c in every if isinstance(c.type, Boolean)}
    for table, model in ((columns.TRANSITIONS, TRANSITION_COLUMNS),
                         (columns.FLOW_RUNS, SUMMARY_COLUMNS)):
        empty = columns.complete(table, {}, now=datetime(2026, 1, 1, tzinfo=UTC))
        assert empty == model.normalize({}, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert {Transition.__tablename__, FlowRunSummary.__tablename__} == set(columns.COLUMNS)


@pytest.mark.parametrize(
    ("url", "supported"),
    [
        ("sqlite:////tmp/audit.db", True),
        ("sqlite:///relative/audit.db", True),
        ("sqlite://", False),  # in memory: one connection only, SQLAlchemy's
        ("postgresql+psycopg://u:p%40ss@db:5433/audit?sslmode=require", True),
        ("postgresql://u@db/audit", False),  # SQLAlchemy's default driver there is psycopg2
        ("postgresql+psycopg2://u@db/audit", False),
        ("mysql://u@db/audit", False),
    ],
)
def test_which_urls_the_driver_path_writes(url: str, supported: bool) -> None:
    direct = Direct.for_url(url)
    assert (direct is not None) == supported
    if url.startswith("postgresql+psycopg://"):
        assert direct._connect_args == {
            "host": "db", "port": 5433, "user": "u", "password": "p@ss", "dbname": "audit",
            "sslmode": "require",
        }


def stored(url: str) -> tuple[list[dict], list[dict]]:
    with get_engine(url).connect() as connection:
        rows = connection.execute(select(transitions).order_by(transitions.c.id)).mappings()
        found = [dict(row) for row in rows]
        for row in found:
            row.pop("recorded_at")  # now, when each path wrote it
        summaries = [dict(row) for row in connection.execute(
            select(flow_runs).order_by(flow_runs.c.flow_run_id)).mappings()]
    for summary in summaries:
        summary.pop("updated_at")
    return found, summaries


def test_both_paths_store_the_same_rows_and_derive_the_same_summary(database_url: str) -> None:
    ensure_schema(database_url)
    f, flow_rows = a_flow_run()
    flow_rows.append(flow_row(f, "Failed", "FAILED", 5))
    rows = varied_rows() + flow_rows
    handed = {"flow_run_id": str(uuid.uuid4()), "flow_name": "handed over", "tasks_total": 2,
              "updated_at": datetime(2026, 1, 1, tzinfo=UTC)}
    batch = [("transition", row) for row in rows] + [("summary", handed)]

    SqlalchemyWriter(database_url).write(batch)
    through_sqlalchemy = stored(database_url)
    with get_engine(database_url).begin() as connection:
        connection.execute(delete(transitions))
        connection.execute(delete(flow_runs))
    direct = Direct.for_url(database_url)
    assert direct is not None
    direct.check()
    direct.write(batch)
    direct.write(batch)  # idempotent, as the other path
    through_the_driver = stored(database_url)
    direct.close()

    assert len(through_the_driver[0]) == len(rows)
    assert through_the_driver == through_sqlalchemy
    assert {s["flow_run_id"] for s in through_the_driver[1]} == {f, handed["flow_run_id"]}
