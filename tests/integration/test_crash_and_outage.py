"""What the hooks cannot promise, reconcile and the spool make good: SIGKILL, database outages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from sqlalchemy import func
from sqlmodel import Session, select

from prefect_failtrack import ErrorType, RetryPolicy, tracked_flow, tracked_task
from prefect_failtrack.reconcile import reconcile, task_name
from prefect_failtrack.store import FlowRunSummary, Transition, get_engine, get_recorder

from .conftest import use_database

HERE = Path(__file__).parent


def table_history(url: str, run_id: str) -> list[tuple[str, int]]:
    """The run's rows, without the Crashed row that closes it if it was lost (liveness)."""
    return [(r.to_state, r.run_count) for r in table_rows(url, run_id) if not closed_as_lost(r)]


def table_rows(url: str, run_id: str) -> list[Transition]:
    with Session(get_engine(url)) as session:
        query = select(Transition).where(Transition.run_id == run_id)
        return list(session.exec(query.order_by(Transition.occurred_at, Transition.run_count)))


def closed_as_lost(row: Transition) -> bool:
    """Reconcile's Crashed row for a run whose process is gone (prefect_failtrack/liveness)."""
    return row.to_state == "Crashed" and "liveness" in row.meta


def api_histories(flow_run_id: str) -> dict[str, tuple[str, list[str]]]:
    """run id -> (name, state names in order), for the flow run and its task runs."""
    from prefect_failtrack.reconcile import _task_runs

    with get_client(sync_client=True) as client:
        out = {flow_run_id: ("flow", [s.name for s in client.read_flow_run_states(flow_run_id)])}
        for task_run in _task_runs(client, flow_run_id):
            states = sorted(client.read_task_run_states(task_run.id), key=lambda s: s.timestamp)
            out[str(task_run.id)] = (task_name(task_run), [s.name for s in states])
    return out


def test_sigkill_mid_task_then_reconcile_completes_the_history(audit_db: str, tmp_path: Path) -> None:
    marker = tmp_path / "flow_run_id"
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL": audit_db,
        "PREFECT_INTEGRATIONS_FAILTRACK_HOME": str(tmp_path / "home"),
    }
    child = subprocess.Popen([sys.executable, str(HERE / "killed_flow.py"), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the flow process ended before it was killed"
            assert time.monotonic() < deadline, "the flow never reached its second task"
            time.sleep(0.1)
        time.sleep(1.0)  # let Prefect's event worker send the task's Running state
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    flow_run_id = marker.read_text().strip()

    deadline = time.monotonic() + 30
    while True:
        reconcile(flow_run_ids=[flow_run_id], url=audit_db)
        api = api_histories(flow_run_id)
        complete = all(
            [s for s, _ in table_history(audit_db, run_id)] == states
            for run_id, (_, states) in api.items()
        )
        if complete or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    names = {name for name, _ in api.values()}
    assert names == {"flow", "extract", "load"}
    for run_id, (name, states) in api.items():
        table = [s for s, _ in table_history(audit_db, run_id)]
        assert table == states, name  # every state Prefect knows, in order, none twice
    assert api[flow_run_id][1][-1] == "Running"  # SIGKILL: nothing told Prefect otherwise
    # Liveness: the killed runs that a heartbeat had seen are closed, last, with a Crashed row.
    for run_id, (name, _) in api.items():
        rows = table_rows(audit_db, run_id)
        if any(closed_as_lost(r) for r in rows):
            assert name in {"flow", "load"} and closed_as_lost(rows[-1]), name
    again = reconcile(flow_run_ids=[flow_run_id], url=audit_db)
    assert (again.inserted, again.lost_closed) == (0, 0)


FAST = RetryPolicy.default().override(ErrorType.TRANSIENT, initial_delay=0, jitter=0)


@tracked_task(policy=FAST)
def flaky_step(n: int) -> int:
    from prefect.context import TaskRunContext

    if TaskRunContext.get().task_run.run_count == 1 and n % 2:
        raise ConnectionResetError("reset")
    return n


@tracked_flow(name="outage")
def many_transitions() -> int:
    return sum(flaky_step(n) for n in range(10))


def test_database_down_for_the_whole_run_then_replayed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows are counted one by one below: no heartbeat rows among them (see test_liveness.py)
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL", "0")
    use_database("postgresql+psycopg://postgres@127.0.0.1:1/unreachable")
    recorder = get_recorder()
    state = many_transitions(return_state=True)
    assert state.is_completed() and state.result() == 45  # the outcome is untouched
    recorder.flush(timeout=10)
    stats = recorder.stats()
    # 5 tasks succeed at once (Running, Completed), 5 fail once (Running, AwaitingRetry,
    # Retrying, Completed), the flow itself (Running, Completed). No summary row: the store
    # derives it from these rows when it gets them.
    seen = 5 * 2 + 5 * 4 + 2
    assert stats["spooled"] == seen and stats["written"] == 0 and stats["dropped"] == 0

    use_database(database_url)  # the database is back: the next recorder replays the spool
    replaying = get_recorder()
    deadline = time.monotonic() + 30
    while replaying.stats()["replayed"] < seen and time.monotonic() < deadline:
        time.sleep(0.2)
    assert replaying.stats()["replayed"] == seen, (replaying.url, replaying.spool.path, replaying.stats())
    with Session(get_engine(database_url)) as session:
        flow_run_id = str(state.state_details.flow_run_id)
        count = session.exec(
            select(func.count()).select_from(Transition).where(Transition.flow_run_id == flow_run_id)
        ).one()
        distinct = session.exec(
            select(func.count(func.distinct(Transition.id))).where(Transition.flow_run_id == flow_run_id)
        ).one()
    assert count == distinct == seen
    with Session(get_engine(database_url)) as session:
        assert session.get(FlowRunSummary, flow_run_id).tasks_completed == 10
