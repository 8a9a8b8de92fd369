"""The failure report sees what a real tracked flow did: SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from prefect.context import TaskRunContext
from prefect.futures import wait

from prefect_failtrack import tracked_flow, tracked_task
from prefect_failtrack.cli import main
from prefect_failtrack.reports import RunRate, build_report, build_timeline
from prefect_failtrack.store import get_engine, get_recorder
from tests.integration.test_audit_trail import POLICY, exhausted, permanent  # the same failures

FLOW = "report-sees-tracked-failures"


@tracked_task(policy=POLICY, origin="source")
def recovers() -> int:
    if TaskRunContext.get().task_run.run_count <= 2:
        raise ConnectionResetError(104, "Connection reset by peer")
    return 1


@tracked_task(policy=POLICY)
def fine() -> int:
    return 2


@tracked_flow(policy=POLICY, name=FLOW)
def pipeline() -> list:
    futures = [task.submit() for task in (recovers, exhausted, permanent, fine)]
    wait(futures)
    return [f.state for f in futures]


def test_the_report_sees_the_failures_of_a_tracked_flow(audit_db: str, capsys) -> None:
    state = pipeline(return_state=True)
    assert state.is_failed()
    flow_run_id = str(state.state_details.flow_run_id)
    assert get_recorder().flush(timeout=10)
    until = datetime.now(UTC) + timedelta(seconds=1)
    engine = get_engine(audit_db)

    report = build_report(engine, since=timedelta(hours=1), until=until)

    assert (report.runs, report.failed_runs, report.failure_rate) == (1, 1, 1.0)
    assert report.flows == [RunRate(name=FLOW, runs=1, failed=1, failure_rate=1.0)]
    assert {(t.name, t.runs, t.failed) for t in report.tasks} == {
        ("recovers", 1, 0),
        ("exhausted", 1, 1),
        ("permanent", 1, 1),
        ("fine", 1, 0),
    }
    assert report.by_class == {"PERMANENT": 1, "TRANSIENT": 1}
    by_task = {p.tasks[0]: p for p in report.patterns if p.tasks}
    assert by_task["exhausted"].count == 3  # two retried attempts and the final failure
    assert by_task["recovers"].count == 2
    assert by_task["permanent"].count == 1
    assert by_task["exhausted"].error_class == "ConnectionRefusedError"
    assert "Connection refused" in by_task["exhausted"].sample_message
    assert all(p.is_new and not p.is_regression and p.flows == [FLOW] for p in by_task.values())
    assert all(p.fingerprint.startswith("v1:") for p in report.patterns)
    [transient] = report.retry_effectiveness
    assert (
        transient.error_type,
        transient.retried_runs,
        transient.recovered,
        transient.exhausted,
        transient.retries_spent,
    ) == ("TRANSIENT", 2, 1, 1, 4)
    assert transient.time_waiting_s >= 0
    assert [p.flow_run_id for p in report.partial_success_runs] == [flow_run_id]
    assert (
        report.partial_success_runs[0].tasks_completed,
        report.partial_success_runs[0].tasks_failed,
    ) == (2, 2)
    assert report.stuck_runs == []
    assert {(s.name, s.state) for s in report.slowest_states} >= {(FLOW, "Running")}

    only_source = build_report(engine, since=timedelta(hours=1), until=until, origin="source")
    assert [t.name for t in only_source.tasks] == ["recovers"]

    assert (
        main(["report", "--since", "1h", "--until", until.isoformat(), "--url", audit_db, "--json"])
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    expected = report.model_dump(mode="json")
    printed.pop("generated_at"), expected.pop("generated_at")
    assert printed == expected

    timeline = build_timeline(engine, flow_run_id)
    assert timeline.transitions[0].run_kind == "flow"
    assert timeline.transitions[-1].to_state == "Failed"
    assert main(["timeline", flow_run_id, "--url", audit_db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == timeline.model_dump(mode="json")
