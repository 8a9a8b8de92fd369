"""`record_progress` inside real task and flow runs: bad input is logged and skipped, the
run goes on, and good input reaches the heartbeat and ``failtrack stuck``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prefect import task
from sqlalchemy import select

from prefect_failtrack import record_progress, tracked_flow, tracked_task
from prefect_failtrack.capture import rows
from prefect_failtrack.liveness import heartbeat
from prefect_failtrack.liveness.progress import COMPLAINTS
from prefect_failtrack.reports import build_stuck
from prefect_failtrack.store import get_engine, get_recorder
from prefect_failtrack.store.models import heartbeats

BAD_CALLS = 6


@pytest.fixture
def beating_fast(audit_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This process beats every 0.2 s (a heartbeat thread started afresh)."""
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL", "0.2")
    rows.settings.cache_clear()
    heartbeat.BEAT.stop()
    COMPLAINTS.count = 0
    yield audit_db
    heartbeat.BEAT.stop()
    rows.settings.cache_clear()


def stored_progress(url: str) -> dict[str, dict[str, object]]:
    get_recorder().flush(timeout=10)
    with get_engine(url).connect() as connection:
        query = select(heartbeats.c.run_id, heartbeats.c.progress)
        return {run_id: progress for run_id, progress in connection.execute(query)}


@tracked_task
def load(url: str) -> dict[str, dict[str, object]]:
    record_progress(rows=-1)
    record_progress(rows=True)
    record_progress(rows="10")  # type: ignore[arg-type]
    record_progress(message=b"bytes")  # type: ignore[arg-type]
    record_progress()
    record_progress(10, "first batch", "extra", unit="rows")  # type: ignore[call-arg]
    record_progress(rows=2500, message="half way")
    record_progress(message="still half way")  # rows kept
    time.sleep(1.0)  # a few beats
    return stored_progress(url)


@tracked_flow
def nightly(url: str) -> dict[str, dict[str, object]]:
    record_progress(message="flow: loading")
    return load(url)


def test_bad_input_is_logged_and_skipped_good_input_reaches_the_heartbeat(
    beating_fast: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="prefect_failtrack.liveness"):
        state = nightly(beating_fast, return_state=True)
    assert state.is_completed()  # whatever record_progress was given
    progress = state.result()
    assert {"rows": 2500, "message": "still half way"} in progress.values()
    assert {"rows": None, "message": "flow: loading"} in progress.values()
    said = [r.getMessage() for r in caplog.records if "record_progress" in r.getMessage()]
    assert len(said) == BAD_CALLS == COMPLAINTS.count
    assert "rows must be a whole number of 0 or more, not -1; skipped" in said[0]
    assert "message must be text, not bytes" in said[3]
    assert "ignored: 1 more positional argument(s), unit=" in said[5]
    assert stored_progress(beating_fast) == {}  # the flow ended: let go of


def test_outside_a_run_or_in_an_untracked_task_nothing_happens(beating_fast: str) -> None:
    record_progress(rows=1)  # outside any run: one line, no error

    @task
    def untracked() -> int:
        record_progress(rows=5)
        return 5

    @tracked_flow
    def mixed() -> int:
        return untracked()

    assert mixed() == 5
    assert COMPLAINTS.count == 1


def test_a_slow_task_shows_its_progress_in_failtrack_stuck(beating_fast: str) -> None:
    seen: list[object] = []

    @tracked_task
    def crunch() -> None:
        record_progress(rows=42, message="crunching")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.2)
            get_recorder().flush(timeout=5)
            runs = build_stuck(
                get_engine(beating_fast), stuck_after=timedelta(seconds=0.5)
            ).stuck_runs
            found = [r for r in runs if r.run_kind == "task" and r.liveness and r.liveness.progress]
            if found:
                seen.append(found[0])
                return

    @tracked_flow
    def crunching() -> None:
        crunch()

    crunching()
    [run] = seen
    assert run.status == "slow" and run.liveness.progress.rows == 42  # type: ignore[attr-defined]
    assert run.liveness.progress.message == "crunching"  # type: ignore[attr-defined]
