"""The reports of a window: ``failtrack report``, ``patterns`` and ``stuck``.

Each reads the audit database (``--url``; it must exist), prints the report model with
``--json`` (exactly its ``model_dump_json()``) and rich tables otherwise. Input is checked
before the database is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from cyclopts import Parameter

from ._common import Audit, CLIError, Scope, WeekScope, parse_duration, positive

QuietPeriod = Annotated[
    str, Parameter(help="A pattern back after this long without an occurrence is a regression.")
]
Top = Annotated[int, Parameter(help="How many patterns (and in the report, slowest states).")]


@Parameter(name="*")
@dataclass(frozen=True)
class Ranking:
    """How many patterns a report lists, and when a pattern counts as a regression."""

    quiet_period: QuietPeriod = "7d"
    top: Top = 10

    def options(self) -> dict[str, Any]:
        """``quiet_period`` and ``top`` as the report builders take them, checked."""
        quiet = parse_duration(self.quiet_period)
        return {"quiet_period": quiet, "top": positive("--top", self.top)}


def report(
    *,
    scope: Scope = Scope(),
    task: Annotated[
        str | None, Parameter(help="Only task runs of this name (and the flow runs that ran one).")
    ] = None,
    deployment: Annotated[str | None, Parameter(help="Only runs of this deployment id.")] = None,
    tag: Annotated[str | None, Parameter(help="Only runs carrying this tag.")] = None,
    origin: Annotated[
        str | None,
        Parameter(help="Only task runs of this origin (and the flow runs that ran one)."),
    ] = None,
    capture: Annotated[
        str | None,
        Parameter(help="Only runs failtrack tracked ('tracked') or only runs the collector "
                       "observed from Prefect's own events ('observed')."),
    ] = None,
    stuck_after: Annotated[
        str, Parameter(help="A run that has not moved for this long is stuck.")
    ] = "30m",
    ranking: Ranking = Ranking(),
    audit: Audit = Audit(),
) -> None:
    """The failure report of a window: rates, classes, patterns, retries, stuck and slow runs."""
    from ..reports import build_report
    from ..reports.render import render_report

    options = {**scope.window(), "stuck_after": parse_duration(stuck_after), **ranking.options()}
    filters = {"task": task, "deployment": deployment, "tag": tag, "origin": origin,
               "capture": checked_capture(capture)}
    audit.show(build_report(audit.reader(), **options, **filters), render_report)


def checked_capture(capture: str | None) -> str | None:
    """``--capture``, checked before the database is opened."""
    from ..reports.scope import CAPTURES

    if capture is not None and capture not in CAPTURES:
        raise CLIError(f"--capture must be one of {', '.join(CAPTURES)}, not {capture!r}")
    return capture


def patterns(
    *,
    scope: WeekScope = WeekScope(),
    task: Annotated[str | None, Parameter(help="Only task runs of this name.")] = None,
    ranking: Ranking = Ranking(),
    audit: Audit = Audit(),
) -> None:
    """The most frequent failure patterns (fingerprints) of a window, new ones and regressions."""
    from ..reports import build_patterns
    from ..reports.render import render_patterns

    options = {**scope.window(), **ranking.options()}
    audit.show(build_patterns(audit.reader(), **options, task=task), render_patterns)


def stuck(
    *,
    after: Annotated[
        str,
        Parameter(help="How long a run may run (without heartbeats: go without a transition) "
                       "before it is listed: 90s, 15m, 1h..."),
    ] = "30m",
    stale_after: Annotated[
        str | None,
        Parameter(help="No heartbeat for this long makes a run stuck; default: the setting (5m)."),
    ] = None,
    lost_after: Annotated[
        str | None,
        Parameter(help="No heartbeat for this long makes a run lost; default: the setting (30m)."),
    ] = None,
    scope: Scope = Scope(),
    audit: Audit = Audit(),
) -> None:
    """Running runs that are slow, stuck or lost (by their heartbeats, where they have one).

    Slow: its process still beats, and it has run longer than ``--after``. Stuck: no
    heartbeat for longer than ``--stale-after`` (or, without heartbeats, no transition for
    longer than ``--after``). Lost: its process is gone, or no heartbeat for longer than
    ``--lost-after``.
    """
    from ..reports import build_stuck
    from ..reports.render import render_stuck

    options = {
        **scope.window(),
        "stuck_after": parse_duration(after),
        "stale_after": parse_duration(stale_after) if stale_after else None,
        "lost_after": parse_duration(lost_after) if lost_after else None,
    }
    audit.show(build_stuck(audit.reader(), **options), render_stuck)
