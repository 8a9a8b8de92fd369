"""The recorder never raises or blocks, and loses nothing while the spool can be written."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from prefect_failtrack.store import Recorder, get_recorder, reset_recorder
from prefect_failtrack.store.database import get_engine
from prefect_failtrack.store.recorder import FIRST_RETRY_DELAY, SUMMARY, TRANSITION, make_writer
from prefect_failtrack.store.spool import Spool, read


class SwitchableRecorder(Recorder):
    """A recorder whose database can be taken away and given back."""

    unreachable_url: str | None = None

    def _writer(self):
        if self.unreachable_url is not None:
            return make_writer(self.unreachable_url)
        return super()._writer()


def test_all_rows_are_written_after_flush(
    database_url, make_recorder, transitions_batch, count_transitions
):
    recorder = make_recorder(database_url, batch_size=50)
    rows = transitions_batch(1000)

    for row in rows:
        recorder.record_transition(row)
    recorder.record_summary({"flow_run_id": rows[0]["flow_run_id"], "tasks_total": 1000})

    assert recorder.flush()
    assert count_transitions(database_url) == 1000
    assert recorder.stats() == {
        "written": 1001,
        "spooled": 0,
        "replayed": 0,
        "dropped": 0,
        "rejected": 0,
        "queued": 0,
        "writing": 0,
    }


def test_unreachable_database_spools_and_the_next_recorder_replays(
    database_url,
    unreachable_url,
    make_recorder,
    spool_path,
    transitions_batch,
    count_transitions,
    recorder_log,
):
    rows = transitions_batch(120)
    down = make_recorder(unreachable_url, batch_size=25)

    for row in rows:
        down.record_transition(row)  # never raises
    down.record_summary({"flow_run_id": "f-1", "tasks_failed": 3})
    assert down.flush()
    down.close()

    assert down.stats()["spooled"] == 121
    assert down.stats()["written"] == 0
    assert sum(1 for _ in read(spool_path)) == 121
    outage_warnings = [m for m in recorder_log.messages() if "is unavailable" in m]
    assert len(outage_warnings) == 1, recorder_log.messages()

    saved = spool_path.with_name("saved.jsonl")
    shutil.copy(spool_path, saved)
    up = make_recorder(database_url)
    assert up.flush()
    assert count_transitions(database_url) == 120
    assert up.stats()["replayed"] == 121
    assert not spool_path.exists()

    shutil.copy(saved, spool_path)  # the same spool once more: nothing new
    again = make_recorder(database_url)
    assert again.flush()
    assert again.stats()["replayed"] == 121
    assert count_transitions(database_url) == 120
    assert not list(spool_path.parent.glob("*.replaying"))


def test_a_recorder_that_retried_while_down_leaves_the_spool_whole(
    database_url, unreachable_url, make_recorder, spool_path, transitions_batch, count_transitions
):
    down = make_recorder(unreachable_url)
    for row in transitions_batch(10):
        down.record_transition(row)
    assert down.flush()
    time.sleep(FIRST_RETRY_DELAY * 4)  # it tries again after 0.5 s, then after 1 s more
    down.close()

    assert sum(1 for _ in read(spool_path)) == 10
    assert not list(spool_path.parent.glob("*.replaying"))
    up = make_recorder(database_url)
    assert up.flush()
    assert count_transitions(database_url) == 10


class FailingWrites(Recorder):
    """Connects, but every write breaks off as if the server went away mid-transaction."""

    failing = True

    def _write_batch(self, writer, batch):
        if self.failing:
            raise ConnectionResetError("server closed the connection unexpectedly")
        super()._write_batch(writer, batch)


def test_a_replay_that_fails_gives_its_claim_back_at_once(
    database_url, make_recorder, spool_path, transitions_batch, count_transitions, wait_for
):
    rows = transitions_batch(10)
    Spool(spool_path).append((TRANSITION, row) for row in rows)  # left by an earlier process
    recorder = make_recorder(database_url, cls=FailingWrites)
    assert recorder.flush()  # the writer has tried to replay the spool, and failed

    # While this recorder lives on, nothing stays claimed: another process could replay now.
    assert not list(spool_path.parent.glob("*.replaying"))
    assert sorted(row["id"] for _, row in read(spool_path)) == sorted(r["id"] for r in rows)
    assert recorder.stats()["replayed"] == 0

    recorder.failing = False  # the database is back: the next retry replays it all
    assert wait_for(lambda: count_transitions(database_url) == 10)
    assert recorder.flush()
    recorder.close()
    assert recorder.stats()["replayed"] == 10
    assert not spool_path.exists()
    assert not list(spool_path.parent.glob("*.replaying"))


class HangingWrites(Recorder):
    """Its database takes the connection, then never answers (until `release`)."""

    def __init__(self, *args, **kwargs):
        self.release = threading.Event()
        super().__init__(*args, **kwargs)

    def _store(self, batch):
        self.release.wait()
        return False  # the connection is cut at last


def test_close_spools_what_a_writer_stuck_on_the_database_holds(
    database_url, make_recorder, spool_path, transitions_batch, count_transitions, wait_for
):
    recorder = make_recorder(database_url, cls=HangingWrites)
    rows = transitions_batch(30)
    for row in rows[:25]:
        recorder.record_transition(row)
    assert wait_for(lambda: recorder._inflight is not None)  # the writer holds a batch, stuck
    for row in rows[25:]:
        recorder.record_transition(row)  # these wait in the queue

    started = time.monotonic()
    recorder.close(timeout=0.5)  # as at process exit: the writer does not stop in time

    assert time.monotonic() - started < 3
    assert sorted(r["id"] for _, r in read(spool_path)) == sorted(r["id"] for r in rows)
    recorder.release.set()
    # The released writer tries the spool once more as it stops (and gives it back): let it
    # finish, or the next recorder may look while the file is claimed and wait a sweep.
    recorder._thread.join(10)
    up = make_recorder(database_url)
    assert up.flush()
    assert wait_for(lambda: count_transitions(database_url) == 30)


def test_database_that_comes_back_gets_the_spool_in_the_same_process(
    database_url,
    unreachable_url,
    make_recorder,
    spool_path,
    transitions_batch,
    count_transitions,
    wait_for,
    recorder_log,
):
    recorder = make_recorder(database_url, cls=SwitchableRecorder, batch_size=10)
    recorder.unreachable_url = unreachable_url
    rows = transitions_batch(60)

    for row in rows[:40]:
        recorder.record_transition(row)
    assert recorder.flush()
    assert recorder.stats()["spooled"] == 40
    assert spool_path.exists()

    recorder.unreachable_url = None
    for row in rows[40:]:
        recorder.record_transition(row)

    assert wait_for(lambda: count_transitions(database_url) == 60)
    assert recorder.flush()
    stats = recorder.stats()
    assert stats["spooled"] >= 40  # until the next retry it does not know the database is back
    assert stats["replayed"] == stats["spooled"]
    assert stats["written"] + stats["spooled"] == 60
    assert not spool_path.exists()
    messages = recorder_log.messages()
    assert sum("is unavailable" in m for m in messages) == 1
    assert sum("answers again" in m for m in messages) == 1


def test_spool_unwritable_and_database_down_drops_with_a_warning(
    unreachable_url, make_recorder, tmp_path, transitions_batch, recorder_log
):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    recorder = make_recorder(unreachable_url, spool_path=blocker / "spool" / "spool.jsonl")

    for row in transitions_batch(30):
        recorder.record_transition(row)
    assert recorder.flush()

    stats = recorder.stats()
    assert (stats["dropped"], stats["spooled"], stats["written"]) == (30, 0, 0)
    dropped = [m for m in recorder_log.messages() if "dropped" in m]
    assert len(dropped) == 1
    assert not [m for m in recorder_log.messages() if "recorder error" in m]
    assert str(blocker / "spool" / "spool.jsonl") in dropped[0]
    assert "rows" in dropped[0] or "row(s)" in dropped[0]


def test_a_full_queue_overflows_to_the_spool_without_blocking(
    database_url, make_recorder, transitions_batch, count_transitions
):
    recorder = make_recorder(database_url, queue_size=10, batch_size=5)
    rows = transitions_batch(100)

    started = time.perf_counter()
    for row in rows:
        recorder.record_transition(row)
    submitted_in = time.perf_counter() - started

    assert submitted_in < 1.0
    assert recorder.flush()
    stats = recorder.stats()
    assert stats["spooled"] > 0
    assert stats["written"] + stats["spooled"] == 100
    recorder.close()  # replays the overflow before the writer stops
    assert count_transitions(database_url) == 100
    assert recorder.stats()["replayed"] == stats["spooled"]


def test_orphaned_claims_of_dead_processes_are_replayed(
    database_url, make_recorder, spool_path, transitions_batch, count_transitions
):
    rows = transitions_batch(10)
    Spool(spool_path).append((TRANSITION, row) for row in rows[:5])
    orphan = Spool(spool_path).claim()
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))
    Spool(spool_path).append((TRANSITION, row) for row in rows[5:])
    young = Spool(spool_path).claim()  # another live process is replaying this one
    Spool(spool_path).append([(SUMMARY, {"flow_run_id": "f-1"})])

    recorder = make_recorder(database_url)
    assert recorder.flush()

    assert count_transitions(database_url) == 5
    assert not orphan.exists()
    assert young.exists()
    assert not spool_path.exists()
    assert recorder.stats()["replayed"] == 6


def test_rows_the_database_refuses_do_not_hold_back_the_others(
    database_url, make_recorder, transition, transitions_batch, count_transitions, recorder_log
):
    recorder = make_recorder(database_url)
    broken = transition(to_state=None)  # NOT NULL

    for row in [*transitions_batch(5), broken, *transitions_batch(5)]:
        recorder.record_transition(row)
    assert recorder.flush()

    assert count_transitions(database_url) == 10
    assert recorder.stats()["rejected"] == 1
    assert any("refused 1 row" in m for m in recorder_log.messages())


def test_rows_recorded_after_close_go_to_the_spool(
    database_url, make_recorder, transition, spool_path
):
    recorder = make_recorder(database_url)
    recorder.close()

    recorder.record_transition(transition())

    assert recorder.stats()["spooled"] == 1
    assert sum(1 for _ in read(spool_path)) == 1


def test_the_process_recorder_follows_the_settings(
    database_url, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transition, count_transitions
):
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL", database_url)
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_FLUSH_INTERVAL", "0.05")
    reset_recorder()

    recorder = get_recorder()
    assert get_recorder() is recorder
    assert recorder.url == database_url
    assert recorder.spool.path == tmp_path / "home" / "spool.jsonl"
    recorder.record_transition(transition())
    reset_recorder()  # flushes

    assert count_transitions(database_url) == 1
    assert get_recorder() is not recorder


def test_a_flush_behind_more_than_a_batch_does_not_wait_out_the_flush_interval(
    database_url, make_recorder, transitions_batch, count_transitions
):
    # The writer takes the rows before the flush marker in several batches; the wake-up the
    # flush gave may go to the first of them. It must not then sleep out the interval
    # (an hour here) before it sees the marker: flush would time out.
    recorder = make_recorder(database_url, batch_size=100, flush_interval=3600)
    for row in transitions_batch(150):  # a batch, and half a batch left with the marker
        recorder.record_transition(row)
    assert recorder.flush(timeout=20)
    assert count_transitions(database_url) == 150


def test_rows_handed_over_as_functions_are_made_in_the_writer_and_a_failing_one_is_counted(
    database_url, make_recorder, transitions_batch, count_transitions
):
    recorder = make_recorder(database_url)
    made_in: list[str] = []
    rows = transitions_batch(3)

    def maker(row):
        def make():
            made_in.append(threading.current_thread().name)
            return row
        return make

    def broken():
        raise ValueError("a bug in a row maker")

    recorder.record_transition(maker(rows[0]))
    recorder.record_transition(broken)
    recorder.record_transition(maker(rows[1]))
    recorder.record_transition(rows[2])
    assert recorder.flush()
    assert count_transitions(database_url) == 3
    assert made_in == ["failtrack-recorder"] * 2
    assert recorder.stats()["dropped"] == 1


def test_a_schema_that_does_not_match_is_reported_once_and_spools_until_it_is_fixed(
    database_url, make_recorder, spool_path, transitions_batch, count_transitions,
    recorder_log, monkeypatch, wait_for,
):
    from prefect_failtrack.store import database, recorder as recorder_module

    database.upgrade(database_url)
    with get_engine(database_url).begin() as connection:
        connection.exec_driver_sql("ALTER TABLE failtrack_transitions DROP COLUMN origin")
    database.dispose_engines()
    monkeypatch.setattr(recorder_module, "SCHEMA_RECHECK", 0.2)  # checked again quickly
    recorder = make_recorder(database_url)

    for row in transitions_batch(10):
        recorder.record_transition(row)
    assert recorder.flush()
    time.sleep(1.0)  # several rechecks, all failing, none reported again
    for row in transitions_batch(5):
        recorder.record_transition(row)
    assert recorder.flush()

    reported = [m for m in recorder_log.messages() if "does not match failtrack's schema" in m]
    assert len(reported) == 1, recorder_log.messages()
    assert "failtrack db upgrade --url" in reported[0]
    assert not any("unavailable" in m or "answers again" in m for m in recorder_log.messages())
    assert recorder.stats()["spooled"] == 15 and recorder.stats()["written"] == 0

    with get_engine(database_url).begin() as connection:  # the operator repairs the table
        connection.exec_driver_sql("ALTER TABLE failtrack_transitions ADD COLUMN origin VARCHAR")
    assert wait_for(lambda: count_transitions(database_url) == 15, timeout=10)
    assert any("matches failtrack's schema now" in m for m in recorder_log.messages())


def test_text_no_backend_takes_is_made_storable_in_every_table(database_url, make_recorder):
    """NUL and lone surrogates in tags, metric names and values, in transitions and in
    summaries (PostgreSQL refuses NUL in text and JSON; UTF-8 cannot encode a surrogate)."""
    from sqlalchemy import select

    from prefect_failtrack.store.models import flow_runs, transitions
    from tests.store.conftest import make_transition

    hostile = "tag\x00with-nul-\ud800"
    row = make_transition(
        tags=[hostile], error_message=hostile, metadata={"metrics": {hostile: 1}, hostile: [hostile]}
    )
    recorder = make_recorder(database_url)
    recorder.record_transition(row)
    recorder.record_summary(
        {"flow_run_id": "f-nul", "tags": [hostile], "metrics": {hostile: 2.0}, "flow_name": hostile}
    )
    assert recorder.flush()

    assert recorder.stats()["rejected"] == 0
    escaped = "tag\\x00with-nul-\\ud800"
    with get_engine(database_url).connect() as connection:
        stored = connection.execute(select(transitions).where(transitions.c.id == row["id"])).one()
        summary = connection.execute(select(flow_runs)).one()
    assert stored.tags == [escaped] and stored.error_message == escaped
    assert stored.metadata == {"metrics": {escaped: 1}, escaped: [escaped]}
    assert (summary.tags, summary.metrics, summary.flow_name) == ([escaped], {escaped: 2.0}, escaped)
