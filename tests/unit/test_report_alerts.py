"""Thresholds, alert text and the report's markdown, as pure functions of a report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from prefect_failtrack.blocks import ReportThresholds
from prefect_failtrack.reports import (
    FailureReport,
    PartialRun,
    Pattern,
    RetryStats,
    RunRate,
    StuckRun,
)
from prefect_failtrack.reports.alerts import Alert, alert_text, evaluate, notify
from prefect_failtrack.reports.publish import patterns_table, summary_markdown

END = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
NONE = ReportThresholds(
    failure_rate=None, retries_exhausted=None, stuck_runs=None, new_patterns=None
)


def pattern(**changes: Any) -> Pattern:
    values: dict[str, Any] = {
        "fingerprint": "v1:0123456789abcdef",
        "error_type": "TRANSIENT",
        "error_class": "httpx.ConnectTimeout",
        "sample_message": "timed out | waiting\nfor rates.example.com",
        "count": 4,
        "first_seen": END - timedelta(hours=3),
        "last_seen": END - timedelta(hours=1),
        "flows": ["nightly"],
        "tasks": ["fetch_rates"],
        "is_new": True,
        "is_regression": False,
    }
    return Pattern(**{**values, **changes})


def report(**changes: Any) -> FailureReport:
    values: dict[str, Any] = {
        "window_start": END - timedelta(hours=24),
        "window_end": END,
        "filters": {},
        "runs": 10,
        "failed_runs": 3,
        "failure_rate": 0.3,
        "flows": [RunRate(name="nightly", runs=10, failed=3, failure_rate=0.3)],
        "tasks": [],
        "by_class": {"TRANSIENT": 3},
        "patterns": [pattern(), pattern(fingerprint="v1:1", is_new=False, is_regression=True)],
        "retry_effectiveness": [
            RetryStats(error_type="TRANSIENT", retried_runs=5, recovered=2, exhausted=3,
                       retries_spent=9, time_waiting_s=41.5),
            RetryStats(error_type="TIMEOUT", retried_runs=1, recovered=0, exhausted=1,
                       retries_spent=1, time_waiting_s=10),
        ],
        "stuck_runs": [
            StuckRun(run_kind="flow", name="nightly", run_id="r1", flow_run_id="r1",
                     state="Running", since=END - timedelta(hours=2), minutes=120)
        ],
        "partial_success_runs": [],
        "slowest_states": [],
        "generated_at": END,
    }
    return FailureReport(**{**values, **changes})


def test_each_threshold_alerts_strictly_above_its_limit() -> None:
    r = report()  # rate 0.3, 4 exhausted, 1 stuck, 1 new pattern
    at_limit = ReportThresholds(failure_rate=0.3, retries_exhausted=4, stuck_runs=1, new_patterns=1)
    assert evaluate(r, at_limit) == []
    below = ReportThresholds(failure_rate=0.29, retries_exhausted=3, stuck_runs=0, new_patterns=0)
    assert [(a.threshold, a.value, a.limit) for a in evaluate(r, below)] == [
        ("failure_rate", 0.3, 0.29),
        ("retries_exhausted", 4, 3),
        ("stuck_runs", 1, 0),
        ("new_patterns", 1, 0),
    ]
    assert evaluate(r, NONE) == []


def test_the_defaults_alert_on_any_stuck_run_or_new_pattern_only() -> None:
    quiet = report(failure_rate=0.1, retry_effectiveness=[], stuck_runs=[], patterns=[])
    assert evaluate(quiet, ReportThresholds()) == []
    assert [a.threshold for a in evaluate(report(), ReportThresholds())] == [
        "failure_rate", "stuck_runs", "new_patterns"
    ]


def test_alert_text_says_what_crossed_then_the_top_patterns() -> None:
    r = report(filters={"tag": "nightly"})
    subject, body = alert_text(r, evaluate(r, ReportThresholds(stuck_runs=None, new_patterns=None)))
    assert subject == "failtrack: 1 threshold(s) crossed, 2026-03-01 07:00 to 2026-03-02 07:00 UTC"
    assert body == (
        "Failure report for 2026-03-01 07:00 to 2026-03-02 07:00 UTC (tag='nightly'):\n"
        "- failure rate 30% (3 of 10 flow runs) is above 25%\n"
        "Top failure patterns:\n"
        "- 4x TRANSIENT httpx.ConnectTimeout (new): timed out | waiting for rates.example.com\n"
        "- 4x TRANSIENT httpx.ConnectTimeout (regression): "
        "timed out | waiting for rates.example.com"
    )


def test_nothing_is_sent_without_alerts_or_without_a_block() -> None:
    # No API here: Block.load would fail, so returning False proves nothing was loaded.
    alert = Alert(threshold="stuck_runs", value=1, limit=0, message="1 run(s) stuck")
    assert notify(report(), [], "custom-webhook/alerts") is False
    assert notify(report(), [alert], None) is False


def test_markdown_summary_escapes_cells_and_lists_every_section() -> None:
    r = report(partial_success_runs=[])
    md = summary_markdown(r, evaluate(r, ReportThresholds()))
    assert md.startswith("# Failure report, 2026-03-01 07:00 – 2026-03-02 07:00 UTC\n")
    assert "**3** of **10** flow runs failed (**30.0%**)." in md
    assert "- failure rate 30% (3 of 10 flow runs) is above 25%" in md
    row = "| 4 | TRANSIENT | httpx.ConnectTimeout | timed out \\| waiting for rates.example.com |"
    assert row in md
    assert "| TRANSIENT | 5 | 2 | 3 | 9 | 41.5 |" in md
    assert "| flow | nightly | Running | 2026-03-02 05:00 | 120 | r1 |" in md
    assert "## Partial successes" not in md
    assert "No threshold crossed." in summary_markdown(r, [])


def test_pattern_table_rows_are_flat_json() -> None:
    (row, _) = patterns_table(report())
    assert row == {
        "count": 4,
        "error_type": "TRANSIENT",
        "error_class": "httpx.ConnectTimeout",
        "message": "timed out | waiting for rates.example.com",
        "flows": "nightly",
        "tasks": "fetch_rates",
        "first_seen": "2026-03-02T04:00:00+00:00",
        "last_seen": "2026-03-02T06:00:00+00:00",
        "novelty": "new",
        "fingerprint": "v1:0123456789abcdef",
    }


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_failure_rate_threshold_is_a_fraction(value: float) -> None:
    with pytest.raises(ValueError):
        ReportThresholds(failure_rate=value)


def test_markdown_lists_at_most_25_stuck_and_partial_runs_and_counts_the_rest() -> None:
    partial = [
        PartialRun(flow_run_id=f"p{i}", flow_name="nightly", tasks_completed=3,
                   tasks_failed=1, ended_at=END)
        for i in range(40)
    ]
    stuck = [
        StuckRun(run_kind="task", name=f"load-{i}", run_id=f"s{i}", flow_run_id="r1",
                 state="Running", since=END - timedelta(hours=2), minutes=120)
        for i in range(26)
    ]
    md = summary_markdown(report(partial_success_runs=partial, stuck_runs=stuck), [])
    assert "| nightly | 3 | 1 | p24 |" in md and "| p25 |" not in md
    assert "_… and 15 more: `failtrack report --json` lists them all._" in md
    assert "| s24 |" in md and "| s25 |" not in md
    assert "_… and 1 more: `failtrack stuck` lists them all._" in md
    short = summary_markdown(report(partial_success_runs=partial[:25]), [])
    assert "| p24 |" in short and "more:" not in short
