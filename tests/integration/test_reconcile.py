"""Reconcile: tracked runs by default, plain Prefect runs when asked, idempotent either way."""

from __future__ import annotations

import time
from datetime import timedelta

from prefect import flow, task
from sqlmodel import Session, select

from prefect_failtrack.reconcile import reconcile
from prefect_failtrack.store import FlowRunSummary, Transition, get_engine


@task
def plain_step() -> int:
    raise ValueError("bad row 17")


@flow(name="never-decorated")
def plain_flow() -> None:
    plain_step()


def history(url: str, flow_run_id: str) -> list[tuple[str, str, str | None]]:
    with Session(get_engine(url)) as session:
        rows = session.exec(
            select(Transition).where(Transition.flow_run_id == flow_run_id)
            .order_by(Transition.occurred_at)
        )
        return [(r.name, r.to_state, r.error_type) for r in rows]


def test_plain_runs_are_reconciled_only_when_asked(audit_db: str) -> None:
    state = plain_flow(return_state=True)
    assert state.is_failed()
    flow_run_id = str(state.state_details.flow_run_id)

    reconcile(timedelta(minutes=10), url=audit_db)
    assert history(audit_db, flow_run_id) == []  # never tracked, not asked

    deadline = time.monotonic() + 20
    while True:  # task states reach the API through events
        reconcile(timedelta(minutes=10), all_runs=True, url=audit_db)
        rows = history(audit_db, flow_run_id)
        if ("plain_step", "Failed", "VALIDATION") in rows or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert ("plain_step", "Failed", "VALIDATION") in rows
    assert ("never-decorated", "Failed", "VALIDATION") in rows  # the flow failed with the task's error
    assert [r[1] for r in rows if r[0] == "plain_step"] == ["Pending", "Running", "Failed"]
    with Session(get_engine(audit_db)) as session:
        summary = session.get(FlowRunSummary, flow_run_id)
    assert summary.tasks_failed == 1 and summary.failures_by_class == {"VALIDATION": 1}
    assert reconcile(timedelta(minutes=10), all_runs=True, url=audit_db).inserted == 0


# ------------------------------------------------------------- repair, names, orphans

import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from prefect import tags  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.futures import wait  # noqa: E402
from prefect.settings import PREFECT_API_URL  # noqa: E402
from prefect.states import Crashed  # noqa: E402
from sqlalchemy import text  # noqa: E402

from prefect_failtrack import tracked_flow, tracked_task  # noqa: E402

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@tracked_task(task_run_name="ok-{i}")
def numbered(i: int) -> int:
    return i


@tracked_task
def refused() -> None:
    raise PermissionError(13, "permission denied for schema analytics")


@tracked_flow(name="reconcile-repairs")
def numbered_flow() -> list:
    futures = [numbered.submit(i) for i in range(3)] + [refused.submit()]
    wait(futures)
    return [f.state for f in futures]


def test_a_wrong_summary_is_repaired_and_task_rows_keep_their_tasks_name(audit_db: str) -> None:
    state = numbered_flow(return_state=True)
    flow_run_id = str(state.state_details.flow_run_id)
    with get_engine(audit_db).begin() as connection:  # as an older failtrack left it
        connection.execute(text(
            "UPDATE failtrack_flow_runs SET tasks_total = 0, tasks_failed = 0 "
            "WHERE flow_run_id = :id"), {"id": flow_run_id})

    result = reconcile(flow_run_ids=[flow_run_id], url=audit_db, grace=timedelta(0))

    assert result.summaries_repaired == 1
    with Session(get_engine(audit_db)) as session:
        summary = session.get(FlowRunSummary, flow_run_id)
    assert (summary.tasks_total, summary.tasks_failed, summary.tasks_completed) == (4, 1, 3)
    names = {name for name, _, _ in history(audit_db, flow_run_id)}
    assert names == {"reconcile-repairs", "numbered", "refused"}  # never "ok-1"
    again = reconcile(flow_run_ids=[flow_run_id], url=audit_db, grace=timedelta(0))
    assert (again.inserted, again.summaries_repaired) == (0, 0)


def test_text_no_database_takes_in_a_flow_runs_tags_does_not_stop_reconcile(
    audit_db: str,
) -> None:
    with tags("team\x00nul"):  # (Prefect itself cannot send a lone surrogate)
        state = numbered_flow(return_state=True)
    flow_run_id = str(state.state_details.flow_run_id)

    result = reconcile(flow_run_ids=[flow_run_id], url=audit_db, grace=timedelta(0))

    assert result.flow_runs == 1
    with Session(get_engine(audit_db)) as session:
        summary = session.get(FlowRunSummary, flow_run_id)
    assert "team\\x00nul" in summary.tags


KILLED = Path(__file__).with_name("killed_flow.py")


def running_in_the_api(flow_run_id: str, task: str) -> bool:
    from prefect_failtrack.reconcile import _task_runs, task_name

    with get_client(sync_client=True) as client:
        return any(
            task_name(t) == task and t.state is not None and t.state.is_running()
            for t in _task_runs(client, flow_run_id)
        )


@sqlite_only
def test_task_runs_orphaned_by_an_ended_flow_run_are_closed(audit_db: str, tmp_path: Path) -> None:
    """A worker's flow-run process is killed: the runner marks the flow run Crashed, and
    nothing ever ends the task run it was running (issue 17's report)."""
    marker = tmp_path / "flow_run_id"
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL": audit_db,
        "PREFECT_INTEGRATIONS_FAILTRACK_HOME": str(tmp_path / "home"),
    }
    child = subprocess.Popen([sys.executable, str(KILLED), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        flow_run_id = marker.read_text().strip()
        while not running_in_the_api(flow_run_id, "load"):  # task states travel as events
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    flow_run_id = marker.read_text().strip()
    with get_client(sync_client=True) as client:  # what a runner or worker does next
        client.set_flow_run_state(flow_run_id, Crashed(message="process killed"), force=True)

    result = reconcile(flow_run_ids=[flow_run_id], url=audit_db, grace=timedelta(seconds=2))

    assert result.orphans_closed == 1
    rows = history(audit_db, flow_run_id)
    load = [(state, kind) for name, state, kind in rows if name == "load"]
    assert load[-1] == ("Crashed", "TRANSIENT")
    with get_engine(audit_db).connect() as connection:
        reason = connection.execute(text(
            "SELECT error_message FROM failtrack_transitions WHERE name = 'load' "
            "AND to_state = 'Crashed'")).scalar_one()
    assert "its flow run ended Crashed while it was Running" in reason
    assert reconcile(flow_run_ids=[flow_run_id], url=audit_db, grace=timedelta(0)).inserted == 0
