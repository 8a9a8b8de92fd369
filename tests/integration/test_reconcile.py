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
