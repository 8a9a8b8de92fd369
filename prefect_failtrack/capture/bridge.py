"""The bridge to Prefect's own task retries: the class decides whether and after what delay.

What Prefect 3.8's task engine does (``prefect/task_engine.py``,
``SyncTaskRunEngine.handle_retry`` and its async twin), and what we rely on:

1. on a failure, if ``retries < task.retries``, it asks ``task.retry_condition_fn``
   — only if that is a plain function (``inspect.isfunction``) or a coroutine
   function; any other callable counts as "do not retry";
2. if the condition says yes, it reads the delay from
   ``task.retry_delay_seconds[min(retries, len(...) - 1)]`` at that moment,
   adds jitter only if ``task.retry_jitter_factor`` is set, and proposes
   ``AwaitingRetry(scheduled_time=now + delay)``; later ``Retrying``.

So the condition (a closure: a plain function, or a coroutine function when the
task's own condition is one) classifies the failure and asks the policy; the
decision's delay is kept under the task run's id, and `ClassDelays` — a list,
since ``Task.__init__`` and ``with_options`` accept only lists, numbers or
callables — hands it to the engine on the very next read, which happens in the
task run's context (``handle_retry`` runs inside ``run_context``, so
``TaskRunContext`` names the run). Keyed by run, not by thread or context: a
coroutine condition of a sync task runs in another thread
(``run_coro_as_sync`` in ``SyncTaskRunEngine.can_retry``).
"""

from __future__ import annotations

import threading
from typing import Any, SupportsIndex

from prefect.context import TaskRunContext

_chosen: dict[Any, float] = {}
_lock = threading.Lock()


class ClassDelays(list):  # type: ignore[type-arg]
    """``task.retry_delay_seconds`` that answers with the delay the policy just chose."""

    def __init__(self, fallback: float = 0.0) -> None:
        super().__init__([float(fallback)])

    def __getitem__(self, index: SupportsIndex | slice) -> Any:  # type: ignore[override]
        if _chosen and not isinstance(index, slice):
            context = TaskRunContext.get()
            if context is not None:
                with _lock:
                    chosen = _chosen.pop(context.task_run.id, None)
                if chosen is not None:
                    return chosen
        return super().__getitem__(index)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ClassDelays, (list.__getitem__(self, 0),))


def choose_delay(task_run_id: Any, delay: float) -> None:
    """Hand `delay` to the engine's next read of ``task.retry_delay_seconds`` for that run."""
    with _lock:
        _chosen[task_run_id] = delay


def clear_delay(task_run_id: Any) -> None:
    with _lock:
        _chosen.pop(task_run_id, None)
