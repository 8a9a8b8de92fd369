"""How each circuit behaves: threshold, window, open time; per dependency, with an off switch.

The defaults are the ``circuit_*`` settings (``settings.py``, where each is described);
`CircuitSettings` holds what differs from them, field by field (``threshold`` is
``circuit_threshold``, ``window_seconds`` is ``circuit_window``, ...; unset means "from the
layer below"). Where a value comes from, weakest first:

1. the settings' defaults;
2. the ``circuits`` part of the ``FailtrackConfig`` block (a `CircuitConfig`);
3. the ``PREFECT_INTEGRATIONS_FAILTRACK_CIRCUIT_*`` settings that are set;
4. the block's entry for the dependency (``circuits.dependencies["warehouse"]``);
5. the ``PREFECT_INTEGRATIONS_FAILTRACK_CIRCUITS`` setting's entry for the dependency
   (JSON: ``{"warehouse": {"threshold": 10, "open_seconds": 120}}``).

Plain pydantic models: ``settings.py`` and ``blocks.py`` import them, nothing here imports
either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt
from pydantic import PositiveFloat, PositiveInt

Distinct = Literal["flow_run", "task_run"]

#: The settings behind each field of `Limits` (and of `CircuitSettings`).
SETTINGS = {
    "enabled": "circuit_enabled", "threshold": "circuit_threshold",
    "window_seconds": "circuit_window", "open_seconds": "circuit_open_seconds",
    "probe_timeout_seconds": "circuit_probe_timeout", "max_wait_seconds": "circuit_max_wait",
    "waits": "circuit_waits", "distinct": "circuit_distinct",
    "requeue_on_close": "requeue_on_close",
}  # fmt: skip


class CircuitSettings(BaseModel):
    """A circuit's settings where they differ from the defaults; each field means what the
    setting of `SETTINGS` behind it means (``threshold``: ``circuit_threshold``...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool | None = None
    threshold: PositiveInt | None = None
    window_seconds: PositiveFloat | None = None
    open_seconds: PositiveFloat | None = None
    probe_timeout_seconds: PositiveFloat | None = None
    max_wait_seconds: NonNegativeFloat | None = None
    waits: NonNegativeInt | None = None
    distinct: Distinct | None = None
    requeue_on_close: bool | None = None


class CircuitConfig(CircuitSettings):
    """The block's circuits: what differs for every dependency, and per dependency."""

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

    @classmethod
    def of(cls, settings: Any, **changes: Any) -> Limits:
        """The limits the settings object `settings` sets (and `changes`)."""
        values = {name: getattr(settings, source) for name, source in SETTINGS.items()}
        return cls(**{**values, **changes})


def _set(model: CircuitSettings | None) -> dict[str, Any]:
    if model is None:
        return {}
    return model.model_dump(exclude_none=True, include=set(SETTINGS))


def resolve(
    dependency: str,
    defaults: Limits,
    block: CircuitConfig | None = None,
    overrides: Mapping[str, Any] | None = None,
    per_dependency: Mapping[str, CircuitSettings] | None = None,
) -> Limits:
    """The limits of `dependency`, from the layers of the module's documentation.

    `defaults`: the settings' defaults; `overrides`: the settings that are set (by `Limits`
    field name); `per_dependency`: the settings' per-dependency entries."""
    values = {f.name: getattr(defaults, f.name) for f in fields(Limits)}
    values.update(_set(block))
    values.update({k: v for k, v in (overrides or {}).items() if k in SETTINGS})
    values.update(_set(block.dependencies.get(dependency) if block else None))
    values.update(_set((per_dependency or {}).get(dependency)))
    return Limits(**values)


__all__ = ["SETTINGS", "CircuitConfig", "CircuitSettings", "Distinct", "Limits", "resolve"]
