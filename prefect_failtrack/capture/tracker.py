"""The hooks and the retry condition: the only code that knows Prefect's hook signatures.

A `Tracker` holds what one decorator was given (policy, rules, origin) and
offers Prefect what it calls: task hooks ``(task, task_run, state)``, flow
hooks ``(flow, flow_run, state)``, and a retry condition. Each call turns into
classification and a policy decision, then into rows for the recorder.

Which transitions each mechanism sees (Prefect 3.8, ``task_engine.call_hooks``
and ``flow_engine``): task ``on_running`` fires for Running and Retrying,
``on_failure`` for the final Failed/TimedOut only; AwaitingRetry fires no hook,
so the retry condition records it (with a synthetic id derived from the natural
key). A task's Completed is noticed on the running task run, without a hook
(`watch`: a hook call costs more in Prefect than the row). Task Crashed/Cancelled
and the Pending/Scheduled states are left to reconcile.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from prefect.context import FlowRunContext
from prefect.exceptions import MissingContextError
from prefect.logging import get_logger, get_run_logger
from prefect.utilities.asyncutils import run_coro_as_sync

from ..classification import Classification, RuleSet, classify
from ..policy import RetryDecision, RetryPolicy
from ..redaction import get_redactor
from ..resilience import retrying as circuits  # resilience: the circuit of a failure's dependency
from ..resilience.dependencies import DependencySpec, dependency_of  # resilience
from ..resilience.parameters import stored_parameters  # resilience
from ..resilience.summary import circuit_section  # resilience
from ..safety import COUNTERS, guarded  # resilience: moved to safety.py, shared with resilience/
from . import events, rows
from . import summary as failure_summary
from .bridge import choose_delay, clear_delay
from .ledger import LEDGER, FailedTask, FlowEntry, RunEntry
from .watch import WATCH, Watched

logger = get_logger("prefect_failtrack.capture")
F = TypeVar("F", bound=Callable[..., Any])
FLUSH_AT_FLOW_END_S = 5.0
TRACKED_LABEL = "failtrack.tracked"


class FailedWithoutException(Exception):
    """A run ended Failed without an exception to show (e.g. it returned a Failed state)."""


def _run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:
        return logger


def exception_of(state: Any) -> BaseException | None:
    """The exception behind a Failed state: its data, or the result record's value."""
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    result = getattr(data, "result", None)
    return result if isinstance(result, BaseException) else None


def _iso_id(value: Any) -> str | None:
    """A run id as text. Each transition needs its ids as text several times, and
    ``str(UUID)`` is slow Python: the texts of recent ids are kept."""
    if value is None:
        return None
    try:
        return _id_text(value)
    except TypeError:  # not hashable
        return str(value)


@functools.lru_cache(maxsize=4096)
def _id_text(value: Any) -> str:
    return str(value)


def _recorder() -> Any:
    """The process-wide recorder, which harvests the watched runs' completions (`watch`).
    Its module (and SQLAlchemy's) is imported at first use only; an import statement in the
    hook itself would take the import lock on every transition."""
    global _get_recorder, _harvested_by
    if _get_recorder is None:
        from ..store.recorder import get_recorder

        _get_recorder = get_recorder
    recorder = _get_recorder()
    if recorder is not _harvested_by:
        recorder.add_producer(WATCH.harvest)
        _harvested_by = recorder
    return recorder


_get_recorder: Callable[[], Any] | None = None
_harvested_by: Any = None


def _flow_context() -> tuple[str | None, Any]:
    """The name of the flow the hook runs in, and its flow run's deployment id."""
    flow_ctx = FlowRunContext.get()
    if flow_ctx is None:
        return None, None
    return getattr(flow_ctx.flow, "name", None), getattr(flow_ctx.flow_run, "deployment_id", None)


def _ms_between(earlier: datetime | None, later: datetime) -> int | None:
    if earlier is None:
        return None
    # datetime's own subtraction: Prefect's timestamps are pendulum's, whose ``-`` builds an
    # Interval (about 40 µs, in the pipeline's thread, on every transition).
    delta = datetime.__sub__(later, earlier)
    if delta is NotImplemented:
        delta = later - earlier
    return max(int(delta.total_seconds() * 1000), 0)


@dataclass(frozen=True, eq=False)
class Tracker:
    """Classification, policy and recording for the runs of one decorated task or flow."""

    policy: RetryPolicy = field(default_factory=RetryPolicy.default)
    rules: RuleSet = field(default_factory=RuleSet)
    origin: str | None = None
    dependency: DependencySpec = None  # resilience: tracked_task(dependency=...)

    # ----------------------------------------------------------------- common

    def classify(self, entry: RunEntry, exc: BaseException | None, message: str | None) -> Classification:
        """Classify once per exception object (the condition and the failure hook share it)."""
        if exc is None:
            exc = FailedWithoutException(message or "the run failed without an exception")
        if entry.exception is not exc or entry.classification is None:
            entry.exception, entry.classification = exc, classify(exc, self.rules)
        return entry.classification

    def _record(
        self,
        entry: RunEntry,
        *,
        run_kind: str,
        run: Any,
        state_name: str,
        state_type: str,
        at: datetime,
        row_id: Any,
        flow_run_id: Any,
        name: str,
        extra: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        run_count: int | None = None,
        context: tuple[str | None, Any] | None = None,
        take_metrics: bool = True,
    ) -> None:
        """Hand the transition to the recorder as raw values (`rows.pending_transition`): the
        row is made in the recorder's thread. Only the ledger is updated here. `context`:
        the flow's name and deployment id, when not called in the flow run's own context."""
        if not rows.settings().enabled:
            return
        flow_name, deployment_id = context or _flow_context()
        metrics = entry.take_metrics() if take_metrics else None
        if metrics:
            metadata = {**(metadata or {}), "metrics": metrics}
        run_id = run.id
        from_state, since = entry.last_state, entry.last_at
        entry.last_state, entry.last_at = state_name, at
        _recorder().record_transition(rows.pending_transition(
            row_id=row_id,
            run_kind=run_kind,
            run_id=run_id,
            flow_run_id=flow_run_id,
            task_run_id=run_id if run_kind == "task" else None,
            name=name,
            flow_name=flow_name,
            deployment_id=deployment_id,
            from_state=from_state or "Pending",
            to_state=state_name,
            to_state_type=state_type,
            occurred_at=at,
            duration_ms=_ms_between(since, at),
            run_count=run_count if run_count is not None else int(run.run_count or 0),
            origin=self.origin,
            tags=tuple(getattr(run, "tags", None) or ()),
            metadata=metadata or {},
            **(extra or {}),
        ))

    def _state_transition(self, run_kind: str, run: Any, state: Any, flow_run_id: Any,
                          name: str, extra: dict[str, Any] | None = None,
                          entry: RunEntry | None = None,
                          context: tuple[str | None, Any] | None = None,
                          metadata: dict[str, Any] | None = None) -> RunEntry:
        if entry is None:
            entry = LEDGER.run(_iso_id(run.id))
        run_count = None
        if run_kind == "flow":
            run_count = flow_run_count(entry, run, running=state.is_running())
        self._record(
            entry, run_kind=run_kind, run=run, state_name=state.name,
            state_type=state.type.value, at=state.timestamp, row_id=state.id,
            flow_run_id=flow_run_id, name=name, extra=extra, run_count=run_count, context=context,
            metadata=metadata,
        )
        return entry

    def _decision_log(self, decision: RetryDecision, name: str, level: int) -> None:
        # Redacted: the reason can quote the exception's message, and the run's logs are stored.
        message = get_redactor().redact(decision.message)
        _run_logger().log(level, "failtrack: %s — %s", name, message)

    # ------------------------------------------------------------------ tasks

    @guarded()
    def on_task_running(self, task: Any, task_run: Any, state: Any) -> None:
        """Running and Retrying: the run is watched (`watch`), which records its row later,
        off the pipeline's thread; nothing else is done here."""
        recording = rows.settings().enabled
        if recording:
            _recorder()  # started, and harvesting the watch from its writer thread
        if recording or task_run.flow_run_id is not None:  # else nothing would ever harvest it
            WATCH.watch(task_run.id, Watched(self, task.name, task_run, *_flow_context(), state))

    @guarded()
    def task_running(self, watched: Watched, state: Any) -> None:
        """The Running (or Retrying) row of a watched run (`watch`), in any thread, and the
        run's new attempt in the ledger."""
        task_run = watched.task_run
        run_id = _iso_id(task_run.id)
        entry = LEDGER.run(run_id)
        self._record(
            entry, run_kind="task", run=task_run, state_name=state.name,
            state_type=state.type.value, at=state.timestamp, row_id=state.id,
            flow_run_id=task_run.flow_run_id, name=watched.task_name,
            run_count=watched.run_count, context=(watched.flow_name, watched.deployment_id),
            take_metrics=False,  # what the attempt reports belongs to its outcome's row
        )
        flow = LEDGER.flow(_iso_id(task_run.flow_run_id)) if task_run.flow_run_id else None
        with LEDGER.lock:
            if entry.begin_attempt(watched.run_count) and flow is not None:
                flow.metrics_by_run.pop(run_id, None)  # an earlier attempt's count no more
        if flow is not None:
            flow.tasks[run_id] = state.type.value

    @guarded()
    def task_completed(self, watched: Watched, state: Any) -> None:
        """The Completed (or Cached) row of a watched run (`watch`): in any thread."""
        task_run = watched.task_run
        run_id = _iso_id(task_run.id)
        self._state_transition(
            "task", task_run, state, task_run.flow_run_id, watched.task_name,
            entry=LEDGER.run(run_id), context=(watched.flow_name, watched.deployment_id),
        )
        if task_run.flow_run_id is not None:
            LEDGER.flow(_iso_id(task_run.flow_run_id)).tasks[run_id] = state.type.value
        LEDGER.forget_run(run_id)
        circuits.on_completed(task_run.id)  # resilience: a success after a circuit wait closes it

    @guarded()
    def on_task_failure(self, task: Any, task_run: Any, state: Any) -> None:
        WATCH.settle(task_run.id, forget=True)
        entry = LEDGER.run(str(task_run.id))
        classification = self.classify(entry, exception_of(state), state.message)
        # resilience: the run's dependency, and DEPENDENCY when it gave up on an open circuit
        circuit = circuits.on_final_failure(
            self.dependency, task_run, entry.exception, classification
        )
        if circuit is not None:
            classification = entry.classification = circuit[0]
        decision = self.policy.decide(classification, entry.spent)
        self._decision_log(decision, task_run.name, logging.ERROR)
        extra = rows.error_columns(entry.exception, classification)
        extra["retries_left"] = 0
        if circuit is not None:
            extra["dependency"] = circuit[1]  # resilience
        self._state_transition(
            "task", task_run, state, _iso_id(task_run.flow_run_id), task.name, extra
        )
        spent = sum(entry.spent.values())
        failure = FailedTask(
            name=task_run.name, task_run_id=str(task_run.id), classification=classification,
            message=extra.get("error_message"), fingerprint=extra.get("fingerprint"),
            attempts=int(task_run.run_count or 1),
            retries_exhausted=events.retries_exhausted(classification, decision, spent),
        )
        if task_run.flow_run_id is not None:
            flow = LEDGER.flow(str(task_run.flow_run_id))
            flow.tasks[str(task_run.id)] = state.type.value
            flow.failed_task(task_run.name, classification, failure)
        LEDGER.forget_run(str(task_run.id))
        _emit_task_failed(failure, _iso_id(task_run.flow_run_id), decision.budget, spent)

    def retry_condition(self, user_condition: Callable[..., Any] | None = None) -> Callable[..., bool]:
        """A plain function for ``retry_condition_fn``: the class decides; `user_condition` may veto."""
        tracker = self

        def failtrack_retry_condition(task: Any, task_run: Any, state: Any) -> bool:
            return tracker.should_retry_task(task, task_run, state, user_condition)

        return failtrack_retry_condition

    @guarded(default=False)
    def should_retry_task(
        self, task: Any, task_run: Any, state: Any, user_condition: Callable[..., Any] | None
    ) -> bool:
        clear_delay()
        WATCH.settle(task_run.id)  # its Running row before the AwaitingRetry one
        entry = LEDGER.run(str(task_run.id))
        classification = self.classify(entry, exception_of(state), state.message)
        # resilience: an open circuit on the failure's dependency decides instead of the class
        circuit = circuits.on_retry_condition(
            self.dependency, task_run, entry.exception, classification
        )
        if circuit is not None and circuit.give_up is not None:
            entry.classification = circuit.give_up  # fails fast, DEPENDENCY (a dead letter)
            _run_logger().error("failtrack: %s — %s", task_run.name,
                                get_redactor().redact(circuit.message))
            return False
        if circuit is not None and circuit.wait:
            return self._wait_on_circuit(task, task_run, state, entry, classification, circuit,
                                         user_condition)
        decision = self.policy.decide(classification, entry.spent)
        if decision.retry and user_condition is not None and not _ask(user_condition, task, task_run, state):
            _run_logger().info(
                "failtrack: %s — %s, but the task's own retry_condition_fn said no",
                task_run.name, classification.describe(),
            )
            return False
        if not decision.retry:
            return False
        entry.spent[classification.error_type] += 1
        choose_delay(decision.delay or 0.0)
        self._decision_log(decision, task_run.name, logging.WARNING)
        now = datetime.now(UTC)
        run_id = str(task_run.id)
        extra = {**rows.error_columns(entry.exception, classification), **rows.decision_columns(decision, now)}
        if circuit is not None:
            extra["dependency"] = circuit.dependency  # resilience
        self._record(
            entry, run_kind="task", run=task_run, state_name="AwaitingRetry", state_type="SCHEDULED",
            at=now, row_id=rows.synthetic_id(run_id, "AwaitingRetry", task_run.run_count),
            flow_run_id=_iso_id(task_run.flow_run_id), name=task.name, extra=extra,
            metadata={"decision": decision.message},
        )
        if task_run.flow_run_id is not None:
            LEDGER.flow(str(task_run.flow_run_id)).retries_spent += 1
        return True

    def _wait_on_circuit(
        self, task: Any, task_run: Any, state: Any, entry: RunEntry,
        classification: Classification, circuit: circuits.CircuitVerdict,
        user_condition: Callable[..., Any] | None,
    ) -> bool:
        """resilience: an AwaitingRetry until the circuit's next look, no class attempt spent
        (Prefect counts it among the task's retries all the same: see resilience/)."""
        if (user_condition is not None and not isinstance(entry.exception, circuits.CircuitOpen)
                and not _ask(user_condition, task, task_run, state)):
            return False
        now = datetime.now(UTC)
        delay = max((circuit.until - now).total_seconds(), 0.0)  # type: ignore[operator]
        choose_delay(delay)
        _run_logger().warning("failtrack: %s — %s", task_run.name,
                              get_redactor().redact(circuit.message))
        kind = classification.error_type
        extra = {
            **rows.error_columns(entry.exception, classification),
            "dependency": circuit.dependency,
            "retry_delay_s": round(delay, 3),
            "retries_left": max(self.policy.classes[kind].max_retries - entry.spent[kind], 0),
            "scheduled_at": circuit.until,
        }
        self._record(
            entry, run_kind="task", run=task_run, state_name="AwaitingRetry", state_type="SCHEDULED",
            at=now, row_id=rows.synthetic_id(str(task_run.id), "AwaitingRetry", task_run.run_count),
            flow_run_id=_iso_id(task_run.flow_run_id), name=task.name, extra=extra,
            metadata={"decision": circuit.message, "circuit_wait": circuit.waits},
        )
        return True

    # ------------------------------------------------------------------ flows

    @guarded()
    def on_flow_running(self, flow: Any, flow_run: Any, state: Any) -> None:
        self._state_transition("flow", flow_run, state, str(flow_run.id), flow.name,
                               metadata=stored_parameters(flow_run))  # resilience: for requeue
        summary = LEDGER.flow(str(flow_run.id))
        if summary.started_at is None:
            summary.started_at = state.timestamp
            _label_tracked(flow_run)

    @guarded()
    def on_flow_end(self, flow: Any, flow_run: Any, state: Any) -> None:
        """Completed, Failed, Crashed or Cancelled: the last row, the run summary, a flush."""
        from ..store.recorder import get_recorder

        WATCH.harvest()  # the tasks' completions, before their summary is counted
        entry = LEDGER.run(str(flow_run.id))
        summary = LEDGER.flow(str(flow_run.id))
        extra: dict[str, Any] = {}
        classification: Classification | None = None
        decision: RetryDecision | None = None
        if not state.is_completed():
            exc = entry.exception if state.is_failed() and entry.exception else exception_of(state)
            if exc is None and summary.worst is not None:
                # Failed because its tasks failed (it returned their states): the worst one speaks.
                task_name, worst = summary.worst
                entry.classification = replace(worst, reason=f"task {task_name}: {worst.reason}")
                entry.exception = FailedWithoutException(state.message or "tasks failed")
            classification = self.classify(entry, exc or entry.exception, state.message)
            extra = rows.error_columns(entry.exception, classification)
            extra["dependency"] = dependency_of(entry.exception)  # resilience
            if state.is_failed():
                decision = self.policy.decide(classification, entry.spent)
                self._decision_log(decision, flow_run.name, logging.ERROR)
        self._state_transition("flow", flow_run, state, str(flow_run.id), flow.name, extra)
        summary.retries_spent += sum(entry.spent.values())
        if rows.settings().enabled:
            recorder = get_recorder()
            recorder.record_summary(_summary_row(flow, flow_run, state, summary))
            recorder.flush(timeout=FLUSH_AT_FLOW_END_S)
        if classification is not None and (state.is_failed() or state.is_crashed()):
            _tell_prefect_flow_failed(
                flow, flow_run, state, summary, classification, extra, decision,
                attempts=flow_run_count(entry, flow_run), spent=sum(entry.spent.values()),
            )
        LEDGER.forget_run(str(flow_run.id))
        LEDGER.forget_flow(str(flow_run.id))

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
        entry = LEDGER.run(str(flow_run.id))
        classification = self.classify(entry, exc, None)
        retries = ctx.flow.retries or 0
        run_count = flow_run_count(entry, flow_run)
        if run_count > retries:
            return None  # Prefect will not retry anyway
        decision = self.policy.decide(classification, entry.spent)
        policy = flow_run.empirical_policy
        if not decision.retry:
            return flow_run.id, policy.model_copy(update={"retries": run_count - 1})
        entry.spent[classification.error_type] += 1
        self._decision_log(decision, flow_run.name, logging.WARNING)
        now = datetime.now(UTC)
        extra = {**rows.error_columns(exc, classification), **rows.decision_columns(decision, now)}
        self._record(
            entry, run_kind="flow", run=flow_run, state_name="AwaitingRetry", state_type="SCHEDULED",
            at=now, row_id=rows.synthetic_id(str(flow_run.id), "AwaitingRetry", run_count),
            flow_run_id=str(flow_run.id), name=ctx.flow.name, extra=extra,
            metadata={"decision": decision.message}, run_count=run_count,
        )
        delay = int(-(-(decision.delay or 0) // 1))  # whole seconds, rounded up
        return flow_run.id, policy.model_copy(update={"retry_delay": delay})


def flow_run_count(entry: RunEntry, flow_run: Any, running: bool = False) -> int:
    """A flow run's run count. The flow engine never refreshes ``flow_run.run_count`` on the
    client (the server increments it on Running): so, the count read at first sight plus the
    Running transitions this process has seen."""
    if entry.base_run_count is None:
        entry.base_run_count = int(flow_run.run_count or 0)
    if running:
        entry.runs_seen += 1
    return entry.base_run_count + entry.runs_seen


def _ask(condition: Callable[..., Any], *args: Any) -> bool:
    """The user's own retry condition, sync or async; an error in it means "no retry"."""
    try:
        if inspect.iscoroutinefunction(condition):
            return bool(run_coro_as_sync(condition(*args)))
        return bool(condition(*args))
    except Exception:
        logger.exception("failtrack: the task's own retry_condition_fn raised; not retrying")
        return False


@guarded()
def _label_tracked(flow_run: Any) -> None:
    """Mark the flow run, so that reconcile finds it even if no row of it was ever written."""
    from prefect.client.orchestration import get_client

    if (flow_run.labels or {}).get(TRACKED_LABEL):
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run_labels(flow_run.id, {TRACKED_LABEL: "true"})


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


@guarded()
def _emit_task_failed(
    failure: FailedTask, flow_run_id: str | None, budget: int, spent: int
) -> None:
    events.task_failed(failure, flow_run_id, budget, spent)


def _tell_prefect_flow_failed(
    flow: Any, flow_run: Any, state: Any, entry: FlowEntry, classification: Classification,
    columns: dict[str, Any], decision: RetryDecision | None, *, attempts: int, spent: int,
) -> None:
    """The failure-summary artifact on the run, and the events; each guarded on its own."""
    _publish_failure_summary(flow, flow_run, state, entry, classification, columns)
    _emit_flow_failed(flow_run, entry, classification, columns, decision, attempts, spent)


@guarded()
def _publish_failure_summary(
    flow: Any, flow_run: Any, state: Any, entry: FlowEntry, classification: Classification,
    columns: dict[str, Any],
) -> None:
    flow_failure = (classification, columns.get("error_message"), columns.get("fingerprint"))
    markdown = failure_summary.render(flow_run.name, state.name, entry, flow_failure)
    markdown += circuit_section(str(flow_run.id))  # resilience: dependencies, open circuits
    failure_summary.publish(flow_run, flow.name, markdown)


@guarded()
def _emit_flow_failed(
    flow_run: Any, entry: FlowEntry, classification: Classification, columns: dict[str, Any],
    decision: RetryDecision | None, attempts: int, spent: int,
) -> None:
    final = entry.tasks.values()
    completed = any(t == "COMPLETED" for t in final)
    events.flow_failed(
        flow_run, classification, columns,
        attempts=attempts,
        failed_tasks=dict(entry.failures_by_class),
        partial_success=completed and any(t in ("FAILED", "CRASHED") for t in final),
        exhausted=events.retries_exhausted(classification, decision, spent),
        budget=decision.budget if decision is not None else 0,
        spent=spent,
    )


def _summary_row(flow: Any, flow_run: Any, state: Any, summary: FlowEntry) -> dict[str, Any]:
    final = summary.tasks.values()
    completed = sum(1 for t in final if t == "COMPLETED")
    failed = sum(1 for t in final if t in ("FAILED", "CRASHED"))
    return {
        "flow_run_id": str(flow_run.id),
        "flow_name": flow.name,
        "deployment_id": _iso_id(flow_run.deployment_id),
        "started_at": summary.started_at,
        "ended_at": state.timestamp,
        "final_state": state.name,
        "final_state_type": state.type.value,
        "tasks_total": len(summary.tasks),
        "tasks_completed": completed,
        "tasks_failed": failed,
        "failures_by_class": dict(summary.failures_by_class),
        "retries_spent": summary.retries_spent,
        "partial_success": completed > 0 and failed > 0,
        "metrics": summary.metrics(),
        "tags": rows.redacted_tags(flow_run.tags),
        "updated_at": datetime.now(UTC),
    }
