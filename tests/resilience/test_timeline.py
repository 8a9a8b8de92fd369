"""The timeline shows a failure's dependency, in a column of its own when any failure names one."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from prefect_failtrack.reports.models import Timeline, TimelineEntry
from prefect_failtrack.reports.render import render_timeline


def entry(dependency: str | None) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=datetime(2026, 3, 10, 2, 14, tzinfo=UTC), run_kind="task", name="load",
        run_id="r1", from_state="Running", to_state="AwaitingRetry", to_state_type="SCHEDULED",
        run_count=1, duration_in_state_ms=120, error_type="TRANSIENT", error_class="httpx.ConnectError",
        error_message="connection refused", reason="errno ECONNREFUSED", retry_delay_s=2.0,
        dependency=dependency,
    )


def shown(timeline: Timeline) -> str:
    out = io.StringIO()
    render_timeline(timeline, Console(file=out, width=200))
    return out.getvalue()


def test_the_dependency_column_appears_when_a_failure_names_one() -> None:
    named = Timeline(flow_run_id="f1", transitions=[entry("http://10.0.4.7:8080"), entry(None)])
    assert "dependency" in shown(named) and "http://10.0.4.7:8080" in shown(named)
    assert '"dependency":"http://10.0.4.7:8080"' in named.model_dump_json()
    assert "dependency" not in shown(Timeline(flow_run_id="f1", transitions=[entry(None)]))
