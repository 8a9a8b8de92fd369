"""Retry policies: per error class, a retry budget and a backoff; plain pydantic data.

A `RetryPolicy` answers one question for the retry bridge: given this
classification and the retries already spent on this run (per class), retry
or not, and after how long?

    >>> policy = RetryPolicy.default().override(ErrorType.TRANSIENT, max_retries=5)
    >>> policy.decide(classification, spent={ErrorType.TRANSIENT: 2}).message
    'TRANSIENT (http 503) — retry in 8.3 s (TRANSIENT budget 3/5)'
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .classification import Classification, ErrorType


class Backoff(BaseModel):
    """How long to wait before retry number ``n`` (1-based) of one class."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_retries: int = Field(default=0, ge=0, le=50, description="Retries allowed for this class.")
    initial_delay: float = Field(default=1.0, ge=0, description="Seconds before the first retry.")
    factor: float = Field(default=2.0, ge=1, description="Each retry waits this many times longer.")
    max_delay: float = Field(default=300.0, ge=0, description="No computed delay exceeds this.")
    jitter: float = Field(
        default=0.0, ge=0, le=1, description="Random spread, as a fraction of the delay (±)."
    )

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds before retry `attempt` (1 for the first retry), jitter included."""
        base = min(self.initial_delay * self.factor ** max(attempt - 1, 0), self.max_delay)
        if self.jitter and base > 0:
            spread = base * self.jitter
            base += (rng or random).uniform(-spread, spread)
        return max(min(base, self.max_delay), 0.0)


def _default_classes() -> dict[ErrorType, Backoff]:
    return {
        ErrorType.TRANSIENT: Backoff(
            max_retries=3, initial_delay=2.0, factor=2.0, max_delay=60.0, jitter=0.2
        ),
        ErrorType.TIMEOUT: Backoff(
            max_retries=1, initial_delay=10.0, factor=2.0, max_delay=120.0, jitter=0.1
        ),
        ErrorType.PERMANENT: Backoff(),
        ErrorType.VALIDATION: Backoff(),
        ErrorType.DEPENDENCY: Backoff(),
        ErrorType.UNKNOWN: Backoff(),
    }


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What the policy decided for one failure."""

    classification: Classification
    retry: bool
    delay: float | None
    attempt: int
    budget: int

    @property
    def retries_left(self) -> int:
        return max(self.budget - self.attempt, 0) if self.retry else 0

    @property
    def message(self) -> str:
        """The line shown in the run's logs, e.g. ``PERMANENT (http 404) — not retried``.

        It speaks of the class's *budget*: Prefect's own line beside it ("Retry 1/4")
        counts the retries of every class against ``task.retries``, which failtrack sets
        to the sum of the class budgets (``docs/how-to/tune-retry-policies.md``).
        """
        head = self.classification.describe()
        kind = self.classification.error_type.value
        if self.retry:
            return (
                f"{head} — retry in {self.delay or 0:.1f} s "
                f"({kind} budget {self.attempt}/{self.budget})"
            )
        if self.budget and self.attempt > self.budget:
            return f"{head} — not retried: {kind} budget spent ({self.budget}/{self.budget})"
        return f"{head} — not retried"


class RetryPolicy(BaseModel):
    """Retry budget and backoff for each error class.

    Defaults: TRANSIENT retried 3 times with exponential backoff and jitter;
    TIMEOUT once; PERMANENT, VALIDATION, DEPENDENCY and UNKNOWN not retried.
    A delay the error asks for (``Retry-After``, or one carried on the
    exception) replaces the computed one, up to `retry_after_cap` seconds.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    classes: dict[ErrorType, Backoff] = Field(default_factory=_default_classes)
    retry_after_cap: float = Field(
        default=600.0, ge=0, description="Longest delay a server's Retry-After may impose."
    )

    @model_validator(mode="after")
    def _every_class(self) -> RetryPolicy:
        missing = {kind: Backoff() for kind in ErrorType if kind not in self.classes}
        if missing:
            object.__setattr__(self, "classes", {**self.classes, **missing})
        return self

    @classmethod
    def default(cls) -> RetryPolicy:
        return cls()

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that retries nothing (record and classify only)."""
        return cls(classes={kind: Backoff() for kind in ErrorType})

    def override(self, error_type: ErrorType | str, **changes: Any) -> RetryPolicy:
        """A copy with one class's backoff changed, e.g. ``override("TRANSIENT", max_retries=5)``."""
        kind = ErrorType(error_type)
        backoff = Backoff.model_validate({**self.classes[kind].model_dump(), **changes})
        return self.model_copy(update={"classes": {**self.classes, kind: backoff}})

    @property
    def total_budget(self) -> int:
        """Retries the whole policy may spend on one run (the sum of the class budgets)."""
        return sum(backoff.max_retries for backoff in self.classes.values())

    def decide(
        self,
        classification: Classification,
        spent: Mapping[ErrorType, int] | None = None,
        rng: random.Random | None = None,
    ) -> RetryDecision:
        """Retry or not, and after how long, given the retries already spent per class."""
        kind = classification.error_type
        backoff = self.classes[kind]
        attempt = (spent or {}).get(kind, 0) + 1
        if attempt > backoff.max_retries:
            return RetryDecision(classification, False, None, attempt, backoff.max_retries)
        delay = backoff.delay(attempt, rng)
        if classification.retry_after is not None:
            delay = min(classification.retry_after, self.retry_after_cap)
        return RetryDecision(classification, True, round(delay, 3), attempt, backoff.max_retries)
