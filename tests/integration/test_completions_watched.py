"""Completed rows without an ``on_completion`` hook (``capture/watch.py``), in real runs.

What is relied on, in Prefect 3.8's task engine (prefect/task_engine.py): the TaskRun
object the ``on_running`` hook receives is the engine's own, and ``set_state``
assigns its ``state`` and then its ``state_id``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from prefect import task
from prefect.cache_policies import INPUTS
from prefect.client.orchestration import get_client
from prefect.task_runners import ThreadPoolTaskRunner
from sqlmodel import Session, select

from prefect_failtrack import record_metrics, tracked_flow, tracked_task
from prefect_failtrack.store import FlowRunSummary, Transition, get_engine, get_recorder
from prefect_failtrack.store.database import ensure_schema


@tracked_task
def double(i: int) -> int:
    record_metrics(rows_written=i)
    return 2 * i


@tracked_task
async def double_async(i: int) -> int:
    await asyncio.sleep(0)
    return 2 * i


@tracked_task(cache_policy=INPUTS, cache_expiration=timedelta(minutes=5), persist_result=True)
def cached(key: str) -> str:
    return key.upper()


@tracked_flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
def mapped(n: int) -> list[int]:
    return double.map(range(n)).result()


def transitions(url: str, **where: str) -> list[Transition]:
    with Session(get_engine(url)) as session:
        query = select(Transition)
        for column, value in where.items():
            query = query.where(getattr(Transition, column) == value)
        return list(session.exec(query.order_by(Transition.occurred_at)))


def test_mapped_tasks_in_threads_each_get_their_completed_row_and_count_in_the_summary(
    audit_db: str,
) -> None:
    state = mapped(12, return_state=True)
    assert state.result() == [2 * i for i in range(12)]
    flow_run_id = str(state.state_details.flow_run_id)

    # No flush here: the flow-end hook harvested the completions before it counted them,
    # and flushed.
    rows = transitions(audit_db, flow_run_id=flow_run_id, run_kind="task")
    completed = [r for r in rows if r.to_state == "Completed"]
    assert len(completed) == 12 and len(rows) == 24
    assert {(r.from_state, r.run_count) for r in completed} == {("Running", 1)}
    assert all(r.duration_in_state_ms is not None for r in completed)
    assert sorted(r.meta["metrics"]["rows_written"] for r in completed) == list(range(12))
    assert {r.flow_name for r in completed} == {"mapped"}
    with Session(get_engine(audit_db)) as session:
        summary = session.get(FlowRunSummary, flow_run_id)
    assert summary is not None
    assert (summary.tasks_total, summary.tasks_completed, summary.tasks_failed) == (12, 12, 0)
    assert summary.metrics == {"rows_written": sum(range(12))}

    # The ids and times are Prefect's own: the API's Completed states, once events land.
    with get_client(sync_client=True) as client:
        for row in completed[:3]:
            deadline = time.monotonic() + 20
            while (run := client.read_task_run(row.task_run_id)).state_type.value != "COMPLETED":
                assert time.monotonic() < deadline, "the API never saw the completion"
                time.sleep(0.2)
            assert str(run.state_id) == row.id
            assert run.state.timestamp == row.occurred_at.replace(tzinfo=run.state.timestamp.tzinfo)


@pytest.mark.filterwarnings("ignore:Logger 'prefect.task_runs' attempted to send logs")
def test_a_task_called_outside_a_flow_is_completed_by_the_writer_on_its_own(audit_db: str) -> None:
    assert double(21) == 42
    assert asyncio.run(double_async(4)) == 8
    # Neither a flow end nor a flush: the recorder's writer harvests every flush_interval.
    ensure_schema(audit_db)  # for the reads below (the writer makes it at its first batch)
    deadline = time.monotonic() + 10
    while len(done := transitions(audit_db, to_state="Completed")) < 2:
        assert time.monotonic() < deadline, f"only {len(done)} Completed rows after 10 s"
        time.sleep(0.1)
    assert sorted(r.name for r in done) == ["double", "double_async"]
    assert all(r.flow_run_id is None and r.from_state == "Running" for r in done)


def test_a_cache_hit_is_recorded_as_prefect_names_it(audit_db: str) -> None:
    key = uuid.uuid4().hex  # a cache of this test's own (results outlive the test)

    @tracked_flow
    def twice() -> list[str]:
        return [cached(key), cached(key)]

    state = twice(return_state=True)
    assert state.result() == [key.upper()] * 2
    rows = transitions(audit_db, flow_run_id=str(state.state_details.flow_run_id), run_kind="task")
    assert [(r.from_state, r.to_state) for r in rows] == [
        ("Pending", "Running"), ("Running", "Completed"), ("Pending", "Running"), ("Running", "Cached"),
    ]


def test_the_watch_does_not_change_plain_tasks(audit_db: str) -> None:
    @task
    def plain() -> int:
        return 1

    @tracked_flow
    def with_a_plain_task() -> int:
        return plain()

    state = with_a_plain_task(return_state=True)
    assert state.result() == 1
    rows = transitions(audit_db, flow_run_id=str(state.state_details.flow_run_id))
    assert [(r.run_kind, r.to_state) for r in rows] == [("flow", "Running"), ("flow", "Completed")]
    assert get_recorder().flush(timeout=10)


def test_a_running_task_shows_in_the_table_while_it_runs(audit_db: str) -> None:
    """What stuck-run reports rely on: the Running row is written while the task still runs
    (by the writer's harvest; no flush, no flow end), then the Completed row after it."""
    release = threading.Event()

    @tracked_task
    def waits() -> str:
        assert release.wait(30), "never released"
        return "done"

    @tracked_flow
    def long_running() -> str:
        return waits()

    outcome: list[Any] = []
    runner = threading.Thread(target=lambda: outcome.append(long_running(return_state=True)))
    runner.start()
    try:
        ensure_schema(audit_db)
        deadline = time.monotonic() + 10
        while not (running := transitions(audit_db, name="waits")):
            assert time.monotonic() < deadline, "no Running row while the task ran"
            time.sleep(0.1)
        assert [(r.from_state, r.to_state) for r in running] == [("Pending", "Running")]
    finally:
        release.set()
        runner.join(60)
    assert outcome and outcome[0].result() == "done"
    rows = transitions(audit_db, name="waits")
    assert [r.to_state for r in rows] == ["Running", "Completed"]
