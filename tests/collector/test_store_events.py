"""The collector's store, without a server: rows from events, idempotent with the direct
mode, its position and outbox in the same transaction; the event sink's spool."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect.events.schemas.events import Event
from sqlalchemy import func, select

from prefect_failtrack.collector import position
from prefect_failtrack.collector.store import store_events
from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
from prefect_failtrack.store.models import flow_runs, outbox, transitions
from prefect_failtrack.store.writes import insert_transitions
from prefect_failtrack.transport.envelope import from_event, to_event
from prefect_failtrack.transport.events import EventRecorder
from tests.store.conftest import make_transition


@pytest.fixture
def url(tmp_path: Path):  # type: ignore[no-untyped-def]
    found = f"sqlite:///{tmp_path / 'audit.db'}"
    ensure_schema(found)
    yield found
    dispose_engines()


def count(url: str, table=transitions) -> int:  # type: ignore[no-untyped-def]
    with get_engine(url).connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def a_failed_flow_run() -> list[dict]:
    flow_run_id = str(uuid.uuid4())
    task = make_transition(
        flow_run_id=flow_run_id, to_state="Failed", to_state_type="FAILED", error_type="PERMANENT"
    )
    flow = make_transition(
        run_kind="flow",
        run_id=flow_run_id,
        task_run_id=None,
        flow_run_id=flow_run_id,
        name="nightly",
        to_state="Failed",
        to_state_type="FAILED",
        error_type="UNKNOWN",
        metadata={"class_from_runs": True},
    )
    return [task, flow]


def test_a_row_makes_one_event_and_back() -> None:
    row = make_transition()
    event = to_event("transition", row)
    assert event.event == "failtrack.row.transition"
    assert event.resource.id == f"prefect.task-run.{row['run_id']}"
    assert event.related[0].id == f"prefect.flow-run.{row['flow_run_id']}"
    assert to_event("transition", row).id == event.id  # sent twice: one event
    kind, back = from_event(Event.model_validate_json(event.model_dump_json()))
    assert kind == "transition" and back["id"] == row["id"]
    assert back["occurred_at"] == row["occurred_at"].isoformat()


def test_a_row_too_large_for_an_event_loses_its_metadata_only() -> None:
    row = make_transition(metadata={"blob": "x" * 50_000})
    event = to_event("transition", row, limit=20_000)
    assert event.payload["row"]["metadata"] == {"dropped": "too large for a Prefect event"}
    assert event.payload["row"]["error_message"] == row["error_message"]


def test_events_stored_twice_and_rows_written_directly_are_stored_once(url: str) -> None:
    rows = a_failed_flow_run()
    with get_engine(url).begin() as connection:
        insert_transitions(connection, rows[:1])  # the direct mode wrote one already
    events = [to_event("transition", r) for r in rows]
    first = store_events(get_engine(url), events, name="a", observe=False, publish_delay=0)
    again = store_events(get_engine(url), events, name="a", observe=False, publish_delay=0)
    assert first.rows == again.rows == 2
    assert count(url) == 2
    assert count(url, flow_runs) == 1  # the summary, derived where the rows are stored
    assert count(url, outbox) == 1 and first.noted == {rows[1]["run_id"]}
    with get_engine(url).connect() as connection:
        kept = position.read(connection, "a")
        assert kept.events == 4 and kept.occurred == max(e.occurred for e in events)
        assert [fid for fid, _ in position.due(connection)] == [rows[1]["run_id"]]


def test_the_position_never_goes_back(url: str) -> None:
    later = datetime.now(UTC)
    with get_engine(url).begin() as connection:
        position.advance(connection, "a", later, "e2", 1)
        position.advance(connection, "a", later - timedelta(minutes=5), "e1", 1)
        kept = position.read(connection, "a")
    assert (kept.occurred, kept.event_id, kept.events) == (later, "e2", 2)


def test_a_tracked_row_replaces_the_observed_one_of_the_same_transition(url: str) -> None:
    tracked = make_transition(to_state="Running", to_state_type="RUNNING", run_count=1)
    observed = {**tracked, "id": str(uuid.uuid4()), "capture": "observed", "origin": None}
    engine = get_engine(url)
    with engine.begin() as connection:
        insert_transitions(connection, [observed])
        insert_transitions(connection, [tracked])
        insert_transitions(connection, [{**observed, "id": str(uuid.uuid4())}])  # later: ignored
    with engine.connect() as connection:
        stored = connection.execute(select(transitions.c.id, transitions.c.capture)).all()
    assert [tuple(r) for r in stored] == [(tracked["id"], "tracked")]


def test_the_event_sink_spools_what_it_cannot_post_and_never_raises(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        recorder = EventRecorder(spool_path=tmp_path / "spool.jsonl", flush_interval=0.05)
    try:
        recorder.record_transition(make_transition())
        assert recorder.flush(timeout=30)
        assert recorder.stats()["spooled"] == 1 and recorder.stats()["dropped"] == 0
        assert not recorder.healthy
        assert recorder.view("any") is None and recorder.spent("any") is None
    finally:
        recorder.close()
    assert (tmp_path / "spool.jsonl").exists()
