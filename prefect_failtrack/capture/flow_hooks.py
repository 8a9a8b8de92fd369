"""The flow side: the hooks of tracked flow runs, and class-driven flow retries.

Prefect calls flow hooks positionally from the flow engine (``flow_engine.call_hooks``)
and with keywords from the runner (``prefect/runner/_hook_runner.py``: ``flow=``,
``flow_run=``, ``state=``, for runs it cancels or finds crashed); `hooklog.named_hook`
passes either on.

At a flow run's end, what its task runs did is read back from the store (the flow
run's view, `prefect_failtrack.store.summaries`), not from this process's memory: it is
the same whichever process ran them, and the summary row itself is derived by the store
when the final row is written. A flow run that failed without an exception of its own
(it returned failed states) takes the class of its worst failure; a flow run that
failed because a subflow failed is DEPENDENCY, with the subflow's class in the reason.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from prefect.context import FlowRunContext
from prefect.logging.loggers import flow_run_logger

from ..classification import Classification, ErrorType, classify
from ..liveness import heartbeat
from ..resilience.dependencies import dependency_of
from ..resilience.parameters import stored_parameters
from . import flow_end, local, rows
from .failure import Failure, FailedWithoutException
from .guard import COUNTERS, guarded, logger
from .memory import MEMORY, RunMemory
from .recording import Recording, exception_of, iso_id, recorder
from .watch import WATCH

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..store.summaries import FlowRunView

F = TypeVar("F", bound="Callable[..., Any]")
FLUSH_AT_FLOW_END_S = 5.0
TRACKED_LABEL = "failtrack.tracked"
MAX_RETURNED_STATES = 10_000


class FlowHooks(Recording):
    """The hooks (and the flow function wrapper) of one tracked flow."""

    @guarded()
    def on_flow_running(self, flow: Any, flow_run: Any, state: Any) -> None:
        run_id = iso_id(flow_run.id)
        memory = MEMORY.run(run_id)
        memory_parent = local.started(run_id)
        if flow_run.parent_task_run_id is not None and memory.parent is None:
            memory.parent = memory_parent or rows.Later(
                functools.partial(_parent_from_api, flow_run.parent_task_run_id)
            )
        self.record(
            memory, run_kind="flow", run=flow_run, state_name=state.name,
            state_type=state.type.value, at=state.timestamp, row_id=state.id,
            flow_run_id=run_id, name=flow.name, context=(flow.name, flow_run.deployment_id),
            run_count=flow_run_count(memory, flow_run, running=state.is_running()),
            extra=_parent_columns(flow_run, memory),
            metadata=stored_parameters(flow_run),  # what a requeue shows (`resilience`)
        )
        if memory.runs_seen == 1:
            _label_tracked(flow_run)
        heartbeat.flow_started(flow_run.id, flow.name)  # held by this process (`liveness`)

    @guarded()
    def on_flow_end(self, flow: Any, flow_run: Any, state: Any) -> None:
        """Completed, Failed, Crashed or Cancelled: the last row (the store derives the
        summary from it), a flush; on failure, what the flow run tells Prefect."""
        WATCH.harvest()  # the tasks' completions, before the flow's own end
        run_id = iso_id(flow_run.id)
        memory = MEMORY.run(run_id)
        recording = rows.settings().enabled
        if recording:
            self._record_not_ready(flow, flow_run, state)
        failure: Failure | None = None
        decision = None
        view: FlowRunView | None = None
        log = flow_run_logger(flow_run, flow)
        if not state.is_completed():
            failure, view = self._flow_failure(memory, flow_run, state)
            if state.is_failed():
                decision = self.policy.decide(failure.classification, memory.spent)
                self.log_decision(decision, flow_run.name, logging.ERROR, log=log)
        extra = {**(failure.columns() if failure else {}), **_parent_columns(flow_run, memory)}
        if failure is not None:
            extra["dependency"] = dependency_of(failure.exc)  # what it failed on (`resilience`)
        metadata = {"decision": decision.message} if decision is not None else None
        by_events = recording and rows.settings().transport == "events"
        failed = failure is not None and (state.is_failed() or state.is_crashed())
        if failed and by_events:
            metadata = {**(metadata or {}), **_for_the_collector(
                failure, decision, flow_run_count(memory, flow_run), sum(memory.spent.values())
            )}
        self.record(
            memory, run_kind="flow", run=flow_run, state_name=state.name,
            state_type=state.type.value, at=state.timestamp, row_id=state.id,
            flow_run_id=run_id, name=flow.name, context=(flow.name, flow_run.deployment_id),
            run_count=flow_run_count(memory, flow_run), extra=extra, metadata=metadata,
        )
        heartbeat.flow_ended(flow_run.id)  # let go of it before the flush below (`liveness`)
        if recording:
            recorder().flush(timeout=FLUSH_AT_FLOW_END_S)
        if failed:
            if flow_run.parent_task_run_id is not None:
                SUBFLOW_FAILURES.remember(failure, flow.name, run_id)
            if by_events:  # no store here: the collector publishes (`transport`)
                flow_end.told_by_the_collector(flow_run, state)
            else:
                if recording:
                    view = recorder().view(run_id) or view  # with its own final row now
                flow_end.tell(
                    flow, flow_run, state, failure, decision, view,
                    attempts=flow_run_count(memory, flow_run), spent=sum(memory.spent.values()),
                )
        local.ended(run_id)
        MEMORY.forget(run_id)

    def _flow_failure(
        self, memory: RunMemory, flow_run: Any, state: Any
    ) -> tuple[Failure, FlowRunView | None]:
        """The flow run's own failure: its exception (a subflow's is DEPENDENCY here), else
        the worst failure among its task runs and subflows, read from the store."""
        known = memory.failure
        exc = known.exc if state.is_failed() and known is not None else exception_of(state)
        if exc is not None:
            failure = self.failure(memory, exc, state.message)
            return SUBFLOW_FAILURES.as_dependency(failure), None
        view = recorder().view(iso_id(flow_run.id)) if rows.settings().enabled else None
        classification = flow_end.class_of_runs(view) if view is not None else None
        if not state.is_failed() or classification is None:
            return self.failure(memory, None, state.message), view
        exc = FailedWithoutException(state.message or "its task runs failed")
        memory.failure = Failure(exc, classification, str(exc))
        return memory.failure, view

    def _record_not_ready(self, flow: Any, flow_run: Any, state: Any) -> None:
        """Task runs the flow returned that never ran because an upstream failed (NotReady:
        a Pending state, no hook fires, ``task_engine.py``): one row each, DEPENDENCY, as
        reconcile would write it (same state id). The task's name is read from Prefect's
        API in the writer thread."""
        from prefect.exceptions import UpstreamTaskError

        for returned in _returned_states(state):
            task_run_id = getattr(returned.state_details, "task_run_id", None)
            if returned.name != "NotReady" or task_run_id is None:
                continue
            message = returned.message or "an upstream run did not complete"
            columns = rows.error_columns(None, classify(UpstreamTaskError(message)), message=message)
            recorder().record_transition(rows.pending_transition(
                row_id=returned.id, run_kind="task", run_id=task_run_id,
                flow_run_id=iso_id(flow_run.id), task_run_id=task_run_id,
                name=rows.Later(functools.partial(_task_name, task_run_id), "unknown task"),
                flow_name=flow.name, deployment_id=flow_run.deployment_id,
                from_state="Pending", to_state="NotReady", to_state_type=returned.type.value,
                occurred_at=returned.timestamp, duration_ms=None, run_count=0,
                origin=self.origin, tags=tuple(flow_run.tags or ()),
                metadata=rows.Later(
                    functools.partial(_not_ready_metadata, task_run_id), {"source": "flow-end"}
                ),
                **columns,
            ))

    # ---------------------------------------------------------------- flow retries

    def wrap_flow_function(self, fn: F) -> F:
        """Let the class decide the retries of a flow, as far as Prefect allows.

        Flows have no retry condition: the server retries a Failed flow run while
        ``run_count <= empirical_policy.retries`` (``RetryFailedFlows`` in
        ``prefect/server/orchestration/core_policy.py``), after
        ``empirical_policy.retry_delay`` seconds. So, when the flow function
        raises, we classify and set those two fields on the flow run before the
        Failed state is proposed: no retry for a class whose budget is spent,
        the class's delay otherwise. Delays are whole seconds there.
        """
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def tracked_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    update = self._flow_retry_update(exc)
                    if update is not None:
                        await _apply_async(*update)
                    raise

            return tracked_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def tracked_sync(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                update = self._flow_retry_update(exc)
                if update is not None:
                    _apply_sync(*update)
                raise

        return tracked_sync  # type: ignore[return-value]

    @guarded()
    def _flow_retry_update(self, exc: BaseException) -> tuple[Any, Any] | None:
        ctx = FlowRunContext.get()
        if ctx is None or ctx.flow_run is None:
            return None
        flow_run = ctx.flow_run
        memory = MEMORY.run(iso_id(flow_run.id))
        failure = SUBFLOW_FAILURES.as_dependency(self.failure(memory, exc, None))
        memory.failure = failure
        retries = ctx.flow.retries or 0
        run_count = flow_run_count(memory, flow_run)
        if run_count > retries:
            return None  # Prefect will not retry anyway
        decision = self.policy.decide(failure.classification, memory.spent)
        policy = flow_run.empirical_policy
        if not decision.retry:
            return flow_run.id, policy.model_copy(update={"retries": run_count - 1})
        memory.spent[failure.classification.error_type] += 1
        self.log_decision(decision, flow_run.name, logging.WARNING)
        now = datetime.now(UTC)
        extra = {**failure.columns(), **rows.decision_columns(decision, now)}
        self.record(
            memory, run_kind="flow", run=flow_run, state_name="AwaitingRetry",
            state_type="SCHEDULED", at=now,
            row_id=rows.synthetic_id(str(flow_run.id), "AwaitingRetry", run_count),
            flow_run_id=str(flow_run.id), name=ctx.flow.name, extra=extra,
            metadata={"decision": decision.message}, run_count=run_count,
        )
        delay = int(-(-(decision.delay or 0) // 1))  # whole seconds, rounded up
        return flow_run.id, policy.model_copy(update={"retry_delay": delay})


def _for_the_collector(
    failure: Failure, decision: Any, attempts: int, spent: int
) -> dict[str, Any]:
    """What the collector needs to publish a failed flow run's summary in this process's
    place (event transport): its retry figures, and whether its class is to be taken from
    its task runs (it failed without an exception of its own; this process cannot read
    them back)."""
    from . import events

    found: dict[str, Any] = {"attempts": attempts, "retries_spent": spent}
    if decision is not None:
        found["budget"] = decision.budget
        found["retries_exhausted"] = events.retries_exhausted(
            failure.classification, decision, spent
        )
    if isinstance(failure.exc, FailedWithoutException):
        found["class_from_runs"] = True
    return found


def flow_run_count(memory: RunMemory, flow_run: Any, running: bool = False) -> int:
    """A flow run's run count. The flow engine never refreshes ``flow_run.run_count`` on the
    client (the server increments it on Running): so, the count read at first sight plus the
    Running transitions this process has seen."""
    if memory.base_run_count is None:
        memory.base_run_count = int(flow_run.run_count or 0)
    if running:
        memory.runs_seen += 1
    return memory.base_run_count + memory.runs_seen


def _parent_columns(flow_run: Any, memory: RunMemory) -> dict[str, Any]:
    if flow_run.parent_task_run_id is None:
        return {}
    return {
        "parent_task_run_id": str(flow_run.parent_task_run_id),
        "parent_flow_run_id": memory.parent,
    }


@functools.lru_cache(maxsize=256)
def _parent_from_api(parent_task_run_id: Any) -> str | None:
    return local.parent_from_api(parent_task_run_id)


@functools.lru_cache(maxsize=256)
def _task_run_from_api(task_run_id: Any) -> Any:
    """A task run as Prefect's API has it (its states arrive there as events: a short wait
    for the first one); ``None`` when it cannot be read."""
    import time

    from prefect.client.orchestration import get_client

    for wait in (0.0, 0.2, 0.5, 1.0):
        time.sleep(wait)
        try:
            with get_client(sync_client=True) as client:
                return client.read_task_run(task_run_id)
        except Exception:
            continue
    return None


def _task_name(task_run_id: Any) -> str | None:
    from ..reconcile import task_name

    task_run = _task_run_from_api(task_run_id)
    return task_name(task_run) if task_run is not None else None


def _not_ready_metadata(task_run_id: Any) -> dict[str, Any]:
    task_run = _task_run_from_api(task_run_id)
    found = {"run_name": task_run.name} if task_run is not None else {}
    return {"source": "flow-end", **found}


def _returned_states(state: Any) -> list[Any]:
    """The run states a flow returned (``return [future.state ...]``): Prefect keeps them in
    the final state's result (``states.return_value_to_state``)."""
    from prefect.client.schemas.objects import State

    data = getattr(state, "data", None)
    value = getattr(data, "result", data)
    if isinstance(value, State):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list | tuple | set):
        return []
    return [item for item in list(value)[:MAX_RETURNED_STATES] if isinstance(item, State)]


class SubflowFailures:
    """Failures of subflow runs that ended in this process, by exception object: the parent
    flow run that receives the same exception is DEPENDENCY, not the subflow's class.
    Bounded (the exceptions are held until they are looked up or pushed out)."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.failures: OrderedDict[int, tuple[BaseException, str, str, Classification]] = (
            OrderedDict()
        )

    def remember(self, failure: Failure, flow_name: str, flow_run_id: str) -> None:
        with self.lock:
            self.failures[id(failure.exc)] = (
                failure.exc, flow_name, flow_run_id, failure.classification
            )
            while len(self.failures) > self.limit:
                self.failures.popitem(last=False)

    def as_dependency(self, failure: Failure) -> Failure:
        """`failure` as DEPENDENCY when its exception is a subflow's failure."""
        with self.lock:
            found = self.failures.get(id(failure.exc))
        if found is None or found[0] is not failure.exc:
            return failure
        _, name, _, child = found
        reason = f"subflow {name}: {child.describe()}"
        return failure.with_classification(Classification(
            ErrorType.DEPENDENCY, False, reason, failure.classification.error_class,
            child.decided_by,
        ))


SUBFLOW_FAILURES = SubflowFailures()


def _label_tracked(flow_run: Any) -> None:
    """Mark the flow run, so that reconcile finds it even if no row of it was ever written;
    off the pipeline's thread (an API call)."""
    if (flow_run.labels or {}).get(TRACKED_LABEL):
        return
    context = contextvars.copy_context()  # Prefect's settings (the API URL) live in it
    threading.Thread(
        target=context.run, args=(_label, flow_run.id), name="failtrack-label", daemon=True
    ).start()


@guarded()
def _label(flow_run_id: Any) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.update_flow_run_labels(flow_run_id, {TRACKED_LABEL: "true"})


@guarded()
def _apply_sync(flow_run_id: Any, policy: Any) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.update_flow_run(flow_run_id, empirical_policy=policy)


async def _apply_async(flow_run_id: Any, policy: Any) -> None:
    from prefect.client.orchestration import get_client

    try:
        async with get_client() as client:
            await client.update_flow_run(flow_run_id, empirical_policy=policy)
    except Exception:
        COUNTERS.failed()
        logger.warning("failtrack: could not set the flow run's retry policy", exc_info=True)
