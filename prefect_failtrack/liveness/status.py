"""Slow, stuck or lost: the running runs of the audit table, judged by their heartbeats.

A run is judged when a process holds it (a ``failtrack_heartbeats`` row) and its latest
transition is not an end (Running, Retrying, and also AwaitingRetry: a process killed
while it waits for a retry leaves that behind). Its process's last beat, and what this
machine can tell of the process (`identity.process_state`, only when the report is
as of now), decide (`judge`):

- the process is gone: **lost**;
- no beat for longer than the lost limit: **lost**;
- no beat for longer than the stale limit: **stuck**;
- otherwise it is alive: **slow** in ``failtrack stuck`` and the report when it has run
  longer than the stuck limit (``--after``), not listed before.

The stale limit is never less than two of the process's own intervals, the lost limit
never less than the stale one. Runs without a heartbeat keep `reports.stuck`'s rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, func, select

from ..reports.models import Liveness, Progress, RunLiveness, StuckRun
from ..reports.scope import TERMINAL_TYPES, Scope
from ..reports.stuck import stuck_runs
from ..settings import tolerant_settings
from ..store.models import heartbeats, processes, transitions
from . import identity

Beat = Literal["alive", "stuck", "lost"]
RANK = {"lost": 0, "stuck": 1, "slow": 2}
AS_OF_NOW = timedelta(minutes=2)
"""A report that ends this close to now may look at the processes themselves."""


@dataclass(frozen=True)
class Limits:
    """The limits of the statuses."""

    stuck_after: timedelta
    stale_after: timedelta
    lost_after: timedelta

    @classmethod
    def of(
        cls,
        stuck_after: timedelta,
        stale_after: timedelta | None = None,
        lost_after: timedelta | None = None,
    ) -> Limits:
        """The limits given; the settings' where one is not."""
        if stale_after is None or lost_after is None:
            settings = tolerant_settings()
            stale_after = stale_after or timedelta(seconds=settings.heartbeat_stale_after)
            lost_after = lost_after or timedelta(seconds=settings.heartbeat_lost_after)
        return cls(stuck_after=stuck_after, stale_after=stale_after, lost_after=lost_after)


@dataclass(frozen=True)
class HeldRun:
    """A run that a process holds and that has not ended in the table, with its heartbeat."""

    run_kind: str
    name: str
    run_id: str
    flow_run_id: str | None
    state: str
    since: datetime
    run_count: int
    last_beat: datetime
    interval_s: float
    host: str
    pid: int
    boot_id: str | None
    pid_namespace: str | None
    process_started: int | None
    process_key: str
    progress: dict[str, Any] | None
    progress_at: datetime | None
    flow_name: str | None
    deployment_id: str | None
    origin: str | None
    tags: list[str] | None


def running_runs(
    connection: Connection, scope: Scope, limits: Limits, now: datetime | None = None
) -> list[StuckRun]:
    """Slow, stuck and lost runs of the window (lost first, then stuck, then slow; the
    longest first within each); runs without heartbeats as `reports.stuck` finds them."""
    now = now or datetime.now(UTC)
    held = held_runs(connection, [scope.in_window(transitions.c.occurred_at), *scope.rows()])
    live = abs(scope.end - now) <= AS_OF_NOW
    found = []
    for run in held:
        beat, liveness = judge(run, limits, scope.end, live)
        running_for = scope.end - run.since
        if beat == "alive" and running_for <= limits.stuck_after:
            continue
        found.append(
            StuckRun(
                run_kind=run.run_kind,
                name=run.name,
                run_id=run.run_id,
                flow_run_id=run.flow_run_id,
                state=run.state,
                since=run.since,
                minutes=round(running_for.total_seconds() / 60, 1),
                status="slow" if beat == "alive" else beat,
                liveness=liveness,
            )
        )
    beating = {run.run_id for run in held}
    plain = stuck_runs(connection, scope, stuck_after=limits.stuck_after)
    found += [run for run in plain if run.run_id not in beating]
    return sorted(found, key=lambda r: (RANK[r.status], r.since, r.run_kind, r.run_id))


def flow_heartbeats(
    connection: Connection, flow_run_id: str, limits: Limits | None = None
) -> list[RunLiveness]:
    """The runs of a flow run that a process holds and that have not ended, as of now
    (for its timeline); `limits` default to the settings."""
    now = datetime.now(UTC)
    limits = limits or Limits.of(timedelta(0))
    of_flow = select(heartbeats.c.run_id).where(heartbeats.c.flow_run_id == flow_run_id)
    out = []
    for run in held_runs(connection, [transitions.c.run_id.in_(of_flow)]):
        beat, liveness = judge(run, limits, now, live=True)
        out.append(
            RunLiveness(
                run_kind=run.run_kind,
                name=run.name,
                run_id=run.run_id,
                status=beat,
                liveness=liveness,
            )
        )
    return sorted(out, key=lambda r: (r.run_kind != "flow", r.name, r.run_id))


def held_runs(connection: Connection, conditions: list[ColumnElement[bool]]) -> list[HeldRun]:
    """Runs with a heartbeat whose latest transition (among the rows `conditions` allow)
    is not an end, with their heartbeat and process."""
    t = transitions.c
    latest = func.max(t.occurred_at)
    open_runs = (
        select(t.run_id, latest.label("latest"))
        .where(t.run_id.in_(select(heartbeats.c.run_id)), *conditions)
        .group_by(t.run_id)
        .subquery("open_runs")
    )
    r, h, p = transitions.alias("last_seen"), heartbeats.c, processes.c
    query = (
        select(
            r.c.run_kind,
            r.c.name,
            r.c.run_id,
            r.c.flow_run_id,
            r.c.to_state,
            r.c.occurred_at,
            r.c.run_count,
            p.last_beat,
            p.interval_s,
            p.host,
            p.pid,
            p.boot_id,
            p.pid_namespace,
            p.process_started,
            p.process_key,
            h.progress,
            h.progress_at,
            r.c.flow_name,
            r.c.deployment_id,
            r.c.origin,
            r.c.tags,
        )
        .select_from(
            r.join(
                open_runs,
                and_(r.c.run_id == open_runs.c.run_id, r.c.occurred_at == open_runs.c.latest),
            )
            .join(heartbeats, h.run_id == r.c.run_id)
            .join(processes, p.process_key == h.process_key)
        )
        .where(r.c.to_state_type.not_in(TERMINAL_TYPES))
    )
    found: dict[str, HeldRun] = {}
    for row in connection.execute(query):
        found.setdefault(row.run_id, HeldRun(*row))
    return list(found.values())


def judge(run: HeldRun, limits: Limits, end: datetime, live: bool) -> tuple[Beat, Liveness]:
    """The run's heartbeat as of `end`: alive, stuck or lost, and why. `live`: `end` is
    now, and the process may be looked at (when it ran on this machine)."""
    stale = max(limits.stale_after.total_seconds(), 2 * run.interval_s)
    lost = max(limits.lost_after.total_seconds(), stale)
    age = max((end - run.last_beat).total_seconds(), 0.0)
    if live:
        process, note = identity.process_state(
            run.host, run.pid, run.boot_id, run.pid_namespace, run.process_started
        )
    else:
        process, note = "unknown", f"pid {run.pid} on {run.host}: not checked (not as of now)"
    beat: Beat
    if process == "gone":
        beat, reason = "lost", note
    elif age > lost:
        beat, reason = "lost", f"no heartbeat for {span(age)} (lost after {span(lost)}); {note}"
    elif age > stale:
        beat, reason = "stuck", f"no heartbeat for {span(age)} (stuck after {span(stale)}); {note}"
    else:
        beat, reason = "alive", f"heartbeat {span(age)} ago; {note}"
    return beat, Liveness(
        last_beat=run.last_beat,
        beat_age_s=round(age, 1),
        interval_s=run.interval_s,
        host=run.host,
        pid=run.pid,
        process=process,
        reason=reason,
        progress=_progress(run),
    )


def _progress(run: HeldRun) -> Progress | None:
    if not run.progress:
        return None
    rows = run.progress.get("rows")
    message = run.progress.get("message")
    return Progress(
        rows=rows if isinstance(rows, int) else None,
        message=message if isinstance(message, str) else None,
        at=run.progress_at,
    )


def span(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
