"""What the task hooks and the flow hooks share: one decorator's policy, rules and origin, and
the hand-over of a transition to the recorder.

`TaskHooks` (``task_hooks.py``) and `FlowHooks` (``flow_hooks.py``) build on `Recording`,
as Prefect splits ``task_engine.py`` and ``flow_engine.py``; `Tracker` (``tracker.py``)
is both, one per decorated task or flow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prefect.context import FlowRunContext

from ..classification import RuleSet
from ..liveness import heartbeat
from ..policy import RetryDecision, RetryPolicy
from ..redaction import get_redactor
from ..resilience.dependencies import DependencySpec
from . import rows
from .failure import Failure
from .guard import run_logger
from .memory import RunMemory
from .watch import WATCH

_get_recorder: Callable[[], Any] | None = None
_harvested_by: Any = None


def recorder() -> Any:
    """The process-wide recorder, which harvests the watched runs' completions (`watch`).
    Its module is imported at first use only (an import statement in the hook itself
    would take the import lock on every transition); it loads no SQLAlchemy."""
    global _get_recorder, _harvested_by
    if _get_recorder is None:
        from ..store.recorder import get_recorder

        _get_recorder = get_recorder
    current = _get_recorder()
    if current is not _harvested_by:
        current.add_producer(WATCH.harvest)
        _harvested_by = current
    heartbeat.ensure_started()  # this process beats for the runs it holds (`liveness`)
    return current


def iso_id(value: Any) -> str | None:
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


def flow_context() -> tuple[str | None, Any]:
    """The name of the flow the hook runs in, and its flow run's deployment id."""
    flow_ctx = FlowRunContext.get()
    if flow_ctx is None:
        return None, None
    return getattr(flow_ctx.flow, "name", None), getattr(flow_ctx.flow_run, "deployment_id", None)


def ms_between(earlier: datetime | None, later: datetime) -> int | None:
    if earlier is None:
        return None
    # datetime's own subtraction: Prefect's timestamps are pendulum's, whose ``-`` builds an
    # Interval (about 40 µs, in the pipeline's thread, on every transition).
    delta = datetime.__sub__(later, earlier)
    if delta is NotImplemented:
        delta = later - earlier
    return max(int(delta.total_seconds() * 1000), 0)


def exception_of(state: Any) -> BaseException | None:
    """The exception behind a Failed state: its data, or the result record's value."""
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    result = getattr(data, "result", None)
    return result if isinstance(result, BaseException) else None


@dataclass(frozen=True, eq=False)
class Recording:
    """Classification, policy and recording for the runs of one decorated task or flow."""

    policy: RetryPolicy = field(default_factory=RetryPolicy.default)
    rules: RuleSet = field(default_factory=RuleSet)
    origin: str | None = None
    dependency: DependencySpec = None  # tracked_task(dependency=...): its circuit (`resilience`)

    def failure(self, memory: RunMemory, exc: BaseException | None, message: str | None) -> Failure:
        """The run's current failure, classified and formatted once per exception object
        (the retry condition and the failure hook share it)."""
        known = memory.failure
        if known is None or exc is None or known.exc is not exc:
            known = memory.failure = Failure.of(exc, self.rules, message)
        return known

    def record(
        self,
        memory: RunMemory,
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
        row is made in the recorder's thread. Only the run's memory is updated here.
        `context`: the flow's name and deployment id, when not called in the flow run's own
        context."""
        if not rows.settings().enabled:
            return
        flow_name, deployment_id = context or flow_context()
        metrics = memory.take_metrics() if take_metrics else None
        if metrics:
            metadata = {**(metadata or {}), "metrics": metrics}
        run_id = run.id
        from_state, since = memory.last_state, memory.last_at
        memory.last_state, memory.last_at = state_name, at
        recorder().record_transition(rows.pending_transition(
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
            duration_ms=ms_between(since, at),
            run_count=run_count if run_count is not None else int(run.run_count or 0),
            origin=self.origin,
            tags=tuple(getattr(run, "tags", None) or ()),
            metadata=metadata or {},
            **(extra or {}),
        ))

    def log_decision(
        self, decision: RetryDecision, name: str, level: int, failure: Failure | None = None,
        log: Any = None,
    ) -> None:
        """failtrack's decision in the run's logs (redacted: the reason can quote the
        message, and the logs are stored), with the traceback when `failure` is given:
        where failtrack declines a retry, Prefect logs none (``handle_retry``)."""
        redact = get_redactor().redact
        line = f"failtrack: {redact(name)} — {redact(decision.message)}"
        stack = failure.logged_stack() if failure is not None else ""
        (log or run_logger()).log(
            level, "%s\n%s" if stack else "%s", line, *((stack,) if stack else ())
        )


__all__ = [
    "Recording",
    "exception_of",
    "flow_context",
    "iso_id",
    "ms_between",
    "recorder",
]
