"""Built-in knowledge: Prefect's own exceptions.

- ``UpstreamTaskError`` and ``FailedRun`` (a subflow or task whose failed state
  is read for its result) say that something this run depends on failed first:
  DEPENDENCY.
- ``CrashedRun``: the other run's process or infrastructure died (OOM-killed,
  node preempted, pod evicted); running it again on fresh infrastructure
  usually works: TRANSIENT. ``TerminationSignal`` (SIGTERM on a worker being
  scaled down) likewise.
- ``CancelledRun``: someone cancelled it; a retry would overrule them: PERMANENT.
- ``PrefectHTTPStatusError`` is an ``httpx.HTTPStatusError``: its status decides.
- The run timeouts (``timeout_seconds``) are ``TimeoutError`` subclasses defined
  in the engines, listed for clarity.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V, D = (
    ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT,
    ErrorType.VALIDATION, ErrorType.DEPENDENCY,
)

_X = "prefect.exceptions"

TYPES = {
    f"{_X}.UpstreamTaskError": D,
    f"{_X}.FailedRun": D,
    f"{_X}.CrashedRun": T,
    f"{_X}.TerminationSignal": T,
    f"{_X}.CancelledRun": P,
    f"{_X}.MissingResult": P,
    f"{_X}.ObjectNotFound": P,
    f"{_X}.ObjectAlreadyExists": P,
    f"{_X}.ObjectLimitReached": P,
    f"{_X}.ObjectUnsupported": P,
    f"{_X}.ConfigurationError": P,
    f"{_X}.MissingContextError": P,
    f"{_X}.ReservedArgumentError": P,
    f"{_X}.SerializationError": P,
    f"{_X}.InfrastructureNotFound": P,
    f"{_X}.InfrastructureNotAvailable": T,
    f"{_X}.ParameterTypeError": V,
    f"{_X}.ParameterBindError": V,
    f"{_X}.SignatureMismatchError": V,
    f"{_X}.MappingLengthMismatch": V,
    f"{_X}.MappingMissingIterable": V,
    f"{_X}.FlowRunWaitTimeout": TO,
    f"{_X}.FlowPauseTimeout": TO,
    "prefect.task_engine.TaskRunTimeoutError": TO,
    "prefect.flow_engine.FlowRunTimeoutError": TO,
}
