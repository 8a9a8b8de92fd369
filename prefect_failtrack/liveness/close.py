"""Reconcile's last step: close the lost runs that can be proved dead.

A run is lost when its process is gone or silent for longer than the lost limit
(`status.judge`). Reconcile first reads Prefect's history of the lost runs' flow runs
(`refresh`), so that an end Prefect knows (a Crashed set by its zombie-flow automation,
a Completed the process sent just before it died) is stored as Prefect has it. For the
runs still open after that, it asks Prefect whether anything happened to them later
than one interval after their last beat (a new state of the run or, for a flow run, of
any of its task runs). If nothing did, the run is closed with a ``Crashed`` row that
says why; otherwise it is left alone: something is working on it.

The ``Crashed`` row has the id a hook would give it (`rows.synthetic_id` of the run,
``Crashed`` and its run count), so reconcile never stores a second one, and Prefect's
own Crashed state, should it come later, is not stored twice either. Prefect's state of
the run is never changed. Finally, heartbeat rows of runs that have ended, and
processes that have held nothing for longer than the lost limit, are deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
    TaskRunFilterId,
)
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import CrashedRun
from sqlalchemy import Engine, delete, or_, select

from ..capture import rows
from ..classification import classify
from ..reports.models import Liveness
from ..reports.scope import TERMINAL_TYPES
from ..store.models import heartbeats, processes, transitions
from ..store.writes import insert_transitions
from .status import HeldRun, Limits, held_runs, judge

PAGE = 200
SLACK = timedelta(seconds=5)
"""Clocks differ: Prefect must show something this much later than the silence began."""


def close_lost_runs(
    client: SyncPrefectClient,
    engine: Engine,
    refresh: Callable[[str], None],
    *,
    flow_run_ids: Iterable[UUID | str] | None = None,
    limits: Limits | None = None,
    now: datetime | None = None,
) -> int:
    """Close the lost runs (of `flow_run_ids`, else all) that Prefect shows no sign of;
    how many lost runs are closed now (by Prefect's own end, or by a ``Crashed`` row).
    `refresh(flow_run_id)` stores what Prefect's history of that flow run adds."""
    limits = limits or Limits.of(timedelta(0))
    now = now or datetime.now(UTC)
    wanted = {str(i) for i in flow_run_ids} if flow_run_ids is not None else None
    lost = _lost(engine, limits, now, wanted)
    for flow_run_id in sorted({run.flow_run_id for run, _ in lost if run.flow_run_id}):
        refresh(flow_run_id)
    still = _lost(engine, limits, now, wanted) if lost else []
    closed = len({run.run_id for run, _ in lost} - {run.run_id for run, _ in still})
    moved = _moved_since_silence(client, [run for run, _ in still])
    crashed = [crashed_row(run, liveness) for run, liveness in still if run.run_id not in moved]
    with engine.begin() as connection:
        insert_transitions(connection, crashed)
        _clean_up(connection, now, limits)
    return closed + len(crashed)


def _lost(
    engine: Engine, limits: Limits, now: datetime, flow_run_ids: set[str] | None
) -> list[tuple[HeldRun, Liveness]]:
    t = transitions.c
    conditions = []
    if flow_run_ids is not None:
        ids = sorted(flow_run_ids)
        conditions.append(or_(t.flow_run_id.in_(ids), t.run_id.in_(ids)))
    with engine.connect() as connection:
        held = held_runs(connection, conditions)
    judged = [(run, judge(run, limits, now, live=True)) for run in held]
    return [(run, liveness) for run, (beat, liveness) in judged if beat == "lost"]


def _moved_since_silence(client: SyncPrefectClient, runs: list[HeldRun]) -> set[str]:
    """The runs Prefect saw change (or end) later than one interval after their last beat."""
    silent_from = {run.run_id: _silence(run) for run in runs}
    moved: set[str] = set()
    tasks = [UUID(r.run_id) for r in runs if r.run_kind == "task"]
    for task_run in _task_runs(client, TaskRunFilter(id=TaskRunFilterId(any_=tasks)), tasks):
        if _changed_after(task_run.state, silent_from[str(task_run.id)]):
            moved.add(str(task_run.id))
    flows = [UUID(r.run_id) for r in runs if r.run_kind == "flow"]
    for start in range(0, len(flows), PAGE):
        chunk = flows[start : start + PAGE]
        found = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=PAGE,
        )
        for flow_run in found:
            if _changed_after(flow_run.state, silent_from[str(flow_run.id)]):
                moved.add(str(flow_run.id))
    in_flows = TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=flows))
    for task_run in _task_runs(client, in_flows, flows):  # a task of theirs that moved later
        flow_run_id = str(task_run.flow_run_id)
        state = task_run.state
        if state is not None and state.timestamp > silent_from[flow_run_id]:
            moved.add(flow_run_id)
    return moved


def _task_runs(client: SyncPrefectClient, where: TaskRunFilter, ids: list[UUID]) -> list[Any]:
    from ..reconcile import task_runs_where  # reconcile imports this module when it runs

    return task_runs_where(client, task_run_filter=where) if ids else []


def _silence(run: HeldRun) -> datetime:
    """When the run's process fell silent: one interval after its last beat (and a slack)."""
    return max(run.last_beat, run.since) + timedelta(seconds=run.interval_s) + SLACK


def _changed_after(state: Any, moment: datetime) -> bool:
    """The run ended in Prefect, or changed state after `moment`."""
    if state is None:
        return False
    return bool(state.is_final()) or state.timestamp > moment


def crashed_row(run: HeldRun, liveness: Liveness) -> dict[str, Any]:
    """The ``Crashed`` row that closes a lost run, saying why."""
    at = max(run.last_beat, run.since)  # when it was last known to be alive
    message = _message(liveness)
    error = rows.error_columns(None, classify(CrashedRun(message)), message=message)
    evidence = liveness.model_dump(mode="json")
    return rows.transition_row(
        row_id=rows.synthetic_id(run.run_id, "Crashed", run.run_count),
        run_kind=run.run_kind,
        run_id=run.run_id,
        flow_run_id=run.flow_run_id,
        task_run_id=run.run_id if run.run_kind == "task" else None,
        name=run.name,
        flow_name=run.flow_name,
        deployment_id=run.deployment_id,
        from_state=run.state,
        to_state="Crashed",
        to_state_type="CRASHED",
        occurred_at=at,
        duration_ms=max(int((at - run.since).total_seconds() * 1000), 0),
        run_count=run.run_count,
        origin=run.origin,
        tags=run.tags or [],
        metadata={"source": "reconcile", "liveness": evidence},
        **error,
    )


def _message(liveness: Liveness) -> str:
    said = (
        f"failtrack: lost — {liveness.reason}; last heartbeat "
        f"{liveness.last_beat:%Y-%m-%d %H:%M:%S} UTC, Prefect shows nothing of the run since"
    )
    progress = liveness.progress
    if progress is not None and (progress.rows is not None or progress.message):
        got = [f"{progress.rows:,} rows"] if progress.rows is not None else []
        got += [progress.message] if progress.message else []
        said += f"; last progress: {', '.join(got)}"
    return said + ". Closed by reconcile."


def _clean_up(connection: Any, now: datetime, limits: Limits) -> None:
    """Forget the heartbeats of runs that have ended, and processes idle for long."""
    t, h = transitions.c, heartbeats.c
    latest: dict[str, tuple[datetime, str]] = {}
    query = select(t.run_id, t.occurred_at, t.to_state_type).where(t.run_id.in_(select(h.run_id)))
    for run_id, occurred_at, state_type in connection.execute(query):
        if run_id not in latest or occurred_at >= latest[run_id][0]:
            latest[run_id] = (occurred_at, state_type)
    ended = sorted(run_id for run_id, (_, kind) in latest.items() if kind in TERMINAL_TYPES)
    for start in range(0, len(ended), 500):
        connection.execute(delete(heartbeats).where(h.run_id.in_(ended[start : start + 500])))
    idle_since = now - max(limits.lost_after, timedelta(seconds=1))
    connection.execute(
        delete(processes).where(
            processes.c.last_beat < idle_since,
            processes.c.process_key.not_in(select(h.process_key)),
        )
    )


__all__ = ["close_lost_runs", "crashed_row"]
