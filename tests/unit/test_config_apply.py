"""The configuration block's rules and redaction patterns put to work in a process, and the
failure summary's wording: pure, no Prefect API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from prefect_failtrack import ErrorType, apply_config, classify, redaction
from prefect_failtrack import config as failtrack_config
from prefect_failtrack.blocks import FailtrackConfig, RuleSpec
from prefect_failtrack.capture import summary
from prefect_failtrack.classification import clear_rules


@pytest.fixture
def clean_process() -> Iterator[None]:
    """No global rules, extra patterns or applied configurations before and after."""

    def reset() -> None:
        clear_rules()
        redaction._added_patterns.clear()
        redaction.get_redactor.cache_clear()
        failtrack_config._applied.clear()

    reset()
    yield
    reset()


def http_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://api.example.com/orders")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(f"{status}", request=request, response=response)


class SnowflakeError(Exception):
    pass


class FakeClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class FakePgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("spec", "exc", "reason"),
    [
        (RuleSpec(kind="http_status", match=409, error_type="TRANSIENT"),
         http_error(409), "http 409"),
        (RuleSpec(kind="http_status", match="418", error_type="PERMANENT"),
         http_error(418), "http 418"),
        (RuleSpec(kind="message", match=r"warehouse \w+ suspended", error_type="TRANSIENT"),
         RuntimeError("Warehouse ETL suspended"), r"config message /warehouse \w+ suspended/"),
        (RuleSpec(kind="type", match=f"{__name__}.SnowflakeError", error_type="DEPENDENCY"),
         SnowflakeError("x"), f"type {__name__}.SnowflakeError"),
        (RuleSpec(kind="type", match="builtins.KeyError", error_type="VALIDATION"),
         KeyError("customer_id"), "type KeyError"),
        (RuleSpec(kind="sqlstate", match="55p03", error_type="TRANSIENT"),
         FakePgError("55P03"), "sqlstate 55P03"),
        (RuleSpec(kind="cloud_code", match="SlowDown", error_type="TRANSIENT"),
         FakeClientError("SlowDown"), "cloud code SlowDown"),
    ],
)
def test_each_rule_kind_decides_as_specified(spec: RuleSpec, exc: Exception, reason: str) -> None:
    result = classify(exc, FailtrackConfig(rules=[spec]).classification_rules())
    assert (result.error_type, result.reason) == (spec.error_type, reason)


def test_apply_config_adds_rules_and_patterns_once(clean_process: None) -> None:
    config = FailtrackConfig(
        rules=[RuleSpec(kind="http_status", match=404, error_type="TRANSIENT")],
        redaction_patterns=[r"ticket=(?P<secret>\w+)"],
    )
    assert classify(http_error(404)).error_type is ErrorType.PERMANENT  # built-in knowledge
    assert redaction.get_redactor().redact("ticket=T-1234") == "ticket=T-1234"

    apply_config(config)
    config.apply()  # the same rules and patterns again: nothing changes

    assert classify(http_error(404)).error_type is ErrorType.TRANSIENT  # ahead of the built-ins
    from prefect_failtrack.classification import engine

    assert len(engine._global_rules) == 1
    assert redaction._added_patterns == [r"ticket=(?P<secret>\w+)"]
    assert redaction.get_redactor().redact("opened ticket=abc123 for you") == (
        "opened ticket=[REDACTED] for you"
    )


def test_an_invalid_pattern_adds_nothing(clean_process: None) -> None:
    with pytest.raises(ValueError, match="invalid redaction pattern"):
        redaction.add_patterns(r"ok-\d+", "[broken")
    assert redaction._added_patterns == []


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("nightly", "failtrack-failure-summary-nightly"),
        ("Sales: EU / Daily_Load", "failtrack-failure-summary-sales-eu-daily-load"),
        ("☃", "failtrack-failure-summary-flow"),
    ],
)
def test_artifact_keys_are_what_prefect_accepts(name: str, key: str) -> None:
    from prefect.client.schemas.actions import ArtifactCreate

    assert summary.artifact_key(name) == key
    ArtifactCreate(key=key)  # validates: lowercase letters, digits, dashes


def test_every_class_has_words_for_people() -> None:
    assert set(summary.MEANING) == set(ErrorType)
