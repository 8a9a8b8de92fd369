"""The reports as rich tables, for the terminal (``failtrack report``, ``patterns``...)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .models import (
    FailureReport,
    Pattern,
    PatternReport,
    ReplayReport,
    RetryStats,
    StuckReport,
    StuckRun,
    Timeline,
)

MESSAGE_CHARS = 80
LISTED = 20  # rows shown of long lists (JSON has them all)


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value is not None else "-"


def _short(text: str | None, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(
    console: Console,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    total: int | None = None,
) -> None:
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header)
    shown = 0
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))  # text as is: no markup in messages
        shown += 1
    if total is not None and total > shown:
        table.caption = f"… and {total - shown} more (--json lists them all)"
    if shown:
        console.print(table)


def _window(start: datetime, end: datetime, filters: dict[str, str]) -> str:
    shown = f"{_when(start)} – {_when(end)} UTC"
    if filters:
        shown += " (" + ", ".join(f"{k}={v!r}" for k, v in filters.items()) + ")"
    return shown


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False)


def _novelty(pattern: Pattern) -> str:
    return "new" if pattern.is_new else "regression" if pattern.is_regression else ""


def patterns_table(
    console: Console, patterns: list[Pattern], title: str = "Failure patterns"
) -> None:
    _table(
        console,
        title,
        (
            "count",
            "class",
            "error",
            "message",
            "flows",
            "tasks",
            "first seen",
            "last seen",
            "",
            "fingerprint",
        ),
        (
            (
                p.count,
                p.error_type,
                p.error_class,
                _short(p.sample_message),
                ", ".join(p.flows),
                ", ".join(p.tasks),
                _when(p.first_seen),
                _when(p.last_seen),
                _novelty(p),
                p.fingerprint,
            )
            for p in patterns
        ),
    )


def stuck_table(console: Console, runs: list[StuckRun]) -> None:
    _table(
        console,
        "Stuck runs",
        ("kind", "name", "state", "since", "minutes", "run id"),
        (
            (r.run_kind, r.name, r.state, _when(r.since), f"{r.minutes:.0f}", r.run_id)
            for r in runs[:LISTED]
        ),
        total=len(runs),
    )


def render_report(report: FailureReport, console: Console) -> None:
    """The failure report: a headline, then one table per figure that has rows."""
    _say(
        console,
        f"Failure report, {_window(report.window_start, report.window_end, report.filters)}",
    )
    _say(
        console,
        f"{report.failed_runs} of {report.runs} flow run(s) failed ({report.failure_rate:.1%}).",
    )
    for title, rates in (("Flows", report.flows), ("Tasks", report.tasks)):
        _table(
            console,
            title,
            ("name", "runs", "failed", "rate"),
            ((r.name, r.runs, r.failed, f"{r.failure_rate:.0%}") for r in rates[:LISTED]),
            total=len(rates),
        )
    _table(console, "Failed task runs by class", ("class", "task runs"), report.by_class.items())
    patterns_table(console, report.patterns, "Top failure patterns")
    _table(
        console,
        "Did retries help?",
        RETRY_COLUMNS,
        (retry_cells(s) for s in report.retry_effectiveness),
    )
    stuck_table(console, report.stuck_runs)
    partial = report.partial_success_runs
    _table(
        console,
        "Partial successes",
        ("flow", "completed", "failed", "ended", "flow run id"),
        (
            (
                p.flow_name or "-",
                p.tasks_completed,
                p.tasks_failed,
                _when(p.ended_at),
                p.flow_run_id,
            )
            for p in partial[:LISTED]
        ),
        total=len(partial),
    )
    render_resilience(report, console)  # resilience
    _table(
        console,
        "Where the time goes",
        ("name", "state", "count", "avg (s)", "max (s)"),
        (
            (s.name, s.state, s.count, f"{s.avg_ms / 1000:.1f}", f"{s.max_ms / 1000:.1f}")
            for s in report.slowest_states
        ),
    )


def render_resilience(report: FailureReport, console: Console) -> None:
    """resilience: open circuits, failures by dependency, dead letters."""
    figures = report.resilience
    _table(
        console, "Open circuits", ("dependency", "state", "since", "minutes", "failures"),
        ((v.dependency, v.state, _when(v.since), f"{v.open_minutes or 0:.0f}",
          v.failures_in_window) for v in figures.open_circuits),  # fmt: skip
    )
    _table(
        console, "Failures by dependency", ("dependency", "failed task runs", "retries"),
        ((d.dependency, d.failed_runs, d.retries) for d in figures.dependencies[:LISTED]),
        total=len(figures.dependencies),
    )
    letters = figures.dead_letters
    if letters.arrived or letters.requeued:
        _say(console, f"Dead letters: {letters.arrived} arrived in the window, {letters.waiting} "
                      f"waiting ({letters.cannot_requeue} without a deployment), "
                      f"{letters.requeued} requeued; `failtrack dead-letters` lists them.")


RETRY_COLUMNS = ("class", "retried runs", "recovered", "exhausted", "retries", "waiting (s)")
"""The retry-effectiveness table's columns, in the terminal and in the report artifact."""


def retry_cells(stats: RetryStats) -> tuple[Any, ...]:
    """One class's row of the retry-effectiveness table (`RETRY_COLUMNS`)."""
    return (stats.error_type, stats.retried_runs, stats.recovered, stats.exhausted,
            stats.retries_spent, f"{stats.time_waiting_s:.1f}")


def render_patterns(report: PatternReport, console: Console) -> None:
    _say(
        console,
        f"Failure patterns, {_window(report.window_start, report.window_end, report.filters)}",
    )
    if not report.patterns:
        _say(console, "No failure recorded in the window.")
    patterns_table(console, report.patterns)


def render_stuck(report: StuckReport, console: Console) -> None:
    _say(
        console,
        f"Runs with no transition for {report.stuck_after_s / 60:.0f} minute(s) or more, "
        f"{_window(report.window_start, report.window_end, report.filters)}",
    )
    if not report.stuck_runs:
        _say(console, "No stuck run.")
    stuck_table(console, report.stuck_runs)


def render_timeline(timeline: Timeline, console: Console) -> None:
    # resilience: a dependency column only when a failure named one (the table is wide already)
    named = any(t.dependency for t in timeline.transitions)
    _table(
        console,
        f"Flow run {timeline.flow_run_id}",
        ("at", "run", "name", "from", "to", "attempt", "in previous (s)", "class", "message")
        + (("dependency",) if named else ()),
        (
            (
                _when(t.occurred_at),
                t.run_kind,
                t.name,
                t.from_state or "-",
                t.to_state,
                t.run_count,
                f"{t.duration_in_state_ms / 1000:.1f}"
                if t.duration_in_state_ms is not None
                else "-",
                t.error_type or "",
                _short(t.error_message, 60),
            )
            + ((t.dependency or "",) if named else ())
            for t in timeline.transitions
        ),
    )


def render_replay(report: ReplayReport, console: Console) -> None:
    _say(
        console,
        f"Re-classified {report.failures} stored failure(s) of {_when(report.window_start)} – "
        f"{_when(report.window_end)} UTC with today's rules: {report.changed} would change class.",
    )
    _table(
        console,
        "Old class -> new class",
        ("old", "new", "count", "examples"),
        (
            (c.old, c.new, c.count, "\n".join(_short(e, 70) for e in c.examples))
            for c in report.changes
        ),
    )
