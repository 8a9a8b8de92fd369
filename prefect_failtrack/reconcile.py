"""Reconcile: fill the audit table from the Prefect API's state history.

Hooks cannot see everything: a process killed with SIGKILL takes its last
transitions with it, a spool may never be replayed, and some states fire no
hook at all (Pending, Scheduled, a downstream task's NotReady, task Crashed).
Prefect's API keeps the state history of every run; reconcile reads it for
the flow runs of a window and inserts what the table lacks.

Idempotent by construction: each state keeps its Prefect id, and the table's
natural key (run, state, run count) also stops a row that a hook recorded
under a synthetic id. Rows are built exactly as the hooks build them
(classified from the state message, redacted, truncated), marked
``metadata.source = "reconcile"``.

Which flow runs: those failtrack tracked (the ``failtrack.tracked`` label that
`tracked_flow` puts on its runs, or any row already in the table), or every
flow run in the window with ``all_runs=True``.

Beyond filling in rows:

- **Summaries are repaired**, not only added: each flow run's summary is derived again
  from its rows (`prefect_failtrack.store.summaries`) and rewritten where it differs
  (a summary written while rows were missing, or by an older failtrack).
- **Orphans are closed**: a task run still Running, Retrying or waiting to retry when its
  flow run has ended (the process that ran it is gone: the flow run crashed, was
  cancelled, or a worker was killed) gets a ``Crashed`` row that says why, so that it
  stops being listed as stuck.
- **Names are the hooks'**: a task run is named by its task, as the hooks name it
  (from a row the hooks wrote, else from Prefect's run name).
- **A grace period**: task states reach Prefect's API as events, stored a moment
  later; flow runs that ended less than `grace` ago are read again once it has passed,
  so that a reconcile right after flows end misses nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import FlowRun, State, StateType, TaskRun
from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort
from prefect.exceptions import CrashedRun, ObjectNotFound, UpstreamTaskError
from pydantic import BaseModel
from sqlalchemy import Connection, Engine
from sqlmodel import Session, col, select

from .capture import rows
from .capture.flow_hooks import TRACKED_LABEL
from .classification import classify
from .classification.text import exception_from_state_message
from .store import summaries
from .store.driver import Driver
from .store.database import ensure_schema, get_engine, resolve_database_url
from .store.models import Transition
from .store.writes import insert_transitions

PAGE = 200
FAILURE_TYPES = {StateType.FAILED, StateType.CRASHED}
OPEN_TYPES = {StateType.RUNNING, StateType.SCHEDULED, StateType.PENDING}
"""A task run whose last state is one of these is still going, unless its flow run ended."""
GRACE = timedelta(seconds=10)
SUMMARY_FIELDS = (
    "final_state", "tasks_total", "tasks_completed", "tasks_failed", "tasks_not_ready",
    "subflows_total", "subflows_failed", "failures_by_class", "retries_spent",
    "partial_success", "metrics",
)  # fmt: skip


class ReconcileResult(BaseModel):
    """What one reconcile pass read and added."""

    flow_runs: int = 0
    task_runs: int = 0
    states_read: int = 0
    inserted: int = 0
    summaries_added: int = 0
    summaries_repaired: int = 0
    orphans_closed: int = 0
    revisited: int = 0
    lost_closed: int = 0  # runs whose process stopped beating, proved dead (`liveness.close`)


def reconcile(
    since: timedelta | datetime = timedelta(hours=1),
    *,
    all_runs: bool = False,
    flow_run_ids: Iterable[UUID | str] | None = None,
    url: str | None = None,
    grace: timedelta = GRACE,
) -> ReconcileResult:
    """Insert the transitions the table lacks, for flow runs expected to start since `since`;
    repair their summaries and close their orphaned task runs.

    Args:
        since: a window back from now, or a start time.
        all_runs: also plain Prefect runs that failtrack never tracked.
        flow_run_ids: reconcile exactly these flow runs instead of a window.
        url: the audit database; default as everywhere (settings, block, SQLite).
        grace: flow runs that ended less than this ago are read again once it has passed.
    """
    url = url or resolve_database_url()
    ensure_schema(url)
    engine = get_engine(url)
    result = ReconcileResult()
    with get_client(sync_client=True) as client:
        runs = _flow_runs(client, since, flow_run_ids)
        if not all_runs and flow_run_ids is None:
            runs = _tracked(engine, runs)
        for flow_run in runs:
            _reconcile_flow_run(client, engine, flow_run, result)
        recent = [r for r in runs if _ended_within(r, grace)]
        if recent:
            last_end = max(r.state.timestamp for r in recent if r.state is not None)
            time.sleep(max((last_end + grace - datetime.now(UTC)).total_seconds(), 0))
            again = ReconcileResult()
            for flow_run in _flow_runs(client, since, [r.id for r in recent]):
                _reconcile_flow_run(client, engine, flow_run, again)
            result.revisited = len(recent)
            for field in ("inserted", "summaries_added", "summaries_repaired", "orphans_closed"):
                setattr(result, field, getattr(result, field) + getattr(again, field))
        # Lost runs (their process stopped beating) closed where proved dead, after Prefect's
        # history of them (`liveness.close`).
        from .liveness.close import close_lost_runs

        done = {str(flow_run.id) for flow_run in runs}

        def refresh(flow_run_id: str) -> None:
            if flow_run_id not in done:
                done.add(flow_run_id)
                try:
                    flow_run = client.read_flow_run(UUID(flow_run_id))
                except ObjectNotFound:  # deleted in Prefect: nothing to add
                    return
                _reconcile_flow_run(client, engine, flow_run, result)

        chosen = sorted(done) if flow_run_ids is not None else None
        result.lost_closed = close_lost_runs(client, engine, refresh, flow_run_ids=chosen)
    return result


def _ended_within(flow_run: FlowRun, grace: timedelta) -> bool:
    state = flow_run.state
    return (
        state is not None and state.is_final() and grace.total_seconds() > 0
        and datetime.now(UTC) - state.timestamp < grace
    )


def _flow_runs(
    client: SyncPrefectClient, since: timedelta | datetime, ids: Iterable[UUID | str] | None
) -> list[FlowRun]:
    if ids is not None:
        wanted = [UUID(str(i)) for i in ids]
        flow_filter = FlowRunFilter(id=FlowRunFilterId(any_=wanted))
    else:
        start = since if isinstance(since, datetime) else datetime.now(UTC) - since
        flow_filter = FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=start))
    found: list[FlowRun] = []
    while True:
        page = client.read_flow_runs(
            flow_run_filter=flow_filter, sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=PAGE, offset=len(found),
        )
        found.extend(page)
        if len(page) < PAGE:
            return found


def _tracked(engine: Any, runs: list[FlowRun]) -> list[FlowRun]:
    labelled = {r.id for r in runs if (r.labels or {}).get(TRACKED_LABEL)}
    ids = [str(r.id) for r in runs if r.id not in labelled]
    known: set[str] = set()
    with Session(engine) as session:
        for chunk in _chunks(ids, 500):
            query = select(Transition.flow_run_id).where(col(Transition.flow_run_id).in_(chunk))
            known.update(str(v) for v in session.exec(query.distinct()))
    return [r for r in runs if r.id in labelled or str(r.id) in known]


def _reconcile_flow_run(
    client: SyncPrefectClient, engine: Engine, flow_run: FlowRun, result: ReconcileResult
) -> None:
    flow_name = _flow_name(client, flow_run)
    candidates = history_rows("flow", flow_run, client.read_flow_run_states(flow_run.id),
                              flow_run, flow_name, flow_name)
    task_runs = _task_runs(client, flow_run.id)
    known_names = _names_in_table(engine, [str(t.id) for t in task_runs])
    for task_run in task_runs:
        states = client.read_task_run_states(task_run.id)
        name = known_names.get(str(task_run.id)) or task_name(task_run)
        candidates.extend(history_rows("task", task_run, states, flow_run, flow_name, name))
    candidates.extend(_orphans_closed(flow_run, candidates))
    result.flow_runs += 1
    result.task_runs += len(task_runs)
    result.states_read += len(candidates)
    missing = _missing(engine, candidates)
    flow_run_id = str(flow_run.id)
    with engine.begin() as connection:
        before = _summary(connection, flow_run_id)
        if missing:
            insert_transitions(connection, missing)
        result.inserted += len(missing)
        result.orphans_closed += sum(1 for r in missing if r["metadata"].get("orphan"))
        summaries.refresh(Driver.of_sqlalchemy(connection), [flow_run_id])  # derived again
        after = _summary(connection, flow_run_id)
    if after is not None and before is None:
        result.summaries_added += 1
    elif after is not None and before is not None and after != before:
        result.summaries_repaired += 1


def _summary(connection: Connection, flow_run_id: str) -> dict[str, Any] | None:
    from sqlalchemy import select as core_select

    from .store.models import flow_runs

    row = connection.execute(
        core_select(*(flow_runs.c[name] for name in SUMMARY_FIELDS))
        .where(flow_runs.c.flow_run_id == flow_run_id)
    ).first()
    return dict(row._mapping) if row is not None else None


def _orphans_closed(flow_run: FlowRun, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A ``Crashed`` row for each task run still going when its flow run ended."""
    state = flow_run.state
    if state is None or not state.is_final():
        return []
    last: dict[str, dict[str, Any]] = {}
    for row in candidates:
        if row["run_kind"] == "task":
            seen = last.get(row["run_id"])
            if seen is None or row["occurred_at"] >= seen["occurred_at"]:
                last[row["run_id"]] = row
    closed = []
    for run_id, row in last.items():
        if row["to_state_type"] not in {t.value for t in OPEN_TYPES} or row["to_state"] == "NotReady":
            continue
        why = (
            f"its flow run ended {state.name} while it was {row['to_state']}: the process "
            "that ran it is gone (closed by failtrack reconcile)"
        )
        columns = rows.error_columns(None, classify(CrashedRun(why)), message=why)
        closed.append(rows.transition_row(
            row_id=rows.synthetic_id(run_id, "Crashed", row["run_count"]),
            run_kind="task", run_id=run_id, flow_run_id=str(flow_run.id), task_run_id=run_id,
            name=row["name"], flow_name=row["flow_name"], deployment_id=row["deployment_id"],
            from_state=row["to_state"], to_state="Crashed", to_state_type="CRASHED",
            occurred_at=max(state.timestamp, row["occurred_at"]),
            duration_ms=int((max(state.timestamp, row["occurred_at"]) - row["occurred_at"])
                            .total_seconds() * 1000),
            run_count=row["run_count"], origin=None, tags=row["tags"],
            metadata={"source": "reconcile", "orphan": True, "reason": why}, **columns,
        ))
    return closed


def _names_in_table(engine: Engine, run_ids: list[str]) -> dict[str, str]:
    """The names the hooks gave these runs (their task's name), where they wrote a row."""
    names: dict[str, str] = {}
    with Session(engine) as session:
        for chunk in _chunks(run_ids, 500):
            query = select(Transition.run_id, Transition.name, Transition.meta).where(
                col(Transition.run_id).in_(chunk)
            )
            for run_id, name, meta in session.exec(query):
                if (meta or {}).get("source") != "reconcile":
                    names.setdefault(run_id, name)
    return names


def history_rows(
    run_kind: str,
    run: FlowRun | TaskRun,
    states: Sequence[State],
    flow_run: FlowRun,
    flow_name: str | None,
    name: str,
) -> list[dict[str, Any]]:
    """Rows for a run's state history, as the hooks would have written them."""
    out: list[dict[str, Any]] = []
    run_count, previous = 0, None
    for state in sorted(states, key=lambda s: s.timestamp):
        if state.type == StateType.RUNNING:
            run_count += 1
        out.append(
            rows.transition_row(
                row_id=str(state.id),
                run_kind=run_kind,
                run_id=str(run.id),
                flow_run_id=str(flow_run.id),
                task_run_id=str(run.id) if run_kind == "task" else None,
                name=name,
                flow_name=flow_name,
                deployment_id=str(flow_run.deployment_id) if flow_run.deployment_id else None,
                from_state=previous.name if previous else None,
                to_state=state.name,
                to_state_type=state.type.value,
                occurred_at=state.timestamp,
                duration_ms=(
                    int((state.timestamp - previous.timestamp).total_seconds() * 1000)
                    if previous else None
                ),
                run_count=run_count,
                origin=None,
                tags=sorted(run.tags or []),
                metadata={"source": "reconcile"},
                **_error_columns(state),
            )
        )
        previous = state
    return out


def _error_columns(state: State) -> dict[str, Any]:
    if state.name == "NotReady":
        exc: BaseException = UpstreamTaskError(state.message or "an upstream run did not complete")
    elif state.type in FAILURE_TYPES:
        exc = exception_from_state_message(state.message)
    else:
        return {}
    return rows.error_columns(None, classify(exc), message=state.message)


def _missing(engine: Any, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Candidates whose id and natural key are both absent from the table."""
    if not candidates:
        return []
    run_ids = sorted({r["run_id"] for r in candidates})
    ids: set[str] = set()
    keys: set[tuple[str, str, int]] = set()
    with Session(engine) as session:
        for chunk in _chunks(run_ids, 500):
            query = select(Transition.id, Transition.run_id, Transition.to_state, Transition.run_count)
            for row_id, run_id, to_state, run_count in session.exec(
                query.where(col(Transition.run_id).in_(chunk))
            ):
                ids.add(row_id)
                keys.add((run_id, to_state, run_count))
    missing, seen = [], set()
    for row in candidates:
        key = (row["run_id"], row["to_state"], row["run_count"])
        if row["id"] in ids or key in keys or key in seen:
            continue
        seen.add(key)
        missing.append(row)
    return missing


def _task_runs(client: SyncPrefectClient, flow_run_id: UUID) -> list[TaskRun]:
    flow_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    return task_runs_where(client, flow_run_filter=flow_filter)


def task_runs_where(client: SyncPrefectClient, **filters: Any) -> list[TaskRun]:
    """Every task run the filters (``read_task_runs``' keywords) select, page by page.
    (liveness: `_task_runs` split in two, for ``liveness/close.py``.)"""
    found: list[TaskRun] = []
    while True:
        # A stable order, or pages read by offset could skip or repeat task runs.
        page = client.read_task_runs(
            **filters, sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=PAGE, offset=len(found)
        )
        found.extend(page)
        if len(page) < PAGE:
            return found


def task_name(task_run: TaskRun) -> str:
    """The task's own name, as hooks record it. Prefect names a run ``{task.name}-{key}`` where
    ``key`` is the start of its ``dynamic_key`` (``Task.create_run``, ``prefect/tasks.py``)."""
    head, sep, tail = task_run.name.rpartition("-")
    if sep and tail and task_run.dynamic_key and task_run.dynamic_key.startswith(tail):
        return head
    return task_run.name


def _flow_name(client: SyncPrefectClient, flow_run: FlowRun) -> str | None:
    try:
        return client.read_flow(flow_run.flow_id).name
    except Exception:
        return None


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

