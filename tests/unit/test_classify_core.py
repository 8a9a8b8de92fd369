"""The classify engine: layers and their order, chains, groups, user rules, markers, and
the fields of a Classification."""

from __future__ import annotations

import logging

import httpx
import pytest

from prefect_failtrack import (
    Classification,
    DependencyFailed,
    ErrorType,
    InvalidInput,
    PermanentError,
    TimeoutExceeded,
    TransientError,
    add_rules,
    classify,
    error_type,
    mark,
)
from prefect_failtrack.classification import (
    CloudCodeRule,
    ErrnoRule,
    FunctionRule,
    HttpStatusRule,
    MessageRule,
    RuleSet,
    SqlstateRule,
    TypeRule,
    Verdict,
    clear_rules,
)
from prefect_failtrack.classification.fact_rules import CodeRule, MetadataRule
from prefect_failtrack.classification.knowledge import BUILTIN_SPECIFIC

T, P, TO, V, D, U = (
    ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION,
    ErrorType.DEPENDENCY, ErrorType.UNKNOWN,
)


class VendorError(Exception):
    """A type no built-in table knows."""


@pytest.fixture(autouse=True)
def _no_global_rules():
    clear_rules()
    yield
    clear_rules()


def chained(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        raise outer from inner
    except BaseException as exc:  # noqa: BLE001
        return exc


def http_error(status: int, headers: dict | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://api.example.test/")
    response = httpx.Response(status, request=request, headers=headers or {})
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        return exc
    raise AssertionError


# --- the Classification ---------------------------------------------------------------------

def test_fields_of_a_classification():
    result = classify(chained(RuntimeError("load failed"), ConnectionResetError("reset")))
    assert isinstance(result, Classification)
    assert result.error_type is T and result.retryable is True
    assert result.reason == "type ConnectionResetError"
    assert result.error_class == "RuntimeError"
    assert result.decided_by == "ConnectionResetError"
    assert result.retry_after is None
    assert result.describe() == "TRANSIENT (type ConnectionResetError)"


def test_retryable_follows_the_class():
    for exc, expected in [(ConnectionResetError(), True), (TimeoutError(), True),
                          (KeyError("k"), False), (ValueError(), False), (VendorError(), False)]:
        assert classify(exc).retryable is expected


def test_unknown_when_nothing_decides():
    result = classify(VendorError("something odd"))
    assert (result.error_type, result.retryable, result.reason) == (U, False, "no rule decided")
    assert result.error_class == result.decided_by == f"{__name__}.VendorError"


def test_retry_after_is_found_anywhere_in_the_chain():
    result = classify(chained(RuntimeError("sync failed"), http_error(429, {"Retry-After": "7"})))
    assert (result.error_type, result.reason, result.retry_after) == (T, "http 429", 7.0)
    assert result.decided_by == "httpx.HTTPStatusError"


# --- layer order ----------------------------------------------------------------------------

def test_specific_rules_are_asked_in_the_documented_order():
    assert [type(rule) for rule in BUILTIN_SPECIFIC.rules] == [
        CodeRule, CloudCodeRule, SqlstateRule, TypeRule, MetadataRule, TypeRule,
    ]
    library_types, base_types = BUILTIN_SPECIFIC.rules[3], BUILTIN_SPECIFIC.rules[5]
    assert (library_types.scope, base_types.scope) == ("library", "bases")


def test_most_specific_type_wins():
    rule = TypeRule({Exception: T, LookupError: P, KeyError: V})
    assert classify(KeyError("k"), rules=[rule]).error_type is V
    assert classify(IndexError("i"), rules=[rule]).reason == "type LookupError"
    assert classify(VendorError(), rules=[rule]).reason == "type Exception"


def test_specific_knowledge_deep_in_the_chain_beats_a_generic_outer_link():
    exc = chained(OSError("storage layer"), KeyError("partition"))
    result = classify(exc)
    assert (result.error_type, result.reason, result.decided_by) == (P, "type KeyError", "KeyError")


def test_outer_specific_link_beats_inner_specific_link():
    assert classify(chained(ValueError("bad row"), ConnectionResetError())).error_type is V


def test_generic_types_beat_messages():
    assert classify(OSError("invalid input everywhere")).reason == "type OSError"


def test_messages_are_the_last_resort():
    assert classify(VendorError("deadlock detected")).reason == "message 'deadlock'"
    assert classify(ValueError("deadlock detected")).reason == "type ValueError"
    # a message on an inner link loses to a type on the outer one, and wins over nothing
    assert classify(chained(KeyError("k"), VendorError("deadlock"))).error_type is P
    assert classify(chained(VendorError("x"), VendorError("deadlock"))).error_type is T


def test_explicit_rules_beat_groups_and_builtins():
    group = ExceptionGroup("batch", [FileNotFoundError("a"), ConnectionResetError("b")])
    assert classify(group).error_type is P
    rule = TypeRule({ExceptionGroup: T})
    assert classify(group, rules=[rule]).reason == "type ExceptionGroup"


# --- user rules -----------------------------------------------------------------------------

def test_user_rules_override_builtins():
    exc = ConnectionResetError("reset")
    result = classify(exc, rules=[TypeRule({"ConnectionResetError": "PERMANENT"})])
    assert (result.error_type, result.reason) == (P, "type ConnectionResetError")
    assert classify(http_error(404), rules=[HttpStatusRule({404: T})]).error_type is T
    assert classify(OSError(28, "full"), rules=[ErrnoRule({28: T})]).reason == "errno 28"


def test_per_call_rules_come_before_global_rules_and_clear_rules_forgets():
    add_rules(TypeRule({KeyError: T}))
    assert classify(KeyError("k")).error_type is T
    assert classify(KeyError("k"), rules=[TypeRule({KeyError: V})]).error_type is V
    clear_rules()
    assert classify(KeyError("k")).error_type is P


def test_plain_callables_and_composed_rules():
    def by_attribute(exc):
        return ErrorType.TRANSIENT if getattr(exc, "flaky", False) else None

    exc = VendorError("x")
    exc.flaky = True
    result = classify(exc, rules=[by_attribute])
    assert result.error_type is T and result.reason.startswith("rule ")
    named = FunctionRule(by_attribute, name="flaky flag")
    assert classify(exc, rules=[named]).reason == "flaky flag"
    composed = TypeRule({KeyError: V}) | MessageRule(r"warehouse", D, name="warehouse down")
    assert isinstance(composed, RuleSet) and len(composed) == 2
    assert classify(VendorError("warehouse offline"), rules=composed).reason == "warehouse down"
    verdict_rule = lambda e: Verdict("TIMEOUT", "custom", retry_after=9)  # noqa: E731
    result = classify(VendorError(), rules=[verdict_rule])
    assert (result.error_type, result.reason, result.retry_after) == (TO, "custom", 9)


def test_user_sqlstate_and_cloud_code_rules():
    class DriverError(Exception):
        sqlstate = "40001"

    assert classify(DriverError(), rules=[SqlstateRule({"40": P})]).error_type is P
    assert classify(DriverError()).reason == "sqlstate 40001"

    class SdkError(Exception):
        response = {"Error": {"Code": "Custom"}, "ResponseMetadata": {"HTTPStatusCode": 400}}

    assert classify(SdkError(), rules=[CloudCodeRule({"Custom": T})]).reason == "cloud code Custom"
    assert classify(SdkError()).reason == "http 400"


def test_a_rule_that_raises_is_skipped_and_logged(caplog):
    def broken(exc):
        raise RuntimeError("bug in my rule")

    with caplog.at_level(logging.WARNING, logger="prefect_failtrack.classification.engine"):
        result = classify(ConnectionResetError(), rules=[broken])
    assert (result.error_type, result.reason) == (T, "type ConnectionResetError")
    assert "failed; skipping it" in caplog.text


def test_things_that_are_not_rules_are_ignored():
    assert classify(KeyError("k"), rules=[42]).error_type is P  # type: ignore[list-item]


def test_not_an_exception():
    result = classify("oops")  # type: ignore[arg-type]
    assert (result.error_type, result.reason) == (U, "not an exception")


# --- markers, the decorator, mark() ---------------------------------------------------------

def test_marker_exceptions():
    result = classify(TransientError("flaky upstream", retry_after=5))
    assert (result.error_type, result.reason, result.retry_after) == (
        T, "carried by the exception", 5.0
    )
    assert classify(PermanentError("gone")).error_type is P
    assert classify(TimeoutExceeded("slow")).error_type is TO
    assert isinstance(TimeoutExceeded(), TimeoutError)
    assert classify(InvalidInput("bad")).error_type is V and isinstance(InvalidInput(), ValueError)
    assert classify(DependencyFailed("extract failed")).error_type is D


def test_a_marker_inside_a_chain():
    result = classify(chained(RuntimeError("wrapped"), PermanentError("quota gone")))
    assert result.error_type is P
    assert result.decided_by == "prefect_failtrack.classification.types.PermanentError"


def test_error_type_decorator():
    @error_type(ErrorType.PERMANENT)
    class QuotaGone(Exception):
        pass

    @error_type("TRANSIENT", retry_after=30)
    class WarehouseBusy(ConnectionError):
        pass

    class SubQuota(QuotaGone):
        pass

    assert classify(QuotaGone()).error_type is P
    assert classify(SubQuota()).error_type is P
    result = classify(WarehouseBusy())
    assert (result.error_type, result.retry_after) == (T, 30.0)


def test_mark():
    exc = mark(ValueError("rows not ready yet"), ErrorType.TRANSIENT, retry_after=3)
    result = classify(exc)
    assert (result.error_type, result.reason, result.retry_after) == (
        T, "carried by the exception", 3.0
    )
    delayed = mark(ConnectionResetError("reset"), retry_after=12)
    result = classify(delayed)
    assert (result.error_type, result.reason, result.retry_after) == (
        T, "type ConnectionResetError", 12.0
    )
    assert classify(mark(KeyError("k"), "DEPENDENCY")).error_type is D


def test_mark_beats_user_rules():
    exc = mark(KeyError("k"), ErrorType.TRANSIENT)
    assert classify(exc, rules=[TypeRule({KeyError: V})]).error_type is T


# --- exception groups -----------------------------------------------------------------------

def test_group_is_as_bad_as_its_worst_member():
    group = ExceptionGroup("loads", [ConnectionResetError("a"), FileNotFoundError("b"),
                                     TimeoutError("c")])
    result = classify(group)
    assert (result.error_type, result.reason) == (P, "group: type FileNotFoundError")
    assert result.error_class == "ExceptionGroup" and result.decided_by == "FileNotFoundError"


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([ConnectionResetError(), TimeoutError()], TO),
        ([ConnectionResetError(), VendorError("??")], U),
        ([VendorError("??"), DependencyFailed()], D),
        ([DependencyFailed(), ValueError()], V),
        ([ValueError(), KeyError()], P),
    ],
)
def test_group_severity_order(members, expected):
    assert classify(ExceptionGroup("g", members)).error_type is expected


def test_nested_groups_and_groups_in_chains():
    inner = ExceptionGroup("inner", [ConnectionResetError(), KeyError("k")])
    outer = ExceptionGroup("outer", [TimeoutError(), inner])
    assert classify(outer).error_type is P
    assert classify(chained(RuntimeError("flow failed"), outer)).error_type is P


def test_group_keeps_the_longest_requested_delay_of_the_worst_class():
    group = ExceptionGroup("g", [TransientError("a", retry_after=5),
                                 TransientError("b", retry_after=20)])
    assert classify(group).retry_after == 20.0


def test_user_rules_apply_to_group_members():
    group = ExceptionGroup("g", [ConnectionResetError(), VendorError("x")])
    result = classify(group, rules=[TypeRule({VendorError: T})])
    assert result.error_type is T
