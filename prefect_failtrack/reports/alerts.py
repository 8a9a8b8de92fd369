"""Alerts: which report thresholds a failure report crosses, and telling someone about it.

A threshold is crossed when the figure is strictly above it (``failure_rate``
0.25 alerts at 0.26, not at 0.25); a threshold set to ``None`` never alerts.
The figures:

- ``failure_rate``: `FailureReport.failure_rate` (failed flow runs / flow runs);
- ``retries_exhausted``: runs that were retried and still failed, all classes
  (`RetryStats.exhausted` summed);
- ``stuck_runs``: runs of `FailureReport.stuck_runs` whose status is ``stuck``;
- ``new_patterns``: patterns seen for the first time in the window
  (`Pattern.is_new`, among the report's top patterns);
- ``lost_runs``, ``slow_runs``: runs of `FailureReport.stuck_runs` whose status is
  ``lost`` or ``slow`` (`prefect_failtrack.liveness`).
- ``dead_letters_growing``: dead letters that arrived in the window minus those
  requeued in it (``prefect_failtrack.resilience.report``);
- ``circuit_open_minutes``: minutes the longest-open circuit has been open.

`notify` sends one message, through a Prefect notification block, only when
at least one threshold is crossed.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from prefect.blocks.core import Block
from prefect.logging import get_logger
from prefect.utilities.asyncutils import run_coro_as_sync
from pydantic import BaseModel

from ..blocks import ReportThresholds
from ..resilience.report import longest_open_minutes
from .models import FailureReport

logger = get_logger("prefect_failtrack.reports.alerts")


class Alert(BaseModel):
    """One crossed threshold."""

    threshold: str
    value: float
    limit: float
    message: str


def _figures(report: FailureReport) -> dict[str, float]:
    return {
        "failure_rate": report.failure_rate,
        "retries_exhausted": sum(stats.exhausted for stats in report.retry_effectiveness),
        "stuck_runs": _status_count(report, "stuck"),  # Slow and lost apart
        "new_patterns": sum(1 for pattern in report.patterns if pattern.is_new),
        "lost_runs": _status_count(report, "lost"),
        "slow_runs": _status_count(report, "slow"),
      
        "dead_letters_growing": report.resilience.dead_letters.growth,
        "circuit_open_minutes": longest_open_minutes(report.resilience),
    }


def _status_count(report: FailureReport, status: str) -> int:
    return sum(1 for run in report.stuck_runs if run.status == status)


def _describe(threshold: str, value: float, limit: float, report: FailureReport) -> str:
    if threshold == "failure_rate":
        return (
            f"failure rate {value:.0%} ({report.failed_runs} of {report.runs} flow runs) "
            f"is above {limit:.0%}"
        )
    if threshold == "retries_exhausted":
        return f"{value:.0f} run(s) failed after exhausting their retries (more than {limit:.0f})"
    if threshold == "stuck_runs":
        return f"{value:.0f} run(s) stuck (more than {limit:.0f})"
    if threshold == "lost_runs":
        return f"{value:.0f} run(s) lost: their process is gone (more than {limit:.0f})"
    if threshold == "slow_runs":
        return f"{value:.0f} run(s) slow: alive, past the stuck limit (more than {limit:.0f})"
    if threshold == "dead_letters_growing":
        letters = report.resilience.dead_letters
        return (f"dead letters grew by {value:.0f} ({letters.arrived} arrived, {letters.requeued} "
                f"requeued; more than {limit:.0f}); {letters.waiting} wait to be requeued")
    if threshold == "circuit_open_minutes":
        open_ones = ", ".join(v.dependency for v in report.resilience.open_circuits)
        return f"a circuit has been open for {value:.0f} minutes (more than {limit:.0f}): {open_ones}"
    return f"{value:.0f} new failure pattern(s) (more than {limit:.0f})"


def evaluate(report: FailureReport, thresholds: ReportThresholds) -> list[Alert]:
    """The thresholds `report` crosses, in the order of `ReportThresholds`' fields."""
    figures = _figures(report)
    alerts = []
    for threshold in ReportThresholds.model_fields:
        limit = getattr(thresholds, threshold)
        value = figures[threshold]
        if limit is not None and value > limit:
            alerts.append(
                Alert(
                    threshold=threshold,
                    value=value,
                    limit=limit,
                    message=_describe(threshold, value, limit, report),
                )
            )
    return alerts


def alert_text(report: FailureReport, alerts: Sequence[Alert]) -> tuple[str, str]:
    """``(subject, body)`` of the alert message: what crossed, then the top patterns."""
    window = f"{report.window_start:%Y-%m-%d %H:%M} to {report.window_end:%Y-%m-%d %H:%M} UTC"
    subject = f"failtrack: {len(alerts)} threshold(s) crossed, {window}"
    lines = [f"Failure report for {window}" + _filters(report) + ":"]
    lines += [f"- {alert.message}" for alert in alerts]
    if report.patterns:
        lines.append("Top failure patterns:")
        for pattern in report.patterns[:3]:
            new = " (new)" if pattern.is_new else " (regression)" if pattern.is_regression else ""
            lines.append(
                f"- {pattern.count}x {pattern.error_type} {pattern.error_class}{new}: "
                f"{_one_line(pattern.sample_message, 160)}"
            )
    return subject, "\n".join(lines)


def _filters(report: FailureReport) -> str:
    if not report.filters:
        return ""
    return " (" + ", ".join(f"{key}={value!r}" for key, value in report.filters.items()) + ")"


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notify(report: FailureReport, alerts: Sequence[Alert], block: str | None) -> bool:
    """Send the alerts through the notification block `block` (``slug/name``); True if sent.

    Nothing is sent without alerts or without a block. The block is any Prefect
    notification block (``SlackWebhook``, ``CustomWebhookNotificationBlock``...):
    ``Block.load("slug/name")`` finds its class (prefect/blocks/core.py, ``Block.load``),
    then ``notify(body, subject)``. A failure to send raises: the report flow run
    should fail visibly rather than swallow an alert.
    """
    if not alerts or not block:
        return False
    notifier = Block.load(block, _sync=True)  # type: ignore[call-arg]
    subject, body = alert_text(report, alerts)
    # `notify` is `async_dispatch`ed on Prefect's own blocks, a plain method on others:
    # whichever it is, an awaitable result is awaited here.
    result = notifier.notify(body, subject=subject)  # type: ignore[attr-defined]
    if inspect.isawaitable(result):
        run_coro_as_sync(result)
    logger.info("failtrack: %d alert(s) sent through %r", len(alerts), block)
    return True


__all__ = ["Alert", "alert_text", "evaluate", "notify"]
