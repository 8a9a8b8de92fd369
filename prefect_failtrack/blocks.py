"""The configuration block: failtrack's settings kept in Prefect, edited in the UI.

One `FailtrackConfig` document (named ``"default"`` unless
``PREFECT_INTEGRATIONS_FAILTRACK_CONFIG_BLOCK`` says otherwise) holds what a
team shares: the audit database URL, the retry policy per class, extra
classification rules and redaction patterns, the report thresholds and the
notification block that alerts go to. Register the type with ``prefect block
register -m prefect_failtrack`` and save a document (``FailtrackConfig(...).save("default")``
or the UI); in a clone, ``python blocks/register.py`` does both.

Where each part is used:

- ``database_url``: read by `prefect_failtrack.store.database.url_from_block`
  when the setting ``PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL`` is unset.
- ``retry_policy``: decorators take it explicitly,
  ``tracked_task(policy=config.policy())``; nothing changes a policy behind
  a decorator's back.
- ``rules`` and ``redaction_patterns``: `prefect_failtrack.config.apply_config`
  (or ``config.apply()``) adds them to this process's classification and
  redaction.
- ``report_thresholds``, ``notify_block``, ``stuck_after_minutes``: the
  ``failure_report`` flow.
"""

from __future__ import annotations

import re
from typing import Literal

from prefect.blocks.core import Block
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, model_validator

from .classification import (
    CloudCodeRule,
    ErrorType,
    HttpStatusRule,
    MessageRule,
    Rule,
    RuleSet,
    SqlstateRule,
    TypeRule,
)
from .policy import RetryPolicy
from .resilience.circuit_settings import CircuitConfig

RuleKind = Literal["type", "message", "http_status", "sqlstate", "cloud_code"]
_SQLSTATE = re.compile(r"^[0-9A-Z]{2}(?:[0-9A-Z]{3})?$")


class RuleSpec(BaseModel):
    """One classification rule as data: what to match, and the class it means.

    Examples:
        ``RuleSpec(kind="http_status", match=409, error_type="TRANSIENT")``,
        ``RuleSpec(kind="type", match="snowflake.connector.errors.ProgrammingError",
        error_type="PERMANENT")``, ``RuleSpec(kind="message", match="quota exceeded",
        error_type="TRANSIENT")``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: RuleKind = Field(
        description=(
            "What is matched: an exception type (dotted name), a message pattern (regular "
            "expression, case-insensitive), an HTTP status, a SQLSTATE or a cloud error code."
        )
    )
    match: str | int = Field(
        description="The type name, pattern, status, SQLSTATE (5 or 2 characters) or code."
    )
    error_type: ErrorType = Field(description="The class a match means.")

    @model_validator(mode="after")
    def _valid_match(self) -> RuleSpec:
        match = self.match
        if self.kind == "http_status":
            status = int(match) if isinstance(match, int) or str(match).isdigit() else -1
            if not 100 <= status <= 599:
                raise ValueError(f"an http_status rule needs a status 100-599, not {match!r}")
        elif self.kind == "sqlstate":
            if not _SQLSTATE.match(str(match).upper()):
                raise ValueError(f"a sqlstate rule needs a 5- or 2-character code, not {match!r}")
        elif self.kind == "message":
            try:
                re.compile(str(match))
            except re.error as error:
                raise ValueError(f"invalid message pattern {match!r}: {error}") from error
        elif not str(match).strip():
            raise ValueError(f"a {self.kind} rule needs something to match")
        return self

    def to_rule(self) -> Rule:
        """The classification rule this spec describes."""
        match, kind = self.match, self.error_type
        if self.kind == "type":
            return TypeRule({str(match).removeprefix("builtins."): kind})
        if self.kind == "message":
            return MessageRule(str(match), kind, name=f"config message /{match}/")
        if self.kind == "http_status":
            return HttpStatusRule({int(match): kind})
        if self.kind == "sqlstate":
            return SqlstateRule({str(match).upper(): kind})
        return CloudCodeRule({str(match): kind})


class ReportThresholds(BaseModel):
    """When the failure report alerts: each crossed threshold is one alert; ``None`` disables it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    failure_rate: float | None = Field(
        default=0.25, ge=0, le=1,
        description="Alert when the share of failed flow runs in the window is above this (0-1).",
    )
    retries_exhausted: int | None = Field(
        default=5, ge=0,
        description="Alert when more runs than this failed with their retries exhausted.",
    )
    stuck_runs: int | None = Field(
        default=0, ge=0, description="Alert when more runs than this are stuck."
    )
    new_patterns: int | None = Field(
        default=0, ge=0,
        description="Alert when more failure patterns than this appeared for the first time.",
    )
    # Runs whose process is gone, and runs alive but past the stuck limit
    lost_runs: int | None = Field(
        default=0, ge=0, description="Alert when more runs than this are lost (process gone)."
    )
    slow_runs: int | None = Field(
        default=None, ge=0,
        description="Alert when more runs than this are slow (alive, past the stuck limit).",
    )
  
    dead_letters_growing: int | None = Field(
        default=0, ge=0,
        description="Alert when the dead letters grew by more than this over the window "
        "(arrived minus requeued).",
    )
    circuit_open_minutes: float | None = Field(
        default=30.0, ge=0,
        description="Alert when a circuit has been open for longer than this, in minutes.",
    )


class FailtrackConfig(Block):
    """Shared failtrack configuration: audit database, retry policy, rules, report thresholds.

    Examples:
        Load the configuration and use its retry policy and rules:
        ```python
        from prefect_failtrack.blocks import FailtrackConfig

        config = FailtrackConfig.load("BLOCK_NAME")  # e.g. FailtrackConfig.load("default")
        config.apply()  # its rules and redaction patterns, for this process
        policy = config.policy()
        ```
    """

    _block_type_name = "Failtrack Config"
    _documentation_url = HttpUrl("https://pypi.org/project/prefect-failtrack/")

    database_url: SecretStr | None = Field(
        default=None,
        title="Audit database URL",
        description=(
            "SQLAlchemy URL of the audit database (sqlite:///... or postgresql+psycopg://...); "
            "the PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL setting wins when set."
        ),
    )
    retry_policy: RetryPolicy = Field(
        default_factory=RetryPolicy.default,
        description="Retry budget and backoff per class (pass config.policy() to decorators).",
    )
    rules: list[RuleSpec] = Field(
        default_factory=list,
        description="Classification rules asked before the built-in ones, in order.",
    )
    redaction_patterns: list[str] = Field(
        default_factory=list,
        description="Extra regular expressions whose matches are redacted before storage.",
    )
    report_thresholds: ReportThresholds = Field(
        default_factory=ReportThresholds,
        description="When the failure report sends an alert.",
    )
    notify_block: str | None = Field(
        default=None,
        description=(
            "Notification block document that alerts go to, as block-type-slug/name, "
            "e.g. slack-webhook/oncall or custom-webhook/failtrack."
        ),
    )
    stuck_after_minutes: float = Field(
        default=30.0, gt=0,
        description="A run in a non-final state for longer than this counts as stuck.",
    )
    circuits: CircuitConfig = Field(
        default_factory=CircuitConfig,
        description="The circuit breaker where it differs from the settings, for every "
        "dependency and per dependency.",
    )

    @model_validator(mode="after")
    def _valid_patterns(self) -> FailtrackConfig:
        for pattern in self.redaction_patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid redaction pattern {pattern!r}: {error}") from error
        if self.notify_block is not None and "/" not in self.notify_block:
            raise ValueError(
                f"notify_block must be block-type-slug/name, e.g. 'slack-webhook/"
                f"{self.notify_block}', not {self.notify_block!r}"
            )
        return self

    def policy(self) -> RetryPolicy:
        """The retry policy, for ``tracked_task(policy=...)`` and ``tracked_flow(policy=...)``."""
        return self.retry_policy

    def classification_rules(self) -> RuleSet:
        """The configured rules, in order, as one rule set (for ``tracked_task(rules=...)``)."""
        return RuleSet(spec.to_rule() for spec in self.rules)

    def apply(self) -> None:
        """Add the rules and redaction patterns to this process (see `apply_config`)."""
        from .config import apply_config

        apply_config(self)


__all__ = ["FailtrackConfig", "ReportThresholds", "RuleSpec"]
