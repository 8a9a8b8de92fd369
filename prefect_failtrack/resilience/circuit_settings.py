"""How each circuit behaves: threshold, window, open time; per dependency, with an off switch.

Plain pydantic models, imported by ``settings.py`` and ``blocks.py`` (nothing here imports
either). Where a value comes from, weakest first:

1. the built-in defaults (`CircuitDefaults`);
2. the ``circuits`` part of the ``FailtrackConfig`` block;
3. the ``PREFECT_INTEGRATIONS_FAILTRACK_CIRCUIT_*`` settings that are set;
4. the block's per-dependency entry (``circuits.dependencies["warehouse"]``);
5. the ``PREFECT_INTEGRATIONS_FAILTRACK_CIRCUITS`` setting's entry for the dependency
   (JSON: ``{"warehouse": {"threshold": 10, "open_seconds": 120}}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Distinct = Literal["flow_run", "task_run"]


class CircuitSettings(BaseModel):
    """One dependency's circuit, where it differs from the defaults (unset: the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool | None = Field(default=None, description="False: no circuit for it.")
    threshold: int | None = Field(
        default=None, ge=1, description="Distinct runs failing within the window that open it."
    )
    window_seconds: float | None = Field(
        default=None, gt=0, description="How far back failures count, in seconds."
    )
    open_seconds: float | None = Field(
        default=None, gt=0, description="How long it stays open before a probe, in seconds."
    )
    requeue_on_close: bool | None = Field(
        default=None, description="Requeue its dead letters when it closes."
    )


class CircuitDefaults(BaseModel):
    """The circuit breaker: defaults for every dependency, and entries for some."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(default=True, description="The off switch of every circuit.")
    threshold: int = Field(
        default=3, ge=1,
        description="Distinct runs failing TRANSIENT or TIMEOUT within the window that open it.",
    )
    window_seconds: float = Field(
        default=60.0, gt=0, description="How far back failures count, in seconds."
    )
    open_seconds: float = Field(
        default=30.0, gt=0, description="How long a circuit stays open before a probe, in seconds."
    )
    probe_timeout_seconds: float = Field(
        default=60.0, gt=0,
        description="A probe not heard of for this long is given to the next run that asks.",
    )
    max_wait_seconds: float = Field(
        default=600.0, ge=0,
        description="Longest a task run waits on open circuits, from its first wait, in seconds.",
    )
    waits: int = Field(
        default=10, ge=0,
        description="Circuit waits a task run may take; added to a tracked task's default retries.",
    )
    distinct: Distinct = Field(
        default="flow_run",
        description="What counts towards the threshold: distinct flow runs or task runs.",
    )
    requeue_on_close: bool = Field(
        default=False, description="Requeue a dependency's dead letters when its circuit closes."
    )
    dependencies: dict[str, CircuitSettings] = Field(
        default_factory=dict, description="Per dependency (its name), what differs."
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """One dependency's circuit, every value resolved."""

    enabled: bool
    threshold: int
    window_seconds: float
    open_seconds: float
    probe_timeout_seconds: float
    max_wait_seconds: float
    waits: int
    distinct: Distinct
    requeue_on_close: bool

    @property
    def recheck_seconds(self) -> float:
        """How long a run waits when half-open with another run's probe in flight."""
        return max(1.0, self.open_seconds / 4)


GLOBAL = ("enabled", "threshold", "window_seconds", "open_seconds", "probe_timeout_seconds",
          "max_wait_seconds", "waits", "distinct", "requeue_on_close")  # fmt: skip


def resolve(
    dependency: str,
    block: CircuitDefaults | None = None,
    overrides: Mapping[str, Any] | None = None,
    per_dependency: Mapping[str, CircuitSettings] | None = None,
) -> Limits:
    """The limits of `dependency`, from the layers of the module's documentation.

    `overrides`: the global values set in the settings (only those set); `per_dependency`:
    the settings' per-dependency entries."""
    values = (block or CircuitDefaults()).model_dump(include=set(GLOBAL))
    values.update({k: v for k, v in (overrides or {}).items() if k in GLOBAL})
    for layer in ((block.dependencies if block else {}), per_dependency or {}):
        entry = layer.get(dependency)
        if entry is not None:
            values.update(entry.model_dump(exclude_none=True))
    return Limits(**values)


__all__ = ["CircuitDefaults", "CircuitSettings", "Distinct", "Limits", "resolve"]
