"""Prefect's own exceptions, produced by Prefect's own code paths (states, input
resolution, parameter validation, the engines' timeout) without a server."""

from __future__ import annotations

import time

import httpx
import pytest

from prefect_failtrack import ErrorType, classify

prefect = pytest.importorskip("prefect")
from prefect import exceptions as px  # noqa: E402
from prefect.flow_engine import FlowRunTimeoutError  # noqa: E402
from prefect.states import Cancelled, Crashed, Failed  # noqa: E402
from prefect.task_engine import TaskRunTimeoutError  # noqa: E402
from prefect.utilities.callables import get_call_parameters  # noqa: E402
from prefect.utilities.engine import resolve_inputs_sync  # noqa: E402
from prefect.utilities.timeout import timeout  # noqa: E402
from tests.unit.knowledge_helpers import raised as _raised, decision as _decision

T, P, TO, V, D = (
    ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION,
    ErrorType.DEPENDENCY,
)




def test_upstream_task_failed_is_a_dependency():
    exc = _raised(resolve_inputs_sync, {"rows": Failed(message="extract failed")})
    assert type(exc) is px.UpstreamTaskError
    assert _decision(exc) == (D, "type prefect.exceptions.UpstreamTaskError")
    assert classify(exc).retryable is False


@pytest.mark.parametrize(
    ("state", "cls", "expected"),
    [
        (Failed(message="subflow failed"), px.FailedRun, D),
        (Crashed(message="Flow run infrastructure exited with status code 137."), px.CrashedRun, T),
        (Cancelled(message="Cancelled by an operator"), px.CancelledRun, P),
    ],
)
def test_results_of_other_runs(state, cls, expected):
    exc = _raised(state.result)
    assert type(exc) is cls
    assert _decision(exc) == (expected, f"type prefect.exceptions.{cls.__name__}")


@pytest.mark.parametrize("cls", [TaskRunTimeoutError, FlowRunTimeoutError])
def test_run_timeouts(cls):
    def slow():
        with timeout(seconds=0.05, timeout_exc_type=cls):
            for _ in range(200):  # short sleeps: the timeout fires between them
                time.sleep(0.01)

    exc = _raised(slow)
    assert type(exc) is cls and isinstance(exc, TimeoutError)
    assert _decision(exc) == (TO, f"type {cls.__module__}.{cls.__name__}")


def test_parameter_errors_are_validation():
    @prefect.flow
    def nightly(day: int):
        return day

    exc = _raised(nightly.validate_parameters, {"day": "not a number"})
    assert _decision(exc) == (V, "type prefect.exceptions.ParameterTypeError")
    exc = _raised(get_call_parameters, lambda day: day, (1, 2), {})
    assert _decision(exc) == (V, "type prefect.exceptions.ParameterBindError")
    exc = px.SignatureMismatchError.from_bad_params(["day"], ["day", "extra"])
    assert _decision(exc) == (V, "type prefect.exceptions.SignatureMismatchError")


def _http_error(status: int, headers: dict | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://127.0.0.1:4200/api/flow_runs/x")
    response = httpx.Response(status, request=request, headers=headers or {},
                              json={"detail": "as the API said it"})
    return _raised(response.raise_for_status)


def test_prefect_http_status_error_is_decided_by_status():
    exc = px.PrefectHTTPStatusError.from_httpx_error(_http_error(429, {"Retry-After": "7"}))
    result = classify(exc)
    assert (result.error_type, result.reason, result.retry_after) == (T, "http 429", 7.0)
    exc = px.PrefectHTTPStatusError.from_httpx_error(_http_error(503))
    assert _decision(exc) == (T, "http 503")


def test_object_not_found_from_a_404():
    http_exc = _http_error(404)
    try:
        raise px.ObjectNotFound(http_exc=http_exc) from http_exc  # as Prefect's client does
    except px.ObjectNotFound as exc:
        assert _decision(exc) == (P, "type prefect.exceptions.ObjectNotFound")


def test_other_prefect_errors():
    assert classify(px.MissingResult("State data is missing.")).error_type is P
    assert classify(px.TerminationSignal(signal=15)).error_type is T
    assert classify(px.ObjectAlreadyExists(http_exc=_http_error(409))).error_type is P
