"""The last-resort message patterns: each fires on the message it is meant for (as real
services and drivers word them), and stays quiet on look-alikes."""

from __future__ import annotations

import pytest

from prefect_failtrack import ErrorType, classify

T, P, TO, V, D, U = (
    ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION,
    ErrorType.DEPENDENCY, ErrorType.UNKNOWN,
)


class VendorError(Exception):
    """An exception type no table knows: only its message can decide."""


@pytest.mark.parametrize(
    ("message", "expected", "label"),
    [
        ("Rate limit exceeded, retry in 20s", T, "rate limit"),
        ("429 Too Many Requests", T, "rate limit"),
        ("Request was throttled. Expected available in 3 seconds.", T, "rate limit"),
        ("Quota exceeded for quota metric 'Queries per minute'", T, "quota exceeded"),
        ("You exceeded your current quota, please check your plan and billing details.", P,
         "quota exhausted"),
        ("HTTP Error 503: Service Unavailable", T, "server unavailable"),
        ("status code 502 from upstream proxy", T, "server unavailable"),
        ("The server is overloaded, try again later", T, "server unavailable"),
        ("HTTP 504 Gateway Time-out", TO, "gateway timeout"),
        ("ERROR: deadlock detected", T, "deadlock"),
        ("Lock wait timeout exceeded; try restarting transaction", T, "lock contention"),
        ("FATAL: sorry, too many clients already", T, "too many connections"),
        ("QueuePool limit of size 5 overflow 10 reached", T, "too many connections"),
        ("[Errno 104] Connection reset by peer", T, "connection lost"),
        ("server closed the connection unexpectedly", T, "connection lost"),
        ("upstream connect error or disconnect/reset before headers. reset reason: "
         "connection failure", T, "connection lost"),
        ("ERROR: out of memory", T, "out of memory"),
        ("[Errno 28] No space left on device", P, "disk full"),
        ("The read operation timed out", TO, "timed out"),
        ("Deadline Exceeded", TO, "timed out"),
        ("SSL: CERTIFICATE_VERIFY_FAILED certificate verify failed", P,
         "certificate verify failed"),
        ("401 Unauthorized", P, "unauthorized"),
        ("The provided access token has expired", P, "unauthorized"),
        ('duplicate key value violates unique constraint "users_pkey"', V,
         "constraint violation"),
        ("UNIQUE constraint failed: users.id", V, "constraint violation"),
        ("Table 'events' not found", P, "not found"),
        ("relation \"events\" already exists", P, "already exists"),
        ("could not parse '2024-13-01' as a date", V, "invalid input"),
        ("malformed CSV row 17", V, "invalid input"),
        ("Upstream task run 'e3a1' did not reach a 'COMPLETED' state.", D, "upstream failed"),
        ("dependency failed: extract_orders", D, "upstream failed"),
    ],
)
def test_pattern_fires(message, expected, label):
    result = classify(VendorError(message))
    assert (result.error_type, result.reason) == (expected, f"message '{label}'")


@pytest.mark.parametrize(
    "message",
    [
        "processed 503 rows",
        "the error count was 503",
        "exchange rate is limited to 4 decimals",
        "the upstream team renamed a column",
        "something odd happened",
        "",
    ],
)
def test_look_alikes_stay_unknown(message):
    result = classify(VendorError(message))
    assert (result.error_type, result.reason) == (U, "no rule decided")


def test_a_number_in_a_bad_record_is_not_a_server_error():
    assert classify(VendorError("record 503 is malformed")).error_type is V


def test_earliest_phrase_wins():
    reset_first = VendorError("connection reset by peer after the request timed out")
    assert classify(reset_first).error_type is T
    assert classify(VendorError("request timed out after connection reset")).error_type is TO


def test_only_the_first_4_kib_of_a_message_are_read():
    assert classify(VendorError("x" * 5000 + " deadlock detected")).error_type is U
