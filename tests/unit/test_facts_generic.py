"""The generic layer on plain exceptions: each kind of metadata a library may put on its error,
read by shape (`facts.read_facts`) and judged (`fact_rules.MetadataRule`), for a library
failtrack knows nothing else about."""

from __future__ import annotations

import enum
import errno
from datetime import timedelta

import pytest

from prefect_failtrack import ErrorType, classify
from prefect_failtrack.classification.facts import EMPTY, Facts, read_facts
from prefect_failtrack.classification.text import with_facts
from tests.unit.knowledge_helpers import decision as decided

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION


class VendorError(Exception):
    """An unknown library's error: whatever it carries is set per test."""

    __module__ = "somevendor.errors"

    def __init__(self, message: str = "failed", **attributes):
        super().__init__(message)
        for name, value in attributes.items():
            setattr(self, name, value)


class Response:
    def __init__(self, status=None, status_code=None, headers=None):
        self.status, self.status_code, self.headers = status, status_code, headers or {}


class StatusCode(enum.Enum):
    """The shape of ``grpc.StatusCode``: a name, and a (number, text) value."""

    UNAVAILABLE = (14, "unavailable")
    NOT_FOUND = (5, "not found")
    DEADLINE_EXCEEDED = (4, "deadline exceeded")


# ------------------------------------------------------------------------- HTTP status

@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"status_code": 503}, (T, "http 503")),
        ({"status": 429}, (T, "http 429")),
        ({"http_status": 404}, (P, "http 404")),
        ({"code": 504}, (TO, "http 504")),  # an int in 100-599 named code
        ({"code": 422}, (V, "http 422")),
        ({"response": Response(status_code=502)}, (T, "http 502")),
        ({"response": Response(status=401)}, (P, "http 401")),
        ({"resp": Response(status=500)}, (T, "http 500")),
    ],
)
def test_http_status_under_every_name(attributes, expected):
    assert decided(VendorError(**attributes)) == expected


def test_code_outside_http_range_is_not_a_status():
    exc = VendorError(code=17)
    assert read_facts(exc).status is None
    assert classify(exc).error_type is ErrorType.UNKNOWN


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Conflict: container 'x' already exists", (P, "http 409 (exists)")),
        ('The container name "/web" is already in use', (P, "http 409 (exists)")),
        ("the object has been modified; please apply your changes to the latest version and "
         "try again", (T, "http 409 (retry)")),
        ("concurrent modification of the resource", (T, "http 409 (retry)")),
        ("conflict", (T, "http 409")),  # says neither: HTTP_STATUS's 409
    ],
)
def test_409_is_split_by_what_the_conflict_is_about(message, expected):
    assert decided(VendorError(message, status_code=409)) == expected


def test_409_reasons_count_too():
    exc = VendorError("conflict", status_code=409, error_code="ContainerAlreadyExists")
    assert classify(exc).error_type is P


# --------------------------------------------------------------- SQLSTATE, errno, gRPC

@pytest.mark.parametrize("name", ["sqlstate", "pgcode", "sql_state"])
def test_sqlstate_under_any_name(name):
    assert decided(VendorError(**{name: "40001"})) == (T, "sqlstate 40001")


def test_sqlstate_in_a_dict_in_args_as_pg8000_keeps_it():
    assert read_facts(VendorError({"S": "ERROR", "C": "57014", "M": "canceling"})).sqlstate == (
        "57014"
    )


def test_errno_on_an_exception_that_is_no_oserror():
    assert decided(VendorError(errno=errno.ECONNREFUSED)) == (T, f"errno {errno.ECONNREFUSED}")
    assert decided(VendorError(errno="ETIMEDOUT")) == (TO, f"errno {errno.ETIMEDOUT}")


def test_a_number_that_is_no_real_errno_is_not_read_as_one():
    assert read_facts(VendorError(errno=2013)).errno is None  # a MySQL number, say


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"code": lambda: StatusCode.UNAVAILABLE}, (T, "grpc UNAVAILABLE")),
        ({"code": lambda: StatusCode.DEADLINE_EXCEEDED}, (TO, "grpc DEADLINE_EXCEEDED")),
        ({"status": StatusCode.NOT_FOUND}, (P, "grpc NOT_FOUND")),
        ({"grpc_status_code": StatusCode.UNAVAILABLE}, (T, "grpc UNAVAILABLE")),
    ],
)
def test_grpc_status_codes_wherever_they_are(attributes, expected):
    assert decided(VendorError(**attributes)) == expected


# ------------------------------------------------------------------ names and reasons

@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"code": "RATE_LIMITED"}, (T, "name RATE_LIMITED")),
        ({"error_code": "ServerBusy"}, (T, "cloud code ServerBusy")),  # Azure's, exact
        ({"error_name": "DeadlineExceeded"}, (TO, "name DeadlineExceeded")),
        ({"reason": "resource-exhausted"}, (T, "name resource-exhausted")),
        ({"errors": [{"reason": "rateLimitExceeded"}], "status_code": 403},
         (T, "cloud code rateLimitExceeded")),
        ({"code": "InvalidArgument", "status_code": 503}, (V, "name InvalidArgument")),
    ],
)
def test_error_names_and_structured_reasons(attributes, expected):
    assert decided(VendorError(**attributes)) == expected


# ----------------------------------------------------------- the library's own verdict

@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"retryable": True}, (T, "retryable=True")),
        ({"retryable": False}, (P, "retryable=False")),
        ({"is_retryable": True}, (T, "is_retryable=True")),
        ({"retriable": lambda: True}, (T, "retriable()=True")),
        ({"is_transient": True}, (T, "is_transient=True")),
        ({"temporary": True}, (T, "temporary=True")),
        ({"isrecoverable": True}, (T, "isrecoverable=True")),
        ({"_error_labels": {"RetryableWriteError"}}, (T, "label RetryableWriteError")),
        ({"error_labels": ["TransientTransactionError"]}, (T, "label TransientTransactionError")),
        ({"timeout": True}, (TO, "timeout=True")),
    ],
)
def test_the_library_says_whether_to_retry(attributes, expected):
    assert decided(VendorError(**attributes)) == expected


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"retryable": True, "status_code": 504}, (TO, "retryable=True, http 504")),
        ({"retryable": True, "status_code": 400}, (T, "retryable=True")),  # it knows better
        ({"retryable": False, "status_code": 503}, (P, "retryable=False")),
        ({"retryable": False, "status_code": 422}, (V, "retryable=False, http 422")),
        ({"retryable": True, "timeout": True}, (TO, "timeout=True")),
    ],
)
def test_the_verdict_wins_the_detail_refines(attributes, expected):
    assert decided(VendorError(**attributes)) == expected


def test_a_library_verdict_beats_its_python_base_class():
    class SmtpLike(ConnectionError):  # an OSError subclass: TRANSIENT by its base alone
        __module__ = "somevendor.mail"
        retryable = False

    assert decided(SmtpLike("535 authentication failed")) == (P, "retryable=False")
    assert decided(type("Plain", (ConnectionError,), {"__module__": "x"})("reset"))[0] is T


# ------------------------------------------------------------------------------ delays

@pytest.mark.parametrize(
    ("attributes", "delay"),
    [
        ({"retry_after": 12}, 12.0),
        ({"retry_after_seconds": 3.5}, 3.5),
        ({"retry_after": timedelta(minutes=1)}, 60.0),
        ({"retry_after": "7"}, 7.0),
        ({"response": Response(status_code=429, headers={"Retry-After": "30"})}, 30.0),
        ({"response": Response(status_code=429, headers={"retry-after-ms": "1500"})}, 1.5),
        ({"headers": {"x-ms-retry-after-ms": "250"}, "status_code": 503}, 0.25),
        ({"response": Response(status_code=429, headers={
            "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "20"})}, 20.0),
    ],
)
def test_the_delay_the_library_asks_for(attributes, delay):
    exc = VendorError(status_code=429, **attributes) if "status_code" not in attributes and (
        "response" not in attributes) else VendorError(**attributes)
    assert classify(exc).retry_after == pytest.approx(delay)


def test_a_rate_limit_reset_counts_only_when_none_remain():
    headers = {"X-RateLimit-Remaining": "17", "X-RateLimit-Reset": "2000000000"}
    exc = VendorError(response=Response(status_code=404, headers=headers))
    assert classify(exc).retry_after is None


# ------------------------------------------------------------- facts kept and carried

def test_the_facts_that_decided_come_back_with_the_answer():
    exc = VendorError(status_code=503, retry_after=4)
    facts = classify(exc).facts
    assert facts == Facts(status=503, retry_after=4.0)
    assert facts.as_dict() == {"status": 503, "retry_after": 4.0}


def test_no_facts_for_a_plain_exception():
    assert read_facts(ValueError("x")) is EMPTY
    assert classify(ValueError("x")).facts is None


def test_a_rebuilt_exception_is_judged_on_its_stored_facts():
    stored = {"status": 503, "retry_after": 2.0}
    rebuilt = with_facts(RuntimeError("Server error"), stored)
    assert decided(rebuilt) == (T, "http 503")
    assert classify(rebuilt).retry_after == 2.0
    assert Facts.from_mapping({"status": "x", "labels": ["a", 3], "code": "ora-1"}) == Facts(
        labels=("a",), code="ORA-1"
    )
    assert Facts.from_mapping(["not", "a", "mapping"]) is None
