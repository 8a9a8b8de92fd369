"""What the circuit of a task run's dependency decides: call, wait for the half-open time, or give up.

Called from capture (the guard before a call, the retry condition and the failure hook
after one). A task run's memory here (`RunCircuit`: its dependency once known, its
circuit waits, whether it holds the probe) lives in the process that runs its attempts
(Prefect retries a task run in the same engine), and is forgotten when the run ends.

The waits (see the design note in `prefect_failtrack.resilience`): a TRANSIENT or TIMEOUT
failure on a dependency whose circuit is open, or a `CircuitOpen` from the guard, is
answered with an ``AwaitingRetry`` at the circuit's next look (its half-open time, or a
recheck while another run probes), not charged to the class. A run gives up, as
DEPENDENCY, "circuit open for <dependency> since <time>", after ``waits`` waits, or when
the next look is past ``max_wait_seconds`` from its first wait.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from prefect.context import TaskRunContext

from ..classification import Classification, ErrorType
from .breaker import CALL, get_breaker, utcnow
from .dependencies import DependencySpec, declared, dependency_of
from .guard import CircuitOpen
from .safety import neutral

if TYPE_CHECKING:
    from .circuit_store import CircuitRow

MAX_RUNS = 50_000
COUNTED = (ErrorType.TRANSIENT, ErrorType.TIMEOUT)
"""The classes that count towards opening a circuit (PERMANENT, VALIDATION... never do)."""
JITTER = 0.1
"""Waits end up to this share later (at most 2 s), so that waiting runs do not ask at once."""


@dataclass
class RunCircuit:
    """One task run, as far as its circuit is concerned."""

    dependency: str | None = None
    waits: int = 0
    first_wait: datetime | None = None
    probe: bool = False


class _Runs:
    """Bounded, thread-safe map of task run id (the UUID) -> `RunCircuit`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: OrderedDict[Any, RunCircuit] = OrderedDict()

    def peek(self, run_id: Any) -> RunCircuit | None:
        return self.runs.get(run_id)

    def get(self, run_id: Any) -> RunCircuit:
        with self.lock:
            found = self.runs.get(run_id)
            if found is None:
                found = self.runs[run_id] = RunCircuit()
                while len(self.runs) > MAX_RUNS:
                    self.runs.popitem(last=False)
            return found

    def pop(self, run_id: Any) -> RunCircuit | None:
        with self.lock:
            return self.runs.pop(run_id, None)


RUNS = _Runs()


def _parameters() -> dict[str, Any] | None:
    ctx = TaskRunContext.get()
    return ctx.parameters if ctx is not None else None


def _dependency(spec: DependencySpec, memo: RunCircuit | None, exc: BaseException | None) -> str | None:
    if memo is not None and memo.dependency is not None:
        return memo.dependency
    if isinstance(exc, CircuitOpen):
        return exc.dependency
    return declared(spec, _parameters()) or dependency_of(exc)


# ------------------------------------------------------------------ before a call


def admit(spec: DependencySpec) -> tuple[str, str, str, CircuitRow | None, datetime | None] | None:
    """For the guard: ``(verdict, dependency, run id, circuit, until)`` in a task run whose
    dependency is known and whose circuit is on; else ``None`` (call)."""
    ctx = TaskRunContext.get()
    if ctx is None or ctx.task_run is None:
        return None
    run_id = ctx.task_run.id
    memo = RUNS.runs.get(run_id)  # a read without the lock: the common case costs little
    name = memo.dependency if memo is not None else None
    if name is None:
        if spec is None:
            return None
        name = spec if type(spec) is str else declared(spec, ctx.parameters)
        if not name:
            return None
    breaker = get_breaker()
    if not breaker.enabled(name):
        return None
    admission = breaker.admit(name, run_id)
    if admission is CALL:
        return None
    if admission.verdict == "probe":
        memo = memo or RUNS.get(run_id)
        memo.dependency, memo.probe = name, True
    return admission.verdict, name, str(run_id), admission.circuit, admission.until


def probe_succeeded(dependency: str, run_id: str) -> None:
    """The probe's call returned: close the circuit."""
    get_breaker().succeeded(dependency, run_id)
    memo = RUNS.peek(_uuid(run_id))
    if memo is not None:
        memo.probe = False


def _uuid(run_id: str) -> Any:
    from uuid import UUID

    try:
        return UUID(run_id)
    except ValueError:
        return run_id


# ------------------------------------------------------------------ after a failure


@dataclass(frozen=True, slots=True)
class CircuitVerdict:
    """What the circuit says of one failure: nothing but its dependency, wait, or give up."""

    dependency: str | None
    until: datetime | None = None  # wait: the next attempt's time
    give_up: Classification | None = None  # the run fails as this (DEPENDENCY)
    message: str = ""
    waits: int = 0

    @property
    def wait(self) -> bool:
        return self.until is not None


def _since(circuit: CircuitRow | None, exc: BaseException | None) -> datetime | None:
    if isinstance(exc, CircuitOpen):
        return exc.since
    return circuit.opened_at if circuit is not None else None


def open_circuit_class(
    classification: Classification, dependency: str, since: datetime | None
) -> Classification:
    """The class of a run that gave up on an open circuit: DEPENDENCY, retryable later (a dead
    letter), with "circuit open for <dependency> since <time>" as its reason."""
    shown = f"{since:%Y-%m-%d %H:%M:%S} UTC" if since is not None else "a moment ago"
    return replace(
        classification, error_type=ErrorType.DEPENDENCY, retryable=True, retry_after=None,
        reason=f"circuit open for {dependency} since {shown}",
    )


@neutral(default=None)
def on_retry_condition(
    spec: DependencySpec, task_run: Any, exc: BaseException | None,
    classification: Classification,
) -> CircuitVerdict | None:
    """Called by the retry condition before the class decides: ``None`` when no dependency is
    known; otherwise the dependency (for the row) and, when its circuit is open, a wait or a
    give-up. Counts the failure towards the circuit (TRANSIENT/TIMEOUT only)."""
    run_id = task_run.id
    memo = RUNS.peek(run_id)
    dependency = _dependency(spec, memo, exc)
    if dependency is None:
        return None
    memo = memo or RUNS.get(run_id)
    memo.dependency = dependency
    breaker = get_breaker()
    if not breaker.enabled(dependency):
        return CircuitVerdict(dependency)
    now = utcnow()
    if isinstance(exc, CircuitOpen):
        circuit, until = None, exc.until or now
    elif classification.error_type in COUNTED:
        recorded = breaker.failed(dependency, str(run_id), _text(task_run.flow_run_id),
                                  classification.error_type.value)
        memo.probe = False  # a probe that failed has re-opened the circuit
        circuit = recorded.circuit if recorded is not None else None
        if circuit is None or not circuit.is_open():
            return CircuitVerdict(dependency)
        until = breaker.next_look(circuit, now)
    else:
        if memo.probe:  # the dependency answered, but this run cannot tell whether it works
            breaker.release(dependency, str(run_id))
            memo.probe = False
        return CircuitVerdict(dependency)
    limits = breaker.limits(dependency)
    since = _since(circuit, exc)
    started = memo.first_wait or now
    if memo.waits >= limits.waits or until > started + timedelta(seconds=limits.max_wait_seconds):
        give_up = open_circuit_class(classification, dependency, since)
        spent = f"{memo.waits} wait(s)" if memo.waits else "no wait"
        return CircuitVerdict(dependency, give_up=give_up, waits=memo.waits,
                              message=f"{give_up.reason} — gave up after {spent}")
    until += timedelta(seconds=min(random.uniform(0, JITTER) * (until - now).total_seconds(), 2.0))
    memo.waits += 1
    memo.first_wait = started
    cause = "circuit open" if isinstance(exc, CircuitOpen) else classification.describe()
    shown = f"{since:%H:%M:%S} UTC" if since is not None else "a moment ago"
    message = (f"{cause}; circuit of {dependency} open since {shown} — waiting until "
               f"{until:%H:%M:%S} UTC (circuit wait {memo.waits}/{limits.waits})")
    return CircuitVerdict(dependency, until=until, message=message, waits=memo.waits)


@neutral(default=None)
def on_final_failure(
    spec: DependencySpec, task_run: Any, exc: BaseException | None,
    classification: Classification,
) -> tuple[Classification, str | None] | None:
    """Called by the failure hook: the run's class (DEPENDENCY when it gave up on a circuit)
    and its dependency, for the Failed row; counts the failure towards the circuit (the
    retry condition was not asked when Prefect had no retry left: counting is idempotent)."""
    memo = RUNS.pop(task_run.id)
    dependency = _dependency(spec, memo, exc)
    if dependency is None:
        return None
    breaker = get_breaker()
    if not breaker.enabled(dependency):
        return classification, dependency
    if isinstance(exc, CircuitOpen):
        return open_circuit_class(classification, dependency, exc.since), dependency
    if classification.error_type in COUNTED:
        breaker.failed(dependency, str(task_run.id), _text(task_run.flow_run_id),
                       classification.error_type.value)
    elif memo is not None and memo.probe:
        breaker.release(dependency, str(task_run.id))
    return classification, dependency


@neutral()
def on_completed(task_run_id: Any) -> None:
    """A task run completed (noticed on the running task run, off the pipeline's thread): if it
    waited on a circuit, its success closes it (the guard closes it at once for the probe)."""
    memo = RUNS.pop(task_run_id)
    if memo is not None and memo.dependency is not None and (memo.waits or memo.probe):
        get_breaker().succeeded(memo.dependency, str(task_run_id))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = [
    "COUNTED",
    "RUNS",
    "CircuitVerdict",
    "admit",
    "on_completed",
    "on_final_failure",
    "on_retry_condition",
    "open_circuit_class",
    "probe_succeeded",
]
