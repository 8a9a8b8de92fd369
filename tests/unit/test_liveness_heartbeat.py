"""The heartbeat of a process: what one beat says, when it says nothing, and its thread.

The task runs are real ``TaskRun`` objects with real states (as in ``test_watch.py``),
watched by a real `RunningTasks`; the beat's rows are collected instead of recorded.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prefect.client.schemas.objects import TaskRun
from prefect.states import AwaitingRetry, Completed, Running

from prefect_failtrack.capture import rows
from prefect_failtrack.capture.watch import RunningTasks, Watched
from prefect_failtrack.liveness import heartbeat, identity
from prefect_failtrack.liveness.heartbeat import FULL_EVERY, Heartbeat


class Beating:
    """A `Heartbeat` over a watch of its own, its rows kept in `sent`."""

    def __init__(self) -> None:
        self.watch = RunningTasks()
        self.sent: list[dict[str, Any]] = []
        self.beat = Heartbeat()
        self.beat._tasks = lambda: list(self.watch.runs.items())
        self.beat._submit = self.sent.append
        self.beat.running = True  # as if started: record_progress keeps what it is given

    def task(self, name: str = "load", flow_run_id: uuid.UUID | None = None) -> TaskRun:
        task_run = TaskRun(
            id=uuid.uuid4(),
            flow_run_id=flow_run_id or uuid.uuid4(),
            task_key="k",
            dynamic_key="0",
            name=f"{name}-0",
            state=Running(),
        )
        self.watch.runs[task_run.id] = Watched(None, name, task_run, "nightly", None)  # type: ignore[arg-type]
        return task_run

    def once(self) -> dict[str, Any] | None:
        before = len(self.sent)
        self.beat.beat()
        return self.sent[-1] if len(self.sent) > before else None


@pytest.fixture
def beating(monkeypatch: pytest.MonkeyPatch) -> Iterator[Beating]:
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL", "30")
    rows.settings.cache_clear()
    yield Beating()
    rows.settings.cache_clear()


def entered(row: dict[str, Any]) -> set[str]:
    return {entry["run_id"] for entry in row["enter"]}


def test_a_beat_names_the_process_and_the_runs_it_took_up(beating: Beating) -> None:
    flow_run_id = uuid.uuid4()
    beating.beat.flow_started(flow_run_id, "nightly")
    task_run = beating.task(flow_run_id=flow_run_id)

    row = beating.once()

    me = identity.current()
    assert row is not None
    assert (row["process_key"], row["host"], row["pid"]) == (me.key, me.host, os.getpid())
    assert row["interval_s"] == 30.0 and row["held"] == 2 and row["release"] == []
    assert isinstance(row["beat_at"], datetime) and row["beat_at"].tzinfo is not None
    by_id = {entry["run_id"]: entry for entry in row["enter"]}
    assert by_id[str(task_run.id)] == {
        "run_id": str(task_run.id),
        "run_kind": "task",
        "flow_run_id": str(flow_run_id),
        "name": "load",
        "flow_name": "nightly",
    }
    assert by_id[str(flow_run_id)]["run_kind"] == "flow"


def test_later_beats_say_only_what_changed_and_every_tenth_names_all(beating: Beating) -> None:
    first, second = beating.task(), beating.task()
    assert entered(beating.once()) == {str(first.id), str(second.id)}  # type: ignore[arg-type]

    quiet = beating.once()
    assert quiet is not None and quiet["enter"] == [] and quiet["held"] == 2  # the beat itself

    third = beating.task()
    first.state = Completed()  # final: the watch forgets it at its next harvest
    row = beating.once()
    assert row is not None
    assert entered(row) == {str(third.id)} and row["release"] == [str(first.id)]

    while beating.beat.beats % FULL_EVERY:
        beating.once()
    assert entered(beating.once()) == {str(second.id), str(third.id)}  # type: ignore[arg-type]


def test_a_run_waiting_for_its_retry_is_still_held(beating: Beating) -> None:
    task_run = beating.task()
    beating.once()
    task_run.state = AwaitingRetry()
    row = beating.once()
    assert row is not None and row["held"] == 1 and row["release"] == []


def test_nothing_held_and_nothing_let_go_of_sends_nothing(beating: Beating) -> None:
    assert beating.once() is None
    task_run = beating.task()
    beating.once()
    del beating.watch.runs[task_run.id]
    last = beating.once()
    assert last is not None and last["release"] == [str(task_run.id)] and last["held"] == 0
    assert beating.once() is None  # idle: nothing more


def test_the_flow_end_lets_go_at_once(beating: Beating) -> None:
    flow_run_id = uuid.uuid4()
    beating.beat.flow_started(flow_run_id, "nightly")
    beating.once()
    beating.beat.flow_ended(flow_run_id)  # in the pipeline's thread, before the flow's flush
    assert beating.sent[-1]["release"] == [str(flow_run_id)]
    assert beating.beat.flows == {}


def test_progress_travels_once_per_change_redacted_and_cut(beating: Beating) -> None:
    task_run = beating.task()
    secret = "postgresql://loader:hunter2@db/prod"
    beating.beat.progress[task_run.id] = (1200, f"copying to {secret} " + "x" * 500, time.time())
    row = beating.once()
    assert row is not None
    [progress] = row["progress"]
    assert progress["run_id"] == str(task_run.id) and progress["rows"] == 1200
    assert "hunter2" not in progress["message"] and len(progress["message"]) <= 200
    assert beating.once()["progress"] == []  # type: ignore[index]  # unchanged: not sent again
    beating.beat.progress[task_run.id] = (2400, None, time.time() + 1)
    assert beating.once()["progress"][0]["rows"] == 2400  # type: ignore[index]


def test_progress_of_runs_no_longer_held_is_forgotten(beating: Beating) -> None:
    task_run = beating.task()
    beating.beat.progress[task_run.id] = (1, None, time.time() - 1)
    beating.once()
    del beating.watch.runs[task_run.id]
    beating.once()
    assert beating.beat.progress == {}


def test_a_failing_beat_is_counted_never_raised(
    beating: Beating, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(row: dict[str, Any]) -> None:
        raise OSError("the recorder is gone")

    beating.task()
    beating.beat._submit = broken
    assert beating.beat.beat() is None
    assert beating.beat.errors == 1
    assert "a heartbeat failed (OSError: the recorder is gone)" in caplog.text


def test_an_interval_of_zero_turns_heartbeats_off(
    beating: Beating, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL", "0")
    rows.settings.cache_clear()
    beating.task()
    assert beating.once() is None
    idle = Heartbeat()
    idle.start()
    assert not idle.running and idle._thread is None


def test_the_thread_beats_at_the_interval_off_the_callers_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL", "0.1")
    rows.settings.cache_clear()
    sent: list[tuple[str, datetime]] = []
    beat = Heartbeat()
    beat._tasks = list
    beat._submit = lambda row: sent.append((threading.current_thread().name, row["beat_at"]))
    beat.flow_started(uuid.uuid4(), "nightly")
    try:
        beat.start()
        beat.start()  # once per process
        deadline = time.monotonic() + 10
        while len(sent) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        beat.stop()
        rows.settings.cache_clear()
    assert len(sent) >= 4
    assert {name for name, _ in sent} == {"failtrack-heartbeat"}
    gaps = [(b - a).total_seconds() for (_, a), (_, b) in itertools.pairwise(sent)]
    assert all(0.05 < gap < 2.0 for gap in gaps), gaps
    assert not beat.running


def test_a_forked_child_holds_nothing_of_its_parent() -> None:
    heartbeat.BEAT.flows[uuid.uuid4()] = "nightly"
    try:
        pid = os.fork()
        if pid == 0:  # the child: nothing held, no thread, a process of its own
            ok = heartbeat.BEAT.flows == {} and not heartbeat.BEAT.running
            ok = ok and identity.current().pid == os.getpid()
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        heartbeat.BEAT.flows.clear()


def test_the_beat_time_is_now_in_utc(beating: Beating) -> None:
    beating.task()
    before = datetime.now(UTC)
    row = beating.once()
    assert row is not None and before <= row["beat_at"] <= datetime.now(UTC)
