"""The reports as rich tables, for the terminal (``failtrack report``, ``patterns``...)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .models import (
    FailureReport,
    Pattern,
    PatternReport,
    Progress,
    ReplayReport,
    RetryStats,
    RunList,
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
    title: str | None,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    total: int | None = None,
    wrap: Sequence[str] | None = None,
    whole: Sequence[str] = (),
) -> None:
    """A table of `rows` under `headers`; only the columns in `wrap` wrap (default: all),
    and those in `whole` (ids) never do."""
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(
            header, no_wrap=header in whole or (wrap is not None and header not in wrap)
        )
    shown = 0
    for row in rows:
        # Text as is (no markup in messages); a word wider than its column folds, never cut.
        table.add_row(*(Text(str(cell), overflow="fold") for cell in row))
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


def patterns_table(console: Console, patterns: list[Pattern], title: str | None = None) -> None:
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
            "novelty",
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
        STUCK_COLUMNS,  # Status, heartbeat and progress too
        (stuck_cells(r) for r in runs[:LISTED]),
        total=len(runs),
        whole=("run id",),
    )


# The columns of a running run (prefect_failtrack/liveness); the status first, the
# heartbeat's view after the run id
STUCK_COLUMNS = ("status", "kind", "name", "state", "since", "minutes", "run id", "why",
                 "progress")


def stuck_cells(r: StuckRun, when: Callable[[datetime], str] | None = None) -> tuple[Any, ...]:
    """One row of the stuck runs' table (`STUCK_COLUMNS`), in the terminal and the artifact."""
    live = r.liveness
    why = _short(live.reason, 70) if live else "no transition since (no heartbeat)"
    return (r.status, r.run_kind, r.name, r.state, (when or _when)(r.since), f"{r.minutes:.0f}",
            r.run_id, why, progress_text(live.progress) if live else "")


def progress_text(progress: Progress | None) -> str:
    """``12,000 rows: loading day 3 (12:01:05)``; empty without progress."""
    if progress is None:
        return ""
    said = [f"{progress.rows:,} rows"] if progress.rows is not None else []
    said += [_short(progress.message, 40)] if progress.message else []
    return ": ".join(said) + (f" ({progress.at:%H:%M:%S})" if progress.at else "")


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
    render_resilience(report, console)
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
    """Open circuits, failures by dependency, dead letters."""
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
        f"Runs running for {report.stuck_after_s / 60:.0f} minute(s) or more, "
        f"{_window(report.window_start, report.window_end, report.filters)}",
    )
    if report.stale_after_s is not None and report.lost_after_s is not None:
        _say(
            console,
            f"With a heartbeat: slow while it beats; stuck after {report.stale_after_s:.0f} s "
            f"without a beat; lost after {report.lost_after_s:.0f} s, or once its process is "
            "gone. Without one: stuck when no transition came for the time above.",
        )
    if not report.stuck_runs:
        _say(console, "No stuck run.")
    stuck_table(console, report.stuck_runs)


def render_timeline(timeline: Timeline, console: Console) -> None:
    """One row per transition; times of the first transition's day as ``HH:MM:SS``; a
    dependency column only when a failure named one (the table is wide already)."""
    first = timeline.transitions[0].occurred_at if timeline.transitions else None
    day = f", {first:%Y-%m-%d} (UTC)" if first is not None else ""
    named = any(t.dependency for t in timeline.transitions)

    def at(value: datetime) -> str:
        return f"{value:%H:%M:%S}" if first and value.date() == first.date() else _when(value)

    _table(
        console,
        f"Flow run {timeline.flow_run_id}{day}",
        (
            "at", "run", "name", "from", "to", "attempt", "waited (s)", "class",
            "deciding rule", "message",
        ) + (("dependency",) if named else ()),  # fmt: skip
        (
            (
                at(t.occurred_at),
                t.run_kind,
                t.name,
                t.from_state or "-",
                t.to_state,
                t.run_count,
                f"{t.duration_in_state_ms / 1000:.1f}"
                if t.duration_in_state_ms is not None
                else "-",
                t.error_type or "",
                t.reason or "",
                _short(t.error_message, 60),
            )
            + ((t.dependency or "",) if named else ())
            for t in timeline.transitions
        ),
        wrap=("name", "deciding rule", "message"),
    )
    _table(  # Its runs that a process still holds
        console,
        "Held by a process now",
        ("status", "run", "name", "last beat", "progress", "why", "run id"),
        (
            (b.status, b.run_kind, b.name, _when(b.liveness.last_beat),
             progress_text(b.liveness.progress), _short(b.liveness.reason, 60), b.run_id)
            for b in timeline.heartbeats
        ),
        whole=("run id",),
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


def render_runs(runs: RunList, console: Console) -> None:
    """Recent flow runs: one line each, the newest first."""
    window = _window(runs.window_start, runs.window_end, runs.filters)
    shown = len(runs.runs)
    more = f"; the newest {shown} shown (--limit)" if runs.total > shown else ""
    _say(console, f"{runs.total} flow run(s) ended {window}{more}.")
    _table(
        console,
        None,
        ("ended", "flow", "state", "tasks failed", "failures by class", "retries", "flow run id"),
        (
            (
                _when(r.ended_at),
                r.flow_name or "-",
                r.final_state or "-",
                f"{r.tasks_failed} of {r.tasks_total}",
                ", ".join(f"{cls} {n}" for cls, n in sorted(r.failures_by_class.items())) or "-",
                r.retries_spent,
                r.flow_run_id,
            )
            for r in runs.runs
        ),
    )
