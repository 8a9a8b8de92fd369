"""The report's two new thresholds: dead letters growing, a circuit open too long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect_failtrack.blocks import ReportThresholds
from prefect_failtrack.reports import FailureReport
from prefect_failtrack.reports.alerts import evaluate
from prefect_failtrack.reports.publish import summary_markdown
from prefect_failtrack.resilience.report import (
    CircuitView,
    DeadLetterFigures,
    DependencyFailures,
    ResilienceFigures,
)

END = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
ONLY_OURS = ReportThresholds(failure_rate=None, retries_exhausted=None, stuck_runs=None,
                             new_patterns=None)  # fmt: skip


def circuit(minutes: float) -> CircuitView:
    return CircuitView(
        dependency="warehouse", state="open", since=END - timedelta(minutes=minutes),
        open_until=END + timedelta(seconds=30), open_minutes=minutes, probe_run_id=None,
        failures_in_window=4, threshold=3, window_seconds=60, open_seconds=30, trips=1,
        last_failure_at=END, closed_at=None, enabled=True,
    )


def report(figures: ResilienceFigures) -> FailureReport:
    return FailureReport(
        window_start=END - timedelta(hours=24), window_end=END, filters={}, runs=0,
        failed_runs=0, failure_rate=0.0, flows=[], tasks=[], by_class={}, patterns=[],
        retry_effectiveness=[], stuck_runs=[], partial_success_runs=[], slowest_states=[],
        generated_at=END, resilience=figures,
    )


def test_quiet_by_default() -> None:
    assert evaluate(report(ResilienceFigures()), ReportThresholds()) == []


def test_dead_letters_growing_and_a_circuit_open_too_long_alert() -> None:
    figures = ResilienceFigures(
        open_circuits=[circuit(45)],
        dependencies=[DependencyFailures(dependency="warehouse", failed_runs=7, retries=12)],
        dead_letters=DeadLetterFigures(arrived=7, waiting=5, cannot_requeue=1, requeued=2),
    )
    alerts = {a.threshold: a for a in evaluate(report(figures), ONLY_OURS)}
    assert set(alerts) == {"dead_letters_growing", "circuit_open_minutes"}
    assert alerts["dead_letters_growing"].value == 5  # arrived 7, requeued 2
    assert "5 wait to be requeued" in alerts["dead_letters_growing"].message
    assert alerts["circuit_open_minutes"].value == 45
    assert "warehouse" in alerts["circuit_open_minutes"].message
    markdown = summary_markdown(report(figures))
    assert "## Open circuits" in markdown and "## Dead letters" in markdown
    assert "`warehouse` | 7 | 12" in markdown


def test_a_backlog_requeued_faster_than_it_grows_does_not_alert() -> None:
    figures = ResilienceFigures(
        open_circuits=[circuit(10)],
        dead_letters=DeadLetterFigures(arrived=3, waiting=0, requeued=5),
    )
    assert evaluate(report(figures), ONLY_OURS) == []
