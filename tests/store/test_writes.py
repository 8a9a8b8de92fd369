"""What the recorder's inserts leave in the tables: idempotence, upserts, round-trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlmodel import Session

from prefect_failtrack.store.database import get_engine
from prefect_failtrack.store.models import FlowRunSummary, Transition, flow_runs, transitions


def read_transitions(url: str) -> list[Transition]:
    with Session(get_engine(url)) as session:
        return list(session.scalars(select(Transition)))


def test_the_same_batch_twice_leaves_one_row_each(
    database_url, make_recorder, transitions_batch, count_transitions
) -> None:
    rows = transitions_batch(20)
    recorder = make_recorder(database_url)

    for row in rows + rows:
        recorder.record_transition(row)

    assert recorder.flush()
    assert count_transitions(database_url) == 20
    assert recorder.stats()["written"] == 40


def test_a_new_id_with_the_same_natural_key_is_ignored(
    database_url, make_recorder, transition, count_transitions
) -> None:
    first = transition()
    synthetic = dict(first, id="00000000-0000-0000-0000-000000000001", error_message="later copy")
    other_attempt = dict(first, id="00000000-0000-0000-0000-000000000002", run_count=2)
    recorder = make_recorder(database_url)

    for row in (first, synthetic, other_attempt):
        recorder.record_transition(row)

    assert recorder.flush()
    stored = {t.id: t for t in read_transitions(database_url)}
    assert set(stored) == {first["id"], other_attempt["id"]}
    assert stored[first["id"]].error_message == first["error_message"]


def test_summaries_upsert_and_the_newest_wins(database_url, make_recorder) -> None:
    now = datetime.now(UTC)
    recorder = make_recorder(database_url)
    base = {"flow_run_id": "f-1", "flow_name": "nightly", "started_at": now}

    recorder.record_summary(dict(base, final_state="Running", tasks_total=1, updated_at=now))
    recorder.record_summary(
        dict(
            base,
            final_state="Failed",
            final_state_type="FAILED",
            tasks_total=3,
            tasks_completed=2,
            tasks_failed=1,
            failures_by_class={"TRANSIENT": 1},
            retries_spent=2,
            partial_success=True,
            metrics={"rows_read": 10},
            updated_at=now + timedelta(seconds=2),
        )
    )
    recorder.record_summary(
        dict(base, final_state="Running", updated_at=now + timedelta(seconds=1))
    )
    assert recorder.flush()

    with Session(get_engine(database_url)) as session:
        (summary,) = session.scalars(select(FlowRunSummary)).all()
    assert (summary.final_state, summary.tasks_total, summary.tasks_failed) == ("Failed", 3, 1)
    assert summary.partial_success is True
    assert summary.failures_by_class == {"TRANSIENT": 1}
    assert summary.metrics == {"rows_read": 10}
    assert summary.updated_at == now + timedelta(seconds=2)


def test_timestamps_come_back_as_aware_utc(database_url, make_recorder, transition) -> None:
    paris = timezone(timedelta(hours=2))
    aware = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=paris)
    naive_utc = datetime(2024, 3, 1, 9, 0, 0)
    recorder = make_recorder(database_url)
    row = transition(occurred_at=aware, scheduled_at=naive_utc)

    recorder.record_transition(row)
    assert recorder.flush()

    (stored,) = read_transitions(database_url)
    assert stored.occurred_at == aware
    assert stored.occurred_at.tzinfo is UTC
    assert stored.occurred_at.hour == 10
    assert stored.scheduled_at == naive_utc.replace(tzinfo=UTC)
    assert stored.recorded_at.tzinfo is UTC
    with get_engine(database_url).connect() as connection:
        core = connection.execute(select(transitions.c.occurred_at)).scalar_one()
    assert core.tzinfo is UTC and core == aware


def test_json_columns_round_trip(database_url, make_recorder, transition) -> None:
    metadata = {
        "rows_read": 10,
        "nested": {"ok": True, "ratio": 0.5, "none": None},
        "ids": [1, "a"],
    }
    tags = ["nightly", "ünïcode"]
    recorder = make_recorder(database_url)

    recorder.record_transition(transition(metadata=metadata, tags=tags))
    recorder.record_transition(transition(metadata=None, tags=None))
    assert recorder.flush()

    stored = sorted(read_transitions(database_url), key=lambda t: len(t.tags), reverse=True)
    assert (stored[0].meta, stored[0].tags) == (metadata, tags)
    assert (stored[1].meta, stored[1].tags) == ({}, [])
    with get_engine(database_url).connect() as connection:
        column = connection.execute(select(transitions.c["metadata"])).scalars().all()
    assert metadata in column


def test_omitted_columns_take_their_defaults(database_url, make_recorder) -> None:
    recorder = make_recorder(database_url)
    recorder.record_transition(
        {
            "id": "t-1",
            "run_kind": "flow",
            "flow_run_id": "f-1",
            "run_id": "f-1",
            "name": "nightly",
            "to_state": "Running",
            "to_state_type": "RUNNING",
            "occurred_at": datetime.now(UTC),
            "run_count": 1,
        }
    )
    recorder.record_summary({"flow_run_id": "f-1"})
    assert recorder.flush()

    (stored,) = read_transitions(database_url)
    assert (stored.tags, stored.meta, stored.error_type, stored.retryable) == ([], {}, None, None)
    with get_engine(database_url).connect() as connection:
        summary = connection.execute(select(flow_runs)).mappings().one()
    assert summary["tasks_total"] == 0 and summary["partial_success"] is False
    assert summary["metrics"] == {} and summary["tags"] == []
