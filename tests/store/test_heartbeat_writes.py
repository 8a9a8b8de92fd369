"""Heartbeat rows in the tables: idempotent, newest wins, through the recorder and its spool.
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from prefect_failtrack.liveness.writes import write_heartbeats
from prefect_failtrack.store.driver import Driver
from prefect_failtrack.store import Recorder
from prefect_failtrack.store.database import ensure_schema, get_engine
from prefect_failtrack.store.models import heartbeats, processes
from prefect_failtrack.store.spool import Spool

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def beat(key: str = "p1", at: datetime = T0, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "process_key": key,
        "host": "worker-1",
        "pid": 4242,
        "boot_id": "b",
        "pid_namespace": "n",
        "process_started": 123_456_789_012,
        "interval_s": 30.0,
        "beat_at": at,
        "held": 0,
        "enter": [],
        "progress": [],
        "release": [],
    }
    return {**row, **changes}


def run(run_id: str, kind: str = "task") -> dict[str, Any]:
    return {
        "run_id": run_id,
        "run_kind": kind,
        "flow_run_id": "f1",
        "name": "load",
        "flow_name": "nightly",
    }


def engine_of(url: str) -> Engine:
    ensure_schema(url)
    return get_engine(url)


def write(url: str, *beats: dict[str, Any]) -> None:
    with engine_of(url).begin() as connection:
        write_heartbeats(Driver.of_sqlalchemy(connection), list(beats))


def held(url: str) -> dict[str, dict[str, Any]]:
    with engine_of(url).connect() as connection:
        return {r.run_id: r._asdict() for r in connection.execute(select(heartbeats))}


def process(url: str, key: str = "p1") -> dict[str, Any]:
    with engine_of(url).connect() as connection:
        return (
            connection.execute(select(processes).where(processes.c.process_key == key))
            .one()
            ._asdict()
        )


def test_one_beat_one_process_row_and_the_runs_it_took_up(database_url: str) -> None:
    write(database_url, beat(held=2, enter=[run("t1"), run("f1", "flow")]))
    found = process(database_url)
    assert (found["host"], found["pid"], found["held"], found["last_beat"]) == (
        "worker-1",
        4242,
        2,
        T0,
    )
    assert found["process_started"] == 123_456_789_012  # more than 32 bits
    runs = held(database_url)
    assert set(runs) == {"t1", "f1"}
    assert runs["t1"]["process_key"] == "p1" and runs["t1"]["since"] == T0


def test_the_newest_beat_wins_whatever_the_order(database_url: str) -> None:
    later = T0 + timedelta(seconds=30)
    write(database_url, beat(at=later, held=1))
    write(database_url, beat(at=T0, held=5))  # late (a replayed spool): changes nothing
    found = process(database_url)
    assert (found["last_beat"], found["held"]) == (later, 1)
    write(database_url, beat(at=T0, held=5), beat(at=later + timedelta(seconds=30), held=3))
    assert process(database_url)["held"] == 3


def test_a_beat_stored_twice_changes_nothing(database_url: str) -> None:
    once = beat(
        held=1, enter=[run("t1")], progress=[{"run_id": "t1", "rows": 10, "message": "m", "at": T0}]
    )
    write(database_url, once)
    first = held(database_url)
    write(database_url, once)
    assert held(database_url) == first


def test_progress_newest_wins_and_only_from_the_holder(database_url: str) -> None:
    write(database_url, beat(held=1, enter=[run("t1")]))
    at = T0 + timedelta(seconds=5)
    write(
        database_url,
        beat(
            at=T0 + timedelta(seconds=30),
            held=1,
            progress=[{"run_id": "t1", "rows": 500, "message": "batch 5", "at": at}],
        ),
    )
    write(
        database_url,
        beat(
            at=T0 + timedelta(seconds=60),
            held=1,
            progress=[{"run_id": "t1", "rows": 100, "message": "old", "at": T0}],
        ),
    )  # older progress
    write(
        database_url,
        beat(
            "p2",
            at=T0 + timedelta(seconds=61),
            progress=[
                {"run_id": "t1", "rows": 9, "message": "not mine", "at": at + timedelta(seconds=1)}
            ],
        ),
    )
    row = held(database_url)["t1"]
    assert row["progress"] == {"rows": 500, "message": "batch 5"} and row["progress_at"] == at


def test_let_go_deletes_only_what_this_process_holds(database_url: str) -> None:
    write(database_url, beat(held=2, enter=[run("t1"), run("t2")]))
    write(database_url, beat("p2", held=1, enter=[run("t3")]))
    write(database_url, beat("p2", at=T0 + timedelta(seconds=30), release=["t1", "t3"]))
    assert set(held(database_url)) == {"t1", "t2"}
    write(database_url, beat(at=T0 + timedelta(seconds=30), release=["t1", "t2"]))
    assert held(database_url) == {}


def test_a_newer_process_takes_a_run_over_and_not_the_other_way(database_url: str) -> None:
    write(database_url, beat(held=1, enter=[run("t1")]))
    write(database_url, beat("p2", at=T0 + timedelta(seconds=90), held=1, enter=[run("t1")]))
    write(database_url, beat(at=T0 + timedelta(seconds=30), held=1, enter=[run("t1")]))
    row = held(database_url)["t1"]
    assert (row["process_key"], row["since"]) == ("p2", T0 + timedelta(seconds=90))


def test_taken_up_and_let_go_in_one_batch(database_url: str) -> None:
    write(
        database_url,
        beat(held=1, enter=[run("t1")]),
        beat(at=T0 + timedelta(seconds=30), release=["t1"]),
    )
    assert held(database_url) == {}


def test_through_the_recorder_and_back_from_the_spool(
    database_url: str, unreachable_url: str, make_recorder: Callable[..., Recorder], spool_path: Any
) -> None:
    down = make_recorder(unreachable_url)
    down.record_heartbeat(beat(held=1, enter=[run(str(uuid.uuid4()))], progress=[], release=[]))
    assert down.flush(timeout=10)
    down.close()
    assert down.stats()["spooled"] == 1
    assert [kind for kind, _ in _entries(spool_path)] == ["heartbeat"]  # as JSON, times as text

    up = make_recorder(database_url)
    assert up.flush(timeout=10)
    deadline = datetime.now(UTC) + timedelta(seconds=20)
    while up.stats()["replayed"] < 1 and datetime.now(UTC) < deadline:
        up.flush(timeout=1)
    assert up.stats()["replayed"] == 1
    assert process(database_url)["last_beat"] == T0
    with engine_of(database_url).connect() as connection:
        assert connection.execute(select(func.count()).select_from(heartbeats)).scalar_one() == 1


def _entries(path: Any) -> list[tuple[str, dict[str, Any]]]:
    from prefect_failtrack.store.spool import read

    assert Spool(path).exists()
    return list(read(path))
