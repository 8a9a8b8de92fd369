"""Google Cloud clients: google-api-core errors as ``from_http_response`` and
``from_http_status`` build them (and the leaf classes directly), google-auth errors."""

from __future__ import annotations

import json

import pytest

from prefect_failtrack import ErrorType, classify

gx = pytest.importorskip("google.api_core.exceptions")
import google.auth.exceptions as auth  # noqa: E402
import requests  # noqa: E402

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION
API = "google.api_core.exceptions"


def _response(status: int, body: dict, headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers.update({"Content-Type": "application/json", **(headers or {})})
    response.request = requests.Request("GET", "https://bigquery.googleapis.com/x").prepare()
    return response


def _error_body(status: int, reason: str | None = None) -> dict:
    details = (
        [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
          "domain": "googleapis.com"}]
        if reason else []
    )
    return {"error": {"code": status, "message": "as the API said it", "details": details}}


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        ("TooManyRequests", T), ("ResourceExhausted", T), ("ServiceUnavailable", T),
        ("InternalServerError", T), ("BadGateway", T), ("Aborted", T),
        ("GatewayTimeout", TO), ("DeadlineExceeded", TO),
        ("NotFound", P), ("PermissionDenied", P), ("Unauthenticated", P), ("Forbidden", P),
        ("AlreadyExists", P), ("FailedPrecondition", P),
        ("BadRequest", V), ("InvalidArgument", V), ("OutOfRange", V),
    ],
)
def test_leaf_types_decide(cls, expected):
    exc = getattr(gx, cls)("as the API said it")
    result = classify(exc)
    assert (result.error_type, result.reason) == (expected, f"type {API}.{cls}")


def test_types_beat_their_coarse_status():
    # AlreadyExists is HTTP 409, which alone says TRANSIENT (a conflict); FailedPrecondition
    # is HTTP 400, which alone says VALIDATION.
    assert gx.AlreadyExists.code == 409 and gx.FailedPrecondition.code == 400
    assert classify(gx.AlreadyExists("dataset exists")).error_type is P
    assert classify(gx.FailedPrecondition("bucket not empty")).error_type is P


@pytest.mark.parametrize(
    ("status", "expected"), [(500, T), (502, T), (503, T), (504, TO), (404, P), (400, V), (409, T)]
)
def test_from_http_status(status, expected):
    exc = gx.from_http_status(status, "as the API said it")
    assert classify(exc).error_type is expected


def test_retry_error_is_a_timeout():
    last = gx.ServiceUnavailable("backend busy")
    try:
        raise gx.RetryError("Timeout of 120.0s exceeded", last) from last
    except gx.RetryError as exc:
        result = classify(exc)
    assert (result.error_type, result.reason) == (TO, f"type {API}.RetryError")


def test_from_http_response_with_error_info_reason_and_retry_after():
    exc = gx.from_http_response(_response(429, _error_body(429, "RATE_LIMIT_EXCEEDED"),
                                          {"Retry-After": "12"}))
    assert type(exc) is gx.TooManyRequests and exc.reason == "RATE_LIMIT_EXCEEDED"
    result = classify(exc)
    assert (result.error_type, result.reason, result.retry_after) == (
        T, "cloud code RATE_LIMIT_EXCEEDED", 12.0
    )


def test_from_http_response_service_disabled():
    exc = gx.from_http_response(_response(403, _error_body(403, "SERVICE_DISABLED")))
    assert (classify(exc).error_type, classify(exc).reason) == (P, "cloud code SERVICE_DISABLED")


def test_from_http_response_without_reason_uses_type_then_status():
    exc = gx.from_http_response(_response(503, _error_body(503), {"Retry-After": "3"}))
    result = classify(exc)
    assert (result.error_type, result.reason, result.retry_after) == (
        T, f"type {API}.ServiceUnavailable", 3.0
    )
    teapot = gx.from_http_response(_response(418, _error_body(418)))
    assert type(teapot) is gx.GoogleAPICallError and teapot.code == 418
    assert (classify(teapot).error_type, classify(teapot).reason) == (P, "http 418")


def test_google_auth_errors():
    assert classify(auth.TransportError("token endpoint unreachable")).error_type is T
    assert classify(auth.RefreshError("invalid_grant: Token has been revoked")).error_type is P
    missing = auth.DefaultCredentialsError("Could not automatically determine credentials")
    assert classify(missing).error_type is P
