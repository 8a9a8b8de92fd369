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

So the condition (a closure: a plain function) classifies the failure and asks
the policy; the decision's delay is put in a context variable, and
`ClassDelays` — a list, since ``Task.__init__`` and ``with_options`` accept
only lists, numbers or callables — hands it to the engine on the very next
read, in the same thread or task.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, SupportsIndex

_chosen_delay: ContextVar[float | None] = ContextVar("failtrack_chosen_delay", default=None)


class ClassDelays(list):  # type: ignore[type-arg]
    """``task.retry_delay_seconds`` that answers with the delay the policy just chose."""

    def __init__(self, fallback: float = 0.0) -> None:
        super().__init__([float(fallback)])

    def __getitem__(self, index: SupportsIndex | slice) -> Any:  # type: ignore[override]
        chosen = _chosen_delay.get()
        if chosen is None or isinstance(index, slice):
            return super().__getitem__(index)
        _chosen_delay.set(None)
        return chosen

    def __reduce__(self) -> tuple[Any, ...]:
        return (ClassDelays, (list.__getitem__(self, 0),))


def choose_delay(delay: float) -> None:
    """Hand `delay` to the engine's next read of ``task.retry_delay_seconds``."""
    _chosen_delay.set(delay)


def clear_delay() -> None:
    _chosen_delay.set(None)
