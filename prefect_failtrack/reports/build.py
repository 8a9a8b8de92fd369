"""Reports assembled from the queries: the failure report, patterns alone, stuck runs alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Engine

from .concurrent import run_queries
from .durations import slowest_states
from .models import FailureReport, PatternReport, StuckReport
from .patterns import top_patterns
from .profile import profile
from .rates import failures_by_class, flow_rates, partial_runs, task_rates
from .retries import retry_effectiveness
from .scope import Scope
from ..resilience.report import resilience_figures

DEFAULT_SINCE = timedelta(hours=24)
DEFAULT_STUCK_AFTER = timedelta(minutes=30)
DEFAULT_QUIET_PERIOD = timedelta(days=7)


def build_report(
    engine: Engine,
    *,
    since: timedelta = DEFAULT_SINCE,
    until: datetime | None = None,
    flow: str | None = None,
    task: str | None = None,
    deployment: str | None = None,
    tag: str | None = None,
    origin: str | None = None,
    capture: str | None = None,
    stuck_after: timedelta = DEFAULT_STUCK_AFTER,
    quiet_period: timedelta = DEFAULT_QUIET_PERIOD,
    top: int = 10,
    stale_after: timedelta | None = None,
    lost_after: timedelta | None = None,
) -> FailureReport:
    """The failure report of the window `since` before `until` (default: now), filtered.

    Filters narrow every figure alike (see `prefect_failtrack.reports.scope`); `top`
    bounds the patterns and the slowest states. The queries run side by side
    (`prefect_failtrack.reports.concurrent`). Running runs are slow, stuck or lost
    (`prefect_failtrack.liveness.status`); `stale_after` and `lost_after` default to
    the settings.
    """
    from ..liveness.status import Limits, running_runs

    limits = Limits.of(stuck_after, stale_after, lost_after)
    scope = Scope.of(
        engine, since, until, flow=flow, task=task, deployment=deployment, tag=tag, origin=origin,
        capture=capture,
    )
    with engine.connect() as connection:
        scope = scope.prepare(connection)
    found = run_queries(
        engine,
        scope,
        {  # the longest first: they start at once
            "stuck": partial(running_runs, limits=limits),
            "profile": profile,
            "flows": flow_rates,
            "patterns": partial(top_patterns, top=top, quiet_period=quiet_period),
            "retries": retry_effectiveness,
            "partial": partial_runs,
            "resilience": resilience_figures,
        },
    )
    flows, groups = found["flows"], found["profile"]
    runs = sum(r.runs for r in flows)
    failed = sum(r.failed for r in flows)
    return FailureReport(
        window_start=scope.start,
        window_end=scope.end,
        filters=scope.filters,
        runs=runs,
        failed_runs=failed,
        failure_rate=failed / runs if runs else 0.0,
        flows=flows,
        tasks=task_rates(groups),
        by_class=failures_by_class(groups),
        patterns=found["patterns"],
        retry_effectiveness=found["retries"],
        stuck_runs=found["stuck"],
        partial_success_runs=found["partial"],
        slowest_states=slowest_states(groups, top=top),
        generated_at=datetime.now(UTC),
        resilience=found["resilience"],
    )


def build_patterns(
    engine: Engine,
    *,
    since: timedelta = timedelta(days=7),
    until: datetime | None = None,
    quiet_period: timedelta = DEFAULT_QUIET_PERIOD,
    top: int = 10,
    **filters: str | None,
) -> PatternReport:
    """The `top` failure patterns of the window, filtered as `build_report` filters."""
    scope = Scope.of(engine, since, until, **filters)
    with engine.connect() as connection:
        scope = scope.prepare(connection)
        patterns = top_patterns(connection, scope, top=top, quiet_period=quiet_period)
    return PatternReport(
        window_start=scope.start,
        window_end=scope.end,
        filters=scope.filters,
        patterns=patterns,
        generated_at=datetime.now(UTC),
    )


def build_stuck(
    engine: Engine,
    *,
    stuck_after: timedelta = DEFAULT_STUCK_AFTER,
    since: timedelta = DEFAULT_SINCE,
    until: datetime | None = None,
    stale_after: timedelta | None = None,
    lost_after: timedelta | None = None,
    **filters: str | None,
) -> StuckReport:
    """Runs of the window that are slow, stuck or lost (`prefect_failtrack.liveness`):
    without heartbeats, stuck for longer than `stuck_after`."""
    from ..liveness.status import Limits, running_runs

    limits = Limits.of(stuck_after, stale_after, lost_after)
    scope = Scope.of(engine, since, until, **filters)
    with engine.connect() as connection:
        scope = scope.prepare(connection)
        runs = running_runs(connection, scope, limits)
    return StuckReport(
        window_start=scope.start,
        window_end=scope.end,
        filters=scope.filters,
        stuck_after_s=stuck_after.total_seconds(),
        stale_after_s=limits.stale_after.total_seconds(),
        lost_after_s=limits.lost_after.total_seconds(),
        stuck_runs=runs,
        generated_at=datetime.now(UTC),
    )
