"""Circuits, dependencies and dead letters in the failure report, in ``failtrack circuits``, and
the two alert figures.

- `build_circuits`: every circuit with its state, failures in its window and since when;
- `resilience_figures`: the report's part (a query like the report's others: ``(connection,
  scope)``): open circuits, failures per dependency, dead letters arrived and requeued in the
  window;
- `markdown_lines`: that part in the report artifact.

The alert figures (``reports/alerts.py``): ``dead_letters_growing`` is the dead letters that
arrived in the window minus those requeued in it (the backlog's growth);
``circuit_open_minutes`` is how long the longest-open circuit has been open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, func, select

from ..store.models import transitions
from . import circuit_store
from .dead_letters import find, requeued_between

if TYPE_CHECKING:
    from ..reports.scope import Scope


class CircuitView(BaseModel):
    """One dependency's circuit, as ``failtrack circuits`` and the report show it."""

    dependency: str
    state: str = Field(description="closed, open or half-open.")
    since: datetime | None = Field(description="When it opened (kept while it re-opens).")
    open_until: datetime | None = Field(description="Its half-open time, while open.")
    open_minutes: float | None = Field(description="Minutes open so far (None: closed).")
    probe_run_id: str | None
    failures_in_window: int = Field(description="Distinct runs that failed within the window.")
    threshold: int
    window_seconds: float
    open_seconds: float
    trips: int = Field(description="Times it opened.")
    last_failure_at: datetime | None
    closed_at: datetime | None
    enabled: bool


class CircuitReport(BaseModel):
    """Every circuit (``failtrack circuits``)."""

    circuits: list[CircuitView]
    generated_at: datetime


class DependencyFailures(BaseModel):
    """Failures on one dependency in the report's window."""

    dependency: str
    failed_runs: int = Field(description="Task runs that ended Failed on it.")
    retries: int = Field(description="AwaitingRetry transitions on it (circuit waits included).")


class DeadLetterFigures(BaseModel):
    """Dead letters of the report's window."""

    arrived: int = Field(default=0, description="Flow runs of the window that are dead letters.")
    waiting: int = Field(default=0, description="Of those, not requeued yet.")
    cannot_requeue: int = Field(default=0, description="Of those, without a deployment.")
    requeued: int = Field(default=0, description="Dead letters requeued within the window.")

    @property
    def growth(self) -> int:
        """The backlog's growth over the window: arrived minus requeued."""
        return self.arrived - self.requeued


class ResilienceFigures(BaseModel):
    """The report's part about dependencies: open circuits, failures, dead letters."""

    open_circuits: list[CircuitView] = Field(default_factory=list)
    dependencies: list[DependencyFailures] = Field(default_factory=list)
    dead_letters: DeadLetterFigures = Field(default_factory=DeadLetterFigures)


def circuit_views(connection: Connection, now: datetime | None = None) -> list[CircuitView]:
    """Every stored circuit, with its settings and failures in its window."""
    from .breaker import get_breaker

    now = now or datetime.now(UTC)
    breaker = get_breaker()
    views = []
    for row in circuit_store.read_all(connection):
        limits = breaker.limits(row.dependency)
        failures = circuit_store.failures_in_window(
            connection, row.dependency, now, limits.window_seconds, limits.distinct
        )
        minutes = None
        if row.is_open() and row.opened_at is not None:
            minutes = round((now - row.opened_at).total_seconds() / 60, 1)
        views.append(CircuitView(
            dependency=row.dependency, state=row.phase(now), since=row.opened_at,
            open_until=row.open_until if row.is_open() else None, open_minutes=minutes,
            probe_run_id=row.probe_run_id if row.is_open() else None,
            failures_in_window=failures, threshold=limits.threshold,
            window_seconds=limits.window_seconds, open_seconds=limits.open_seconds,
            trips=row.trips, last_failure_at=row.last_failure_at, closed_at=row.closed_at,
            enabled=breaker.enabled(row.dependency),
        ))
    return views


def build_circuits(engine: Engine, *, dependency: str | None = None) -> CircuitReport:
    """``failtrack circuits``: every circuit (or the one of `dependency`)."""
    with engine.connect() as connection:
        views = circuit_views(connection)
    if dependency is not None:
        views = [v for v in views if v.dependency == dependency]
    return CircuitReport(circuits=views, generated_at=datetime.now(UTC))


def _dependencies(connection: Connection, scope: Scope) -> list[DependencyFailures]:
    t = transitions
    failed = func.count(func.distinct(t.c.run_id)).filter(
        t.c.to_state_type == "FAILED", t.c.run_kind == "task"
    )
    retries = func.count().filter(t.c.to_state == "AwaitingRetry")
    query = (
        select(t.c.dependency, failed, retries)
        .where(t.c.dependency.is_not(None), scope.in_window(t.c.occurred_at), *scope.rows(t))
        .group_by(t.c.dependency)
    )
    found = [DependencyFailures(dependency=d, failed_runs=f, retries=r)
             for d, f, r in connection.execute(query)]  # fmt: skip
    return sorted(found, key=lambda d: (-d.failed_runs, -d.retries, d.dependency))


def resilience_figures(connection: Connection, scope: Scope) -> ResilienceFigures:
    """The report's part about dependencies (a report query: see ``reports/concurrent.py``)."""
    letters = find(connection, scope.start, scope.end, flow=scope.flow, include_requeued=True)
    if scope.flow is None:
        requeued = requeued_between(connection, scope.start, scope.end)
    else:
        requeued = sum(1 for d in letters if d.requeue.requeued_at is not None
                       and d.requeue.status == "created"
                       and scope.start <= d.requeue.requeued_at < scope.end)  # fmt: skip
    figures = DeadLetterFigures(
        arrived=len(letters),
        waiting=sum(1 for d in letters if d.requeue.status != "created"),
        cannot_requeue=sum(1 for d in letters if d.deployment_id is None),
        requeued=requeued,
    )
    views = circuit_views(connection, min(scope.end, datetime.now(UTC)))
    return ResilienceFigures(
        open_circuits=[v for v in views if v.state != "closed"],
        dependencies=_dependencies(connection, scope),
        dead_letters=figures,
    )


def longest_open_minutes(figures: ResilienceFigures) -> float:
    return max((v.open_minutes or 0.0 for v in figures.open_circuits), default=0.0)


def _cells(rows: Iterable[Iterable[Any]]) -> list[str]:
    return ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]


def markdown_lines(figures: ResilienceFigures) -> list[str]:
    """The report artifact's sections about dependencies ([] when there is nothing to say)."""
    md: list[str] = []
    if figures.open_circuits:
        md += ["## Open circuits", "", "| dependency | state | since | minutes | failures |",
               "|---|---|---|---|---|"]  # fmt: skip
        md += _cells(
            (f"`{v.dependency}`", v.state, f"{v.since:%Y-%m-%d %H:%M}" if v.since else "-",
             f"{v.open_minutes or 0:.0f}", v.failures_in_window)
            for v in figures.open_circuits
        ) + [""]
    if figures.dependencies:
        md += ["## Failures by dependency", "", "| dependency | failed task runs | retries |",
               "|---|---|---|"]  # fmt: skip
        md += _cells((f"`{d.dependency}`", d.failed_runs, d.retries)
                     for d in figures.dependencies[:20]) + [""]  # fmt: skip
    letters = figures.dead_letters
    if letters.arrived or letters.requeued:
        md += ["## Dead letters", "",
               f"{letters.arrived} flow run(s) of the window gave up on passing trouble; "
               f"{letters.waiting} wait to be requeued ({letters.cannot_requeue} without a "
               f"deployment); {letters.requeued} requeued in the window. "
               "`failtrack dead-letters` lists them, `failtrack requeue` runs them again.", ""]
    return md


__all__ = [
    "CircuitReport",
    "CircuitView",
    "DeadLetterFigures",
    "DependencyFailures",
    "ResilienceFigures",
    "build_circuits",
    "circuit_views",
    "longest_open_minutes",
    "markdown_lines",
    "resilience_figures",
]
