"""The task function behind a circuit check: a tracked task does not call a dependency whose
circuit is open.

`CircuitGuard` is what `tracked_task` hands to Prefect instead of the function. It is
"function-like" (``inspect._signature_is_functionlike``): it carries the function's own
``__code__``, ``__defaults__``, ``__kwdefaults__``, names, annotations and
``__wrapped__``. So what Prefect derives from ``task.fn`` stays the function's own (see
the design note in `prefect_failtrack.resilience`): the task key (``_generate_task_key``
hashes ``fn.__code__``), ``task_input_hash`` (``task.fn.__code__.co_code``), the source
``TaskSource`` hashes (``inspect.getsource`` unwraps), the signature, and whether the task
is async or a generator (code flags). A plain wrapping function would change the first
two for every task it wraps.

Called inside a task run, it asks the breaker about the run's dependency (declared, or
learnt from an earlier attempt's failure): open, it raises `CircuitOpen` instead of calling
(the retry condition schedules the next attempt for the half-open time); half-open, one
run gets the probe, and the probe's success closes the circuit. Outside a task run (``task.fn(...)``
called directly) it only calls the function.
"""

from __future__ import annotations

import functools
import inspect
import types
from datetime import datetime
from typing import Any

from ..classification import DependencyFailed
from .dependencies import DependencySpec
from .safety import neutral


class CircuitOpen(DependencyFailed):
    """A call not made: the dependency's circuit is open (DEPENDENCY; retried when it half-opens)."""

    def __init__(self, dependency: str, since: datetime | None, until: datetime | None) -> None:
        shown = f"{since:%Y-%m-%d %H:%M:%S} UTC" if since is not None else "a moment ago"
        super().__init__(f"circuit open for {dependency} since {shown}")
        self.dependency, self.since, self.until = dependency, since, until

    def __reduce__(self) -> tuple[Any, ...]:  # results and states are pickled by Prefect
        return (CircuitOpen, (self.dependency, self.since, self.until))


class CircuitGuard:
    """A task function that asks the dependency's circuit before each call (see the module)."""

    def __init__(self, fn: types.FunctionType, dependency: DependencySpec) -> None:
        functools.update_wrapper(self, fn)  # names, doc, annotations, __dict__, __wrapped__
        self.__code__ = fn.__code__
        self.__defaults__ = fn.__defaults__
        self.__kwdefaults__ = fn.__kwdefaults__
        # a name is tidied once here; a function is called with each run's parameters
        self.failtrack_dependency = (dependency.strip() or None) if isinstance(dependency, str) \
            else dependency

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self.__wrapped__  # type: ignore[attr-defined]
        admission = _ask(self.failtrack_dependency)
        if admission is None or admission[0] == "call":
            return fn(*args, **kwargs)
        verdict, name, run_id, circuit, until = admission
        if verdict == "wait":
            raise CircuitOpen(name, circuit.opened_at if circuit else None, until)
        ticket = (name, run_id)
        result = fn(*args, **kwargs)
        if inspect.iscoroutine(result):
            return _probe_async(result, ticket)
        _probe_succeeded(ticket)
        return result

    def __repr__(self) -> str:
        return f"<failtrack circuit guard of {self.__wrapped__!r}>"  # type: ignore[attr-defined]


def guard(fn: Any, dependency: DependencySpec) -> Any:
    """`fn` behind a `CircuitGuard`; anything but a plain function is returned as it is
    (class and static methods, callables, partials: Prefect treats them apart)."""
    if not isinstance(fn, types.FunctionType):
        return fn
    return CircuitGuard(fn, dependency)


@neutral(default=None)
def _ask(dependency: DependencySpec) -> tuple[str, str, str, Any, datetime | None] | None:
    """``(verdict, dependency, run id, circuit, until)`` for the current task run, or ``None``
    (no task run, no dependency, no breaker): see `retrying.admit`."""
    global _admit
    if _admit is None:
        from .retrying import admit

        _admit = admit
    return _admit(dependency)


_admit: Any = None


async def _probe_async(coroutine: Any, ticket: tuple[str, str]) -> Any:
    result = await coroutine
    _probe_succeeded(ticket)
    return result


@neutral()
def _probe_succeeded(ticket: tuple[str, str]) -> None:
    from .retrying import probe_succeeded

    probe_succeeded(*ticket)


__all__ = ["CircuitGuard", "CircuitOpen", "guard"]
