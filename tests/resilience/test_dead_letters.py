"""Dead letters found in the audit table, and the requeue ledger: synthetic histories on SQLite
and PostgreSQL (the real thing, with flows and a deployment, is in the integration tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from prefect_failtrack.resilience.dead_letters import NO_DEPLOYMENT, build_dead_letters
from prefect_failtrack.resilience.report import resilience_figures
from prefect_failtrack.resilience.requeue import _claim, requeue
from prefect_failtrack.reports.scope import Scope
from prefect_failtrack.store import writes

NOW = datetime.now(UTC)
DEPLOYMENT = str(uuid.uuid4())


def row(run_kind: str, run_id: str, flow_run_id: str, to_state: str, at: datetime,
        **columns: Any) -> dict[str, Any]:
    state_type = {"Running": "RUNNING", "Failed": "FAILED", "Completed": "COMPLETED",
                  "AwaitingRetry": "SCHEDULED"}[to_state]  # fmt: skip
    return {
        "id": str(uuid.uuid4()), "run_kind": run_kind, "run_id": run_id, "flow_run_id": flow_run_id,
        "task_run_id": run_id if run_kind == "task" else None, "name": columns.pop("name", "load"),
        "flow_name": "nightly", "to_state": to_state, "to_state_type": state_type,
        "occurred_at": at, "run_count": columns.pop("run_count", 1), **columns,
    }  # fmt: skip


def flow_run(engine: Engine, *failures: dict[str, Any], deployment: str | None = DEPLOYMENT,
             final: str = "Failed", at: datetime = NOW - timedelta(hours=1),
             parameters: dict[str, Any] | None = None) -> str:
    """One flow run: Running, its failed tasks, then its final state."""
    flow_id = str(uuid.uuid4())
    rows = [row("flow", flow_id, flow_id, "Running", at, deployment_id=deployment,
                metadata={"parameters": parameters or {"day": "2026-03-10"}})]  # fmt: skip
    for n, failure in enumerate(failures):
        task_id = str(uuid.uuid4())
        rows.append(row("task", task_id, flow_id, "Failed", at + timedelta(seconds=n + 1),
                        deployment_id=deployment, **failure))  # fmt: skip
    worst = failures[0] if failures else {}
    rows.append(row("flow", flow_id, flow_id, final, at + timedelta(seconds=10),
                    deployment_id=deployment, error_type=worst.get("error_type"),
                    retryable=worst.get("retryable")))  # fmt: skip
    with engine.begin() as connection:
        writes.insert_transitions(connection, rows)
    return flow_id


TRANSIENT = {"error_type": "TRANSIENT", "retryable": True, "dependency": "http://api:80",
             "fingerprint": "f1", "run_count": 4, "error_message": "503"}  # fmt: skip
CIRCUIT = {"error_type": "DEPENDENCY", "retryable": True, "dependency": "warehouse",
           "reason": "circuit open for warehouse since 2026-03-10 12:00:00 UTC"}  # fmt: skip
PERMANENT = {"error_type": "PERMANENT", "retryable": False, "dependency": "http://api:80"}


def test_which_failed_runs_are_dead_letters(engine: Engine) -> None:
    exhausted = flow_run(engine, TRANSIENT, parameters={"day": "d1", "password": "hunter2"})
    gave_up = flow_run(engine, CIRCUIT)
    flow_run(engine, TRANSIENT, PERMANENT)  # a bug too: running it again fails again
    flow_run(engine, PERMANENT)
    flow_run(engine, TRANSIENT, final="Completed")  # Prefect retried the flow: it completed
    orphan = flow_run(engine, TRANSIENT, deployment=None)
    flow_run(engine, TRANSIENT, at=NOW - timedelta(days=9))  # out of the window

    report = build_dead_letters(engine)
    found = {d.flow_run_id: d for d in report.dead_letters}
    assert set(found) == {exhausted, gave_up, orphan}
    first = found[exhausted]
    assert (first.error_type, first.dependency, first.fingerprint, first.attempts) == (
        "TRANSIENT", "http://api:80", "f1", 4)
    assert first.deployment_id == DEPLOYMENT and first.requeue.possible
    assert first.parameters == {"day": "d1", "password": "hunter2"}  # as stored (redacted upstream)
    assert found[gave_up].error_type == "DEPENDENCY"
    assert found[orphan].requeue.reason == NO_DEPLOYMENT and not found[orphan].requeue.possible
    assert report.cannot_requeue == 1

    assert {d.flow_run_id for d in build_dead_letters(engine, dependency="warehouse").dead_letters} \
        == {gave_up}
    assert {d.flow_run_id for d in build_dead_letters(engine, error_type="TRANSIENT").dead_letters} \
        == {exhausted, orphan}
    assert build_dead_letters(engine, fingerprint="nope").dead_letters == []
    assert build_dead_letters(engine, flow="other").dead_letters == []


def test_a_dead_letter_is_claimed_once(engine: Engine) -> None:
    flow_run(engine, TRANSIENT)
    letter = build_dead_letters(engine).dead_letters[0]
    assert _claim(engine, letter, "test") is None  # claimed
    assert _claim(engine, letter, "other") is None  # claimed, never created: taken again

    from prefect_failtrack.resilience.requeue import _settle

    _settle(engine, letter.flow_run_id, status="created", requeued_as="new-run")
    found = _claim(engine, letter, "late")
    assert found is not None and found.requeued_as == "new-run"
    assert build_dead_letters(engine).dead_letters == []  # requeued: listed with --all only
    again = build_dead_letters(engine, include_requeued=True).dead_letters[0]
    assert again.requeue.requeued_as == "new-run" and not again.requeue.possible


def test_dry_run_and_limit(engine: Engine) -> None:
    for _ in range(3):
        flow_run(engine, TRANSIENT)
    flow_run(engine, TRANSIENT, deployment=None)
    letters = build_dead_letters(engine).dead_letters
    report = requeue(engine, letters, dry_run=True, limit=2)
    actions = [o.action for o in report.outcomes]
    assert actions.count("would requeue") == 2 and report.requeued == 2
    assert report.skipped == 2  # one over the limit, one without a deployment
    assert build_dead_letters(engine).dead_letters == letters  # nothing claimed


def test_report_figures_count_arrivals_and_requeues(engine: Engine) -> None:
    flow_run(engine, TRANSIENT)
    requeued = flow_run(engine, CIRCUIT)
    from prefect_failtrack.resilience.requeue import _settle

    _claim(engine, build_dead_letters(engine, dependency="warehouse").dead_letters[0], "t")
    _settle(engine, requeued, status="created", requeued_as="x")
    scope = Scope.of(engine, timedelta(hours=24), None)
    with engine.connect() as connection:
        figures = resilience_figures(connection, scope)
    letters = figures.dead_letters
    assert (letters.arrived, letters.waiting, letters.requeued, letters.growth) == (2, 1, 1, 1)
    assert {d.dependency for d in figures.dependencies} == {"http://api:80", "warehouse"}
