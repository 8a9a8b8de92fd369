"""The task side: the hooks and the retry condition of tracked task runs.

Which transitions each mechanism sees (Prefect 3.8, ``task_engine.py``): ``on_running``
fires for Running and Retrying, ``on_failure`` for the final Failed/TimedOut only;
AwaitingRetry fires no hook, so the retry condition records it (with a synthetic id
derived from the natural key). A task's Completed is noticed on the running task run,
without a hook (`watch`: a hook call costs more in Prefect than the row). NotReady (an
upstream failed) fires no hook either: the flow-end hook records it from the states
the flow returned (`FlowHooks`); Crashed and Cancelled task runs are reconcile's.

Where failtrack declines a retry, Prefect's ``handle_retry`` logs nothing (it logs the
traceback only when its own ``task.retries`` are used up): failtrack then logs its
decision with the traceback, once, at ERROR (never less than plain Prefect shows).

A task run in a process away from its flow's engine (a process pool, Dask, Ray) may be
torn down right after it: its rows are flushed at its end there (a completion hook is
added to the task in that process only), never left to ``atexit``.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..classification import ErrorType
from ..policy import RetryDecision
from ..redaction import get_redactor
from ..resilience import retrying as circuits
from . import events, rows
from .bridge import choose_delay, clear_delay
from .failure import Failure
from .guard import guarded, logger, run_logger
from .hooklog import named_hook, quiet_hook_lines
from .local import in_detached_process
from .memory import MEMORY, RunMemory
from .recording import Recording, exception_of, flow_context, iso_id, recorder
from .telemetry import annotate
from .watch import WATCH, Watched

FLUSH_AT_TASK_END_S = 10.0
"""How long the end of a task run away from its flow waits for its rows to be stored."""


@dataclass
class RetryAsk:
    """What the retry condition found out before the task's own condition may have its say."""

    task_run: Any
    task_name: str
    memory: RunMemory
    failure: Failure
    decision: RetryDecision
    circuit: circuits.CircuitVerdict | None = None  # the dependency's circuit said wait or give up

    @property
    def asks_the_task(self) -> bool:
        """Whether the task's own condition may veto: a retry is on offer, and it is not a
        wait for a circuit the guard itself found open (the task never ran)."""
        if self.circuit is not None and self.circuit.give_up is not None:
            return False
        if self.circuit is not None and self.circuit.wait:
            return not isinstance(self.failure.exc, circuits.CircuitOpen)
        return self.decision.retry


class TaskHooks(Recording):
    """The hooks and retry condition of one tracked task."""

    @guarded()
    def on_task_running(self, task: Any, task_run: Any, state: Any) -> None:
        """Running and Retrying: the run is watched (`watch`), which records its row later,
        off the pipeline's thread."""
        _quiet_once()
        recording = rows.settings().enabled
        if recording:
            recorder()  # started, and harvesting the watch from its writer thread
            if in_detached_process():
                _flush_at_the_end_here(task)
        if recording or task_run.flow_run_id is not None:  # else nothing would ever harvest it
            WATCH.watch(task_run.id, Watched(self, task.name, task_run, *flow_context(), state))

    @guarded()
    def task_running(self, watched: Watched, state: Any) -> None:
        """The Running (or Retrying) row of a watched run (`watch`), in any thread."""
        task_run = watched.task_run
        self.record(
            MEMORY.run(iso_id(task_run.id)), run_kind="task", run=task_run,
            state_name=state.name, state_type=state.type.value, at=state.timestamp,
            row_id=state.id, flow_run_id=task_run.flow_run_id, name=watched.task_name,
            run_count=watched.run_count, context=(watched.flow_name, watched.deployment_id),
            take_metrics=False,  # what the attempt reports belongs to its outcome's row
        )

    @guarded()
    def task_completed(self, watched: Watched, state: Any) -> None:
        """The Completed (or Cached) row of a watched run (`watch`), in any thread."""
        task_run = watched.task_run
        run_id = iso_id(task_run.id)
        self.record(
            MEMORY.run(run_id), run_kind="task", run=task_run, state_name=state.name,
            state_type=state.type.value, at=state.timestamp, row_id=state.id,
            flow_run_id=task_run.flow_run_id, name=watched.task_name,
            context=(watched.flow_name, watched.deployment_id),
        )
        MEMORY.forget(run_id)
        circuits.on_completed(task_run.id)  # a success after a circuit wait closes it

    @guarded()
    def task_ended(self, watched: Watched, state: Any) -> None:
        """A watched run's Crashed or Cancelled row (no hook fires for them), classified
        from the state: in any thread."""
        task_run = watched.task_run
        run_id = iso_id(task_run.id)
        memory = MEMORY.run(run_id)
        failure = self.failure(memory, exception_of(state), state.message)
        self.record(
            memory, run_kind="task", run=task_run, state_name=state.name,
            state_type=state.type.value, at=state.timestamp, row_id=state.id,
            flow_run_id=task_run.flow_run_id, name=watched.task_name,
            context=(watched.flow_name, watched.deployment_id), extra=failure.columns(),
            metadata={"run_name": task_run.name},
        )
        MEMORY.forget(run_id)

    @guarded()
    def on_task_failure(self, task: Any, task_run: Any, state: Any) -> None:
        WATCH.settle(task_run.id, forget=True)
        run_id = iso_id(task_run.id)
        memory = MEMORY.run(run_id)
        failure = self.failure(memory, exception_of(state), state.message)
        # The run's dependency, and DEPENDENCY when it gave up on an open circuit.
        circuit = circuits.on_final_failure(
            self.dependency, task_run, failure.exc, failure.classification
        )
        if circuit is not None:
            failure = memory.failure = failure.with_classification(circuit[0])
        decision = self.policy.decide(failure.classification, memory.spent)
        annotate(failure, decision)  # if Prefect's span still records (no condition was asked)
        if not memory.decision_logged:  # Prefect logged the traceback: its retries are used up
            self.log_decision(decision, task_run.name, logging.ERROR)
        spent = sum(memory.spent.values())
        exhausted = events.retries_exhausted(failure.classification, decision, spent)
        extra = failure.columns()
        extra["retries_left"] = 0
        if circuit is not None:
            extra["dependency"] = circuit[1]
        metadata: dict[str, Any] = {"run_name": task_run.name, "decision": decision.message}
        if exhausted:
            metadata["retries_exhausted"] = True
        self.record(
            memory, run_kind="task", run=task_run, state_name=state.name,
            state_type=state.type.value, at=state.timestamp, row_id=state.id,
            flow_run_id=iso_id(task_run.flow_run_id), name=task.name, extra=extra,
            metadata=metadata,
        )
        MEMORY.forget(run_id)
        _emit_task_failed(task_run, failure, extra, decision, spent, exhausted)
        if rows.settings().enabled and in_detached_process():
            recorder().flush(timeout=FLUSH_AT_TASK_END_S)

    # -------------------------------------------------------------- retry condition

    def retry_condition(self, user_condition: Callable[..., Any] | None = None) -> Callable[..., Any]:
        """A function for ``retry_condition_fn``: the class decides; `user_condition` may veto.

        A plain function (Prefect asks only plain functions and coroutine functions:
        ``inspect.isfunction`` in ``can_retry``), or a coroutine function when the task's
        own condition is one: Prefect then awaits it in the engine's own event loop, and
        so failtrack awaits the task's condition there too (never one after another).
        """
        tracker = self
        if user_condition is not None and inspect.iscoroutinefunction(user_condition):

            async def failtrack_async_retry_condition(task: Any, task_run: Any, state: Any) -> bool:
                asked = tracker.ask(task, task_run, state)
                if asked is None:
                    return False
                allowed = True
                if asked.asks_the_task:
                    try:
                        allowed = bool(await user_condition(task, task_run, state))
                    except Exception:
                        logger.exception("failtrack: the task's own retry_condition_fn raised; "
                                         "not retrying")
                        allowed = False
                return bool(tracker.answer(asked, vetoed=not allowed))

            return failtrack_async_retry_condition

        def failtrack_retry_condition(task: Any, task_run: Any, state: Any) -> bool:
            asked = tracker.ask(task, task_run, state)
            if asked is None:
                return False
            vetoed = (
                asked.asks_the_task and user_condition is not None
                and not _ask_user(user_condition, task, task_run, state)
            )
            return bool(tracker.answer(asked, vetoed=vetoed))

        return failtrack_retry_condition

    @guarded()
    def ask(self, task: Any, task_run: Any, state: Any) -> RetryAsk | None:
        """Classify the failure and ask the policy (before the task's own condition)."""
        clear_delay(task_run.id)
        WATCH.settle(task_run.id)  # its Running row before the AwaitingRetry one
        memory = MEMORY.run(iso_id(task_run.id))
        self._spent_before(memory, task_run)
        failure = self.failure(memory, exception_of(state), state.message)
        # An open circuit on the failure's dependency decides before the class does.
        circuit = circuits.on_retry_condition(
            self.dependency, task_run, failure.exc, failure.classification
        )
        decision = self.policy.decide(failure.classification, memory.spent)
        annotate(failure, decision)  # Prefect's span of the run is current and recording here
        return RetryAsk(task_run, task.name, memory, failure, decision, circuit)

    @guarded(default=False)
    def answer(self, asked: RetryAsk, *, vetoed: bool) -> bool:
        """Retry or not; log why; record the AwaitingRetry row when retrying."""
        task_run, memory, failure, decision, circuit = (
            asked.task_run, asked.memory, asked.failure, asked.decision, asked.circuit
        )
        if circuit is not None and circuit.give_up is not None:
            memory.failure = failure.with_classification(circuit.give_up)  # DEPENDENCY
            memory.decision_logged = True
            run_logger().error("failtrack: %s — %s\n%s", task_run.name,
                               get_redactor().redact(circuit.message), failure.logged_stack())
            return False
        if circuit is not None and circuit.wait and not vetoed:
            return self._wait_on_circuit(asked, circuit)
        if vetoed or not decision.retry:
            memory.decision_logged = True
            if vetoed:
                run_logger().error(
                    "failtrack: %s — %s, but the task's own retry_condition_fn said no\n%s",
                    task_run.name, failure.classification.describe(), failure.logged_stack(),
                )
            else:
                self.log_decision(decision, task_run.name, logging.ERROR, failure)
            return False
        memory.spent[failure.classification.error_type] += 1
        choose_delay(task_run.id, decision.delay or 0.0)
        self.log_decision(decision, task_run.name, logging.WARNING)
        now = datetime.now(UTC)
        run_id = iso_id(task_run.id)
        extra = {**failure.columns(), **rows.decision_columns(decision, now)}
        if circuit is not None:
            extra["dependency"] = circuit.dependency
        self.record(
            memory, run_kind="task", run=task_run, state_name="AwaitingRetry",
            state_type="SCHEDULED", at=now,
            row_id=rows.synthetic_id(str(run_id), "AwaitingRetry", task_run.run_count),
            flow_run_id=iso_id(task_run.flow_run_id), name=asked.task_name, extra=extra,
            metadata={"decision": decision.message, "run_name": task_run.name},
        )
        return True

    def _wait_on_circuit(self, asked: RetryAsk, circuit: circuits.CircuitVerdict) -> bool:
        """An AwaitingRetry until the circuit's next look, no class attempt spent (Prefect
        counts it among the task's retries all the same: see `prefect_failtrack.resilience`)."""
        task_run, memory, failure = asked.task_run, asked.memory, asked.failure
        now = datetime.now(UTC)
        delay = max((circuit.until - now).total_seconds(), 0.0)  # type: ignore[operator]
        choose_delay(task_run.id, delay)
        run_logger().warning("failtrack: %s — %s", task_run.name,
                             get_redactor().redact(circuit.message))
        kind = failure.classification.error_type
        extra = {
            **failure.columns(),
            "dependency": circuit.dependency,
            "retry_delay_s": round(delay, 3),
            "retries_left": max(self.policy.classes[kind].max_retries - memory.spent[kind], 0),
            "scheduled_at": circuit.until,
        }
        self.record(
            memory, run_kind="task", run=task_run, state_name="AwaitingRetry",
            state_type="SCHEDULED", at=now,
            row_id=rows.synthetic_id(str(iso_id(task_run.id)), "AwaitingRetry", task_run.run_count),
            flow_run_id=iso_id(task_run.flow_run_id), name=asked.task_name, extra=extra,
            metadata={"decision": circuit.message, "circuit_wait": circuit.waits,
                      "run_name": task_run.name},
        )
        return True

    @staticmethod
    def _spent_before(memory: RunMemory, task_run: Any) -> None:
        """An attempt that lands in a process which has not seen the run before (a Dask
        worker replaced mid-run) finds the retries already spent in the store."""
        if memory.spent_known:
            return
        memory.spent_known = True
        if memory.spent or int(task_run.run_count or 0) <= 1 or not rows.settings().enabled:
            return
        stored = recorder().spent(iso_id(task_run.id)) or {}
        for kind, count in stored.items():
            if kind in ErrorType.__members__:
                memory.spent[ErrorType(kind)] = count


def _ask_user(condition: Callable[..., Any], *args: Any) -> bool:
    """The task's own (plain) retry condition; an error in it means "no retry"."""
    try:
        return bool(condition(*args))
    except Exception:
        logger.exception("failtrack: the task's own retry_condition_fn raised; not retrying")
        return False


@guarded()
def _emit_task_failed(
    task_run: Any, failure: Failure, columns: dict[str, Any], decision: RetryDecision,
    spent: int, exhausted: bool,
) -> None:
    events.task_failed(
        task_run_id=str(task_run.id), run_name=task_run.name, classification=failure.classification,
        columns=columns, attempts=int(task_run.run_count or 1), exhausted=exhausted,
        flow_run_id=iso_id(task_run.flow_run_id), budget=decision.budget, spent=spent,
    )


# ------------------------------------------------------------------ worker processes

_quiet = False
_end_hook_lock = threading.Lock()


def _quiet_once() -> None:
    """Prefect's lines around failtrack's hooks left out in this process too (a worker
    process may never import the module that decorated the task: Ray ships functions
    by value)."""
    global _quiet
    if not _quiet:
        _quiet = True
        if rows.settings().quiet_hooks:
            quiet_hook_lines()


def _flush_at_task_end(task: Any, task_run: Any, state: Any) -> None:
    """At the end of a task run away from its flow: its Completed row, then a flush."""
    WATCH.harvest()
    recorder().flush(timeout=FLUSH_AT_TASK_END_S)


_END_HOOK = named_hook(guarded()(_flush_at_task_end), "flush_at_task_end")


def _flush_at_the_end_here(task: Any) -> None:
    """Give this process's copy of `task` a completion hook that flushes (the engine reads
    ``task.on_completion_hooks`` when the run completes, ``call_hooks``)."""
    hooks = getattr(task, "on_completion_hooks", None)
    if isinstance(hooks, list) and _END_HOOK not in hooks:
        with _end_hook_lock:
            if _END_HOOK not in hooks:
                hooks.append(_END_HOOK)
