"""Transitions of runs failtrack does not track, from Prefect's own state events.

Prefect emits an event for every state a run enters: ``prefect.task-run.<State>`` from the
process that runs the task (``emit_task_run_state_change_event``,
``prefect/utilities/engine``) and ``prefect.flow-run.<State>`` from the server
(``flow_run_state_change_event``, ``prefect/server/models/events.py``). Each names the run
(resource ``prefect.task-run.<id>`` / ``prefect.flow-run.<id>``, with its run count, state
name, type, message and time as labels), its flow run, flow and deployment (related
resources), and its id is the state's id: the id failtrack's hooks give the same row.

A failure is classified from what Prefect keeps of it, the exception's type and message
in the state message (``Task run encountered an exception ValueError: ...``,
`prefect_failtrack.classification.text.exception_from_state_message`); a ``NotReady``
task run is DEPENDENCY, as reconcile writes it. Rows are marked ``capture='observed'``
and ``metadata.source='observed'``; a tracked row of the same transition replaces them
(`prefect_failtrack.store.writes`).

A retry without a delay goes from Running straight to Retrying in Prefect (no
AwaitingRetry state, ``handle_retry`` in ``prefect/task_engine.py``): the collector adds
the AwaitingRetry row the hooks would have written (same synthetic id, same natural key),
so that retries are counted alike. Its class is not known: Prefect keeps no message of
a failure that was retried.

What the events do not carry is left empty: the origin, user metrics, stack traces (only
the message survives), and the time spent in the previous state when the collector has
not seen that state itself (`Durations` remembers the last state of recent runs).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

from prefect.events.schemas.events import Event

from ..capture import rows
from ..classification import classify
from ..classification.text import exception_from_state_message
from ..store.columns import OBSERVED

TASK_PREFIX = "prefect.task-run."
FLOW_PREFIX = "prefect.flow-run."
PREFIXES = (TASK_PREFIX, FLOW_PREFIX)
FAILED_TYPES = {"FAILED", "CRASHED"}


class Durations:
    """The last state of recent runs (bounded): how long a run stayed in a state."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.last: OrderedDict[str, datetime] = OrderedDict()

    def since(self, run_id: str, at: datetime) -> int | None:
        before = self.last.pop(run_id, None)
        self.last[run_id] = at
        while len(self.last) > self.limit:
            self.last.popitem(last=False)
        if before is None or before > at:
            return None
        return int((at - before).total_seconds() * 1000)


def _related(event: Event, role: str) -> tuple[str | None, str | None]:
    """(id, name) of the first related resource in `role`; the id without its prefix."""
    for resource in event.related:
        if resource.role == role:
            return resource.id.rpartition(".")[2], resource.get("prefect.resource.name")
    return None, None


def _tags(event: Event) -> list[str]:
    return sorted({r.id.removeprefix("prefect.tag.") for r in event.related if r.role == "tag"})


def task_name(run_name: str, dynamic_key: str | None) -> str:
    """The task's name as hooks record it: Prefect names a run ``{task.name}-{key}`` where
    ``key`` starts its ``dynamic_key`` (``Task.create_run``, ``prefect/tasks.py``)."""
    head, sep, tail = run_name.rpartition("-")
    if sep and tail and dynamic_key and str(dynamic_key).startswith(tail):
        return head
    return run_name


def error_columns(state_name: str, state_type: str, message: str | None) -> dict[str, Any]:
    """The classified error columns of an observed state (empty when it is no failure)."""
    if state_name == "NotReady":
        from prefect.exceptions import UpstreamTaskError

        exc: BaseException = UpstreamTaskError(message or "an upstream run did not complete")
    elif state_type in FAILED_TYPES:
        exc = exception_from_state_message(message)
    else:
        return {}
    return rows.error_columns(None, classify(exc), message=message)


def observed_rows(event: Event, durations: Durations | None = None) -> list[dict[str, Any]]:
    """The rows of one Prefect state event (none for any other event): its transition, and
    before a Retrying that followed Running at once, the AwaitingRetry it skipped."""
    row = observed_row(event, durations)
    if row is None:
        return []
    if row["to_state"] != "Retrying" or row["from_state"] != "Running" or row["run_count"] < 2:
        return [row]
    attempt = row["run_count"] - 1
    skipped = {
        **row,
        "id": rows.synthetic_id(row["run_id"], "AwaitingRetry", attempt),
        "to_state": "AwaitingRetry",
        "to_state_type": "SCHEDULED",
        "run_count": attempt,
        "duration_in_state_ms": None,
        "metadata": {**row["metadata"], "skipped_by_prefect": True},
    }
    return [skipped, {**row, "from_state": "AwaitingRetry"}]


def observed_row(event: Event, durations: Durations | None = None) -> dict[str, Any] | None:
    """The transition row of one Prefect state event; ``None`` for any other event."""
    name = event.event
    if name.startswith(TASK_PREFIX):
        run_kind = "task"
    elif name.startswith(FLOW_PREFIX):
        run_kind = "flow"
    else:
        return None
    resource = event.resource
    state_type = resource.get("prefect.state-type")
    state_name = resource.get("prefect.state-name") or name.rpartition(".")[2]
    if not state_type:
        return None
    run_id = resource.id.rpartition(".")[2]
    payload = event.payload or {}
    initial = payload.get("initial_state") or {}
    at = _timestamp(resource.get("prefect.state-timestamp")) or event.occurred
    message = resource.get("prefect.state-message") or None
    flow_id_name = _related(event, "flow")
    deployment_id, _ = _related(event, "deployment")
    try:
        run_count = int(resource.get("prefect.run-count") or 0)
    except ValueError:
        run_count = 0
    if run_kind == "task":
        task_run = payload.get("task_run") or {}
        flow_run_id, _ = _related(event, "flow-run")
        run_name = task_run.get("name") or resource.get("prefect.resource.name") or run_id
        row_name = task_name(run_name, task_run.get("dynamic_key"))
        if "run_count" in task_run:
            run_count = int(task_run["run_count"] or 0)
        parents: dict[str, Any] = {}
    else:
        flow_run_id = run_id
        row_name = flow_id_name[1] or resource.get("prefect.resource.name") or run_id
        run_name = resource.get("prefect.resource.name")
        parent_task_run_id, _ = _related(event, "task-run")
        parents = {"parent_task_run_id": parent_task_run_id} if parent_task_run_id else {}
    row = rows.transition_row(
        row_id=str(event.id),
        run_kind=run_kind,
        run_id=run_id,
        flow_run_id=flow_run_id,
        task_run_id=run_id if run_kind == "task" else None,
        name=row_name,
        flow_name=flow_id_name[1],
        deployment_id=deployment_id,
        from_state=initial.get("name") or ("Pending" if run_kind == "task" else None),
        to_state=state_name,
        to_state_type=state_type,
        occurred_at=at,
        duration_ms=durations.since(run_id, at) if durations is not None else None,
        run_count=run_count,
        origin=None,
        tags=_tags(event),
        metadata={"source": "observed", "run_name": run_name},
        **parents,
        **error_columns(state_name, state_type, message),
    )
    row["capture"] = OBSERVED
    return row


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
