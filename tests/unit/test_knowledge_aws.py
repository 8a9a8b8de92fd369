"""AWS through botocore: a real S3 client (stubbed responses, or an endpoint on port 1),
and ClientErrors built from error responses as botocore builds them."""

from __future__ import annotations

import pytest

from prefect_failtrack import ErrorType, classify

botocore = pytest.importorskip("botocore")
import botocore.config  # noqa: E402
import botocore.exceptions as bx  # noqa: E402
import botocore.session  # noqa: E402
from botocore.stub import Stubber  # noqa: E402
from tests.unit.knowledge_helpers import raised as _raised

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION


def client_error(code: str, status: int, headers: dict | None = None) -> bx.ClientError:
    return bx.ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {
                "RequestId": "EXAMPLE", "HTTPStatusCode": status, "HTTPHeaders": headers or {},
                "RetryAttempts": 0,
            },
        },
        operation_name="GetObject",
    )


def _s3(endpoint_url: str | None = None, **config):
    session = botocore.session.get_session()
    return session.create_client(
        "s3", region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="secret", endpoint_url=endpoint_url,
        config=botocore.config.Config(**config),
    )



@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("Throttling", 400, T), ("ThrottlingException", 400, T), ("ThrottledException", 400, T),
        ("RequestThrottled", 400, T), ("TooManyRequestsException", 429, T),
        ("ProvisionedThroughputExceededException", 400, T), ("RequestLimitExceeded", 503, T),
        ("SlowDown", 503, T), ("TransactionInProgressException", 400, T),
        ("RequestTimeout", 400, TO), ("RequestTimeoutException", 408, TO),
        ("InternalError", 500, T), ("InternalFailure", 500, T), ("ServiceUnavailable", 503, T),
        ("ServiceUnavailableException", 503, T),
        ("AccessDenied", 403, P), ("AccessDeniedException", 400, P),
        ("UnauthorizedOperation", 403, P), ("InvalidClientTokenId", 403, P),
        ("ExpiredToken", 400, P), ("ExpiredTokenException", 400, P),
        ("NoSuchBucket", 404, P), ("NoSuchKey", 404, P), ("ResourceNotFoundException", 400, P),
        ("ValidationException", 400, V), ("InvalidParameterValue", 400, V),
        ("MalformedPolicyDocument", 400, V),
    ],
)
def test_error_codes_decide_before_status(code, status, expected):
    result = classify(client_error(code, status))
    assert (result.error_type, result.reason) == (expected, f"cloud code {code}")
    assert result.decided_by == "botocore.exceptions.ClientError"


def test_throttling_on_http_400_is_transient_not_validation():
    result = classify(client_error("ThrottlingException", 400))
    assert result.error_type is T and result.retryable


def test_unknown_code_falls_back_to_the_status():
    assert (classify(client_error("SomethingNew", 503)).reason) == "http 503"
    assert classify(client_error("SomethingNew", 400)).error_type is V
    assert classify(client_error("SomethingNew", 404)).error_type is P


def test_retry_after_header_of_a_client_error():
    result = classify(client_error("SlowDown", 503, {"retry-after": "5"}))
    assert (result.error_type, result.retry_after) == (T, 5.0)


def test_stubbed_s3_client_raises_the_modeled_error_class():
    s3 = _s3()
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", service_error_code="SlowDown", http_status_code=503,
                              service_message="Please reduce your request rate.")
        stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
        slow = _raised(s3.get_object, Bucket="b", Key="k")
        missing = _raised(s3.get_object, Bucket="b", Key="k")
    assert isinstance(slow, bx.ClientError)
    assert (classify(slow).error_type, classify(slow).reason) == (T, "cloud code SlowDown")
    assert type(missing) is s3.exceptions.NoSuchKey  # botocore.errorfactory class
    assert (classify(missing).error_type, classify(missing).reason) == (P, "cloud code NoSuchKey")


def test_param_validation_is_validation():
    exc = _raised(_s3().get_object, Bucket="b", Key=123)
    assert type(exc) is bx.ParamValidationError
    assert (classify(exc).error_type, classify(exc).reason) == (
        V, "type botocore.exceptions.ParamValidationError"
    )


def test_endpoint_connection_refused_is_transient():
    s3 = _s3(endpoint_url="http://127.0.0.1:1", retries={"max_attempts": 1},
             connect_timeout=5)
    exc = _raised(s3.list_buckets)
    assert type(exc) is bx.EndpointConnectionError
    assert (classify(exc).error_type, classify(exc).reason) == (
        T, "type botocore.exceptions.ConnectionError"
    )


def test_transport_errors_as_botocore_raises_them():
    url = "https://s3.us-east-1.amazonaws.com/b/k"
    assert (classify(bx.ConnectTimeoutError(endpoint_url=url)).reason) == (
        "type botocore.exceptions.ConnectTimeoutError"
    )
    assert classify(bx.ConnectTimeoutError(endpoint_url=url)).error_type is TO
    assert classify(bx.ReadTimeoutError(endpoint_url=url)).error_type is TO
    assert classify(bx.ConnectionClosedError(endpoint_url=url)).error_type is T


def test_credentials_errors_are_permanent():
    assert (classify(bx.NoCredentialsError()).error_type) is P
    partial = bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY")
    assert classify(partial).error_type is P
    assert classify(bx.NoRegionError()).error_type is P


def test_waiter_error():
    timed_out = bx.WaiterError(name="ObjectExists", reason="Max attempts exceeded",
                               last_response={})
    assert classify(timed_out).error_type is TO
    failed = bx.WaiterError(name="StackCreateComplete",
                            reason="Waiter encountered a terminal failure state", last_response={})
    assert classify(failed).error_type is P
