"""What a failed flow run tells Prefect, where people look first.

- **tags** ``failtrack:<CLASS>`` on the flow run, one per class that failed it: the runs
  list shows them, and Prefect's own tag filter finds "every run that failed PERMANENT
  this week";
- the **failure-summary artifact** (`summary`), task by task;
- the **events** ``failtrack.failure.classified`` / ``failtrack.retries.exhausted``
  (`events`), for automations;
- a **last log line** on the flow run that says what failed and where the artifact is.

Each is guarded on its own: one that fails leaves the others, and the run, alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.logging.loggers import flow_run_logger

from ..classification import Classification, ErrorType
from ..policy import RetryDecision
from ..redaction import get_redactor
from ..resilience.summary import circuit_section
from . import events
from . import summary as failure_summary
from .failure import Failure
from .guard import guarded

if TYPE_CHECKING:
    from ..store.summaries import FlowRunView

TAG_PREFIX = "failtrack:"


def class_of_runs(view: FlowRunView) -> Classification | None:
    """The class of a flow run that failed without an exception of its own: that of its
    worst failed task run, or DEPENDENCY when a subflow is the worst (with the subflow's
    class in the reason). ``None`` when none of its runs failed."""
    worst = view.worst()
    if worst is None:
        return None
    kind, outcome = worst
    if kind == "subflow":
        error_type = ErrorType.DEPENDENCY
        reason = f"subflow {outcome.name}: {outcome.error_type} ({outcome.reason})"
    else:
        value = outcome.error_type or "UNKNOWN"
        error_type = ErrorType(value) if value in ErrorType.__members__ else ErrorType.UNKNOWN
        reason = f"task {outcome.run_name or outcome.name}: {outcome.reason}"
    decided_by = outcome.error_class or "UNKNOWN"
    return Classification(error_type, error_type.retryable, reason, decided_by, decided_by)


def class_tags(view: FlowRunView | None, failure: Failure) -> list[str]:
    """``failtrack:<CLASS>`` for the flow run's own class and each class its runs failed with."""
    classes = {failure.classification.error_type.value}
    if view is not None:
        classes |= set(view.failures_by_class)
        classes |= {s.error_type or "UNKNOWN" for s in view.failed_subflows}
    return sorted(f"{TAG_PREFIX}{kind}" for kind in classes)


def tell(
    flow: Any, flow_run: Any, state: Any, failure: Failure, decision: RetryDecision | None,
    view: FlowRunView | None, *, attempts: int, spent: int,
) -> None:
    """Tags, artifact, events and the last log line of a failed (or crashed) flow run."""
    tags = class_tags(view, failure)
    _tag(flow_run, tags)
    published = _publish(flow, flow_run, state, failure, view)
    _emit(flow_run, failure, decision, view, attempts, spent)
    _last_line(flow_run, state, view, tags, published)


@guarded()
def told_by_the_collector(flow_run: Any, state: Any) -> None:
    """The last log line of a failed flow run whose rows travel as events: the collector
    publishes its tags, artifact and event once it has stored them (`transport`)."""
    flow_run_logger(flow_run).info(
        "failtrack: flow run %r ended %s; its failure summary is published by the collector "
        "(failtrack collect) once it has stored the run's rows.", flow_run.name, state.name,
    )


@guarded()
def _tag(flow_run: Any, tags: list[str]) -> None:
    from prefect.client.orchestration import get_client

    current = list(flow_run.tags or [])
    wanted = current + [tag for tag in tags if tag not in current]
    if wanted != current:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.id, tags=wanted)


@guarded()
def _publish(
    flow: Any, flow_run: Any, state: Any, failure: Failure, view: FlowRunView | None
) -> str | None:
    columns = failure.columns()
    flow_failure = (failure.classification, columns.get("error_message"), columns.get("fingerprint"))
    markdown = failure_summary.render(
        flow_run.name, state.name, view, flow_failure, flow_run_id=str(flow_run.id)
    )
    markdown += circuit_section(str(flow_run.id))  # dependencies, open circuits (`resilience`)
    failure_summary.publish(flow_run, flow.name, markdown)
    return failure_summary.artifact_key(flow.name)


@guarded()
def _emit(
    flow_run: Any, failure: Failure, decision: RetryDecision | None, view: FlowRunView | None,
    attempts: int, spent: int,
) -> None:
    partial = bool(view and view.completed and (view.failed or view.not_ready))
    events.flow_failed(
        flow_run, failure.classification, failure.columns(),
        attempts=attempts,
        failed_tasks=view.failures_by_class if view is not None else {},
        partial_success=partial,
        exhausted=events.retries_exhausted(failure.classification, decision, spent),
        budget=decision.budget if decision is not None else 0,
        spent=spent,
    )


@guarded()
def _last_line(
    flow_run: Any, state: Any, view: FlowRunView | None, tags: list[str], artifact: str | None
) -> None:
    what = ""
    if view is not None and view.tasks:
        by_class = ", ".join(f"{kind} {n}" for kind, n in view.failures_by_class.items())
        what = f": {len(view.failed)} of {len(view.tasks)} task runs failed ({by_class or '-'})"
        if view.not_ready:
            what += f", {len(view.not_ready)} never ran"
    where = (
        f"; why, run by run: the artifact {artifact!r} on this flow run (Artifacts tab)"
        if artifact else ""
    )
    line = (
        f"failtrack: flow run {flow_run.name!r} ended {state.name}{what}{where}; "
        f"tagged {', '.join(tags)}."
    )
    flow_run_logger(flow_run).info("%s", get_redactor().redact(line))
