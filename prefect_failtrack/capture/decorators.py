"""`tracked_task` and `tracked_flow`, and the option builders for plain ``@task`` / ``@flow``.

Both decorators accept every keyword of ``prefect.task`` / ``prefect.flow``
(``TaskOptions`` is Prefect's own TypedDict; `FlowOptions` mirrors
``Flow.__init__``, and a test keeps the two in step), plus:

- ``policy``: the `RetryPolicy` (default: `RetryPolicy.default()`);
- ``rules``: classification rules that run before the global and built-in ones;
- ``origin``: a free label such as ``"source"`` or ``"destination"``;
- ``dependency`` (tasks): what the task calls, a name or a function of the run's
  parameters; its circuit is asked before each call (``prefect_failtrack.resilience``).

Your own hooks and ``retry_condition_fn`` still run: ours come first in each
hook list, and your retry condition may veto a retry the policy allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Optional, TypedDict, Union, Unpack, overload

from prefect import Flow, Task, flow, task
from prefect.tasks import TaskOptions

from ..classification import RuleLike, RuleSet
from ..policy import RetryPolicy
from ..resilience.dependencies import DependencySpec
from ..resilience.guard import guard
from ..settings import get_settings
from .bridge import ClassDelays
from .hooklog import named_hook, quiet_hook_lines
from .tracker import Tracker


class FlowOptions(TypedDict, total=False):
    """Every keyword of ``prefect.flow`` (Prefect has no TypedDict for flows)."""

    name: Optional[str]
    version: Optional[str]
    flow_run_name: Any
    retries: Optional[int]
    retry_delay_seconds: Union[int, float, None]
    task_runner: Any
    description: Optional[str]
    timeout_seconds: Union[int, float, None]
    validate_parameters: bool
    persist_result: Optional[bool]
    result_storage: Any
    result_serializer: Any
    cache_result_in_memory: bool
    log_prints: Optional[bool]
    on_completion: Optional[list[Any]]
    on_failure: Optional[list[Any]]
    on_cancellation: Optional[list[Any]]
    on_crashed: Optional[list[Any]]
    on_running: Optional[list[Any]]


def _tracker(
    policy: RetryPolicy | None, rules: Iterable[RuleLike], origin: str | None,
    dependency: DependencySpec = None,
) -> Tracker:
    if policy is not None and not isinstance(policy, RetryPolicy):
        raise TypeError(
            f"policy must be a prefect_failtrack.RetryPolicy, got {type(policy).__name__}; "
            "build one with RetryPolicy.default().override(...)."
        )
    if dependency is not None and not (isinstance(dependency, str) or callable(dependency)):
        raise TypeError(
            f"dependency must be a name or a function of the task's parameters, got "
            f"{type(dependency).__name__}"
        )
    return Tracker(policy or RetryPolicy.default(), RuleSet(rules), origin, dependency)


def _circuit_waits() -> int | None:
    """The circuit waits a tracked task may take (None: the breaker is off). Read
    when decorating, like `_quiet_hooks`; settings that do not validate count as off."""
    try:
        settings = get_settings()
    except Exception:
        return None
    return settings.circuit_waits if settings.circuit_enabled else None


def _quiet_hooks() -> bool:
    """The setting; True when settings do not validate (decorating must never fail on them:
    that would fail the import of the user's module; the hooks report the settings later)."""
    try:
        return get_settings().quiet_hooks
    except Exception:
        return True


def _with_hooks(options: dict[str, Any], hooks: dict[str, Callable[..., Any]]) -> dict[str, Any]:
    """Ours first in each hook list, named ``failtrack_*`` (see `hooklog`)."""
    if _quiet_hooks():
        quiet_hook_lines()
    for key, hook in hooks.items():
        options[key] = [named_hook(hook, hook.__name__), *(options.get(key) or [])]
    return options


def task_options(
    *,
    policy: RetryPolicy | None = None,
    rules: Iterable[RuleLike] = (),
    origin: str | None = None,
    dependency: DependencySpec = None,
    **options: Unpack[TaskOptions],
) -> dict[str, Any]:
    """Keywords for a plain ``@task``: hooks, retry condition, budget and delays.

    ``retries`` defaults to the policy's total budget (a cap across classes;
    each class has its own), plus, for a task that names its ``dependency``,
    the circuit waits a run may take while the circuit breaker is on. If you pass ``retry_delay_seconds`` yourself,
    Prefect uses your delays and the policy decides only whether to retry.
    ``dependency`` names what the task calls; with plain ``@task`` its circuit
    schedules the retries but cannot stop a first call (`tracked_task` can).

    Examples:
        >>> @task(**task_options(origin="source", retries=4))  # doctest: +SKIP
        ... def extract(): ...
    """
    tracker = _tracker(policy, rules, origin, dependency)
    merged: dict[str, Any] = dict(options)
    if merged.get("retries") is None:
        # A task that names its dependency may wait on its circuit: each wait is one of
        # Prefect's retries (`resilience`), on top of the class budgets. Other tasks keep
        # the class budgets alone as Prefect's count ("Retries 4" on the task run's page);
        # a circuit a failure reveals then waits within them.
        waits = (_circuit_waits() or 0) if dependency is not None else 0
        merged["retries"] = tracker.policy.total_budget + waits
    if merged.get("retry_delay_seconds") is None:
        merged["retry_delay_seconds"] = ClassDelays()
    merged["retry_condition_fn"] = tracker.retry_condition(merged.get("retry_condition_fn"))
    return _with_hooks(
        merged,
        {
            # No on_completion hook: Completed is noticed on the running task run (`watch`).
            "on_running": tracker.on_task_running,
            "on_failure": tracker.on_task_failure,
        },
    )


def flow_options(
    *,
    policy: RetryPolicy | None = None,
    rules: Iterable[RuleLike] = (),
    origin: str | None = None,
    **options: Unpack[FlowOptions],
) -> dict[str, Any]:
    """Keywords for a plain ``@flow``: hooks that record its transitions and its summary.

    Class-driven flow retries need `tracked_flow`, which also wraps the flow
    function (flows have no retry condition in Prefect).
    """
    tracker = _tracker(policy, rules, origin)
    return _flow_options(tracker, dict(options))


def _flow_options(tracker: Tracker, options: dict[str, Any]) -> dict[str, Any]:
    end = tracker.on_flow_end
    return _with_hooks(
        options,
        {
            "on_running": tracker.on_flow_running,
            "on_completion": end,
            "on_failure": end,
            "on_crashed": end,
            "on_cancellation": end,
        },
    )


@overload
def tracked_task(__fn: Callable[..., Any], /) -> Task[Any, Any]: ...
@overload
def tracked_task(
    *,
    policy: RetryPolicy | None = None,
    rules: Iterable[RuleLike] = (),
    origin: str | None = None,
    dependency: DependencySpec = None,
    **options: Unpack[TaskOptions],
) -> Callable[[Callable[..., Any]], Task[Any, Any]]: ...
def tracked_task(
    __fn: Callable[..., Any] | None = None,
    /,
    *,
    policy: RetryPolicy | None = None,
    rules: Iterable[RuleLike] = (),
    origin: str | None = None,
    dependency: DependencySpec = None,
    **options: Unpack[TaskOptions],
) -> Any:
    """``@task`` whose failures are classified, retried per class, and recorded.

    With the circuit breaker on (the default), the function is called behind a circuit
    check: a run does not call a dependency whose circuit is open (`dependency` names it
    for the first call; a failure's own dependency guards the run's later attempts).

    Examples:
        >>> @tracked_task(origin="destination", retries=5, timeout_seconds=60)  # doctest: +SKIP
        ... def load(rows): ...
        >>> @tracked_task(dependency=lambda p: f"warehouse/{p['schema']}")  # doctest: +SKIP
        ... def load_schema(schema: str): ...
    """
    keywords = task_options(
        policy=policy, rules=rules, origin=origin, dependency=dependency, **options
    )
    guarded = _circuit_waits() is not None  # the breaker's off switch, read when decorating

    def decorate(fn: Callable[..., Any]) -> Task[Any, Any]:
        return task(guard(fn, dependency) if guarded else fn, **keywords)

    return decorate(__fn) if __fn is not None else decorate


@overload
def tracked_flow(__fn: Callable[..., Any], /) -> Flow[Any, Any]: ...
@overload
def tracked_flow(
    *,
    policy: RetryPolicy | None = None,
    rules: Iterable[RuleLike] = (),
    origin: str | None = None,
    **options: Unpack[FlowOptions],
) -> Callable[[Callable[..., Any]], Flow[Any, Any]]: ...
def tracked_flow(
    __fn: Callable[..., Any] | None = None,
    /,
    *,
    policy: RetryPolicy | None = None,
    rules: Iterable[RuleLike] = (),
    origin: str | None = None,
    **options: Unpack[FlowOptions],
) -> Any:
    """``@flow`` whose transitions and summary are recorded, and whose retries follow the class.

    Flow retries stay opt-in, as in Prefect: pass ``retries=N`` and the policy
    decides, within N, whether and after how long each failure is retried.
    """
    tracker = _tracker(policy, rules, origin)
    keywords = _flow_options(tracker, dict(options))

    def decorate(fn: Callable[..., Any]) -> Flow[Any, Any]:
        return flow(tracker.wrap_flow_function(fn), **keywords)

    return decorate(__fn) if __fn is not None else decorate


__all__ = ["FlowOptions", "flow_options", "task_options", "tracked_flow", "tracked_task"]
