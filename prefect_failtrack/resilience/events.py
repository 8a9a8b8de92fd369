"""Prefect events when a circuit opens or closes, for Automations (and people) to act on.

- ``failtrack.circuit.opened``: failures on a dependency crossed its threshold;
- ``failtrack.circuit.closed``: a call succeeded after the open time (or an operator
  closed it).

The resource is the circuit, ``failtrack.circuit.<dependency>``, named after the
dependency (``prefect.resource.name``), with the dependency as a label too, so a
trigger can match one dependency or all::

    match: {"prefect.resource.id": "failtrack.circuit.*"}

Only the process whose compare-and-set changed the circuit sends the event; the event
id derives from the dependency and the circuit's trip count, so a resend is one event.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from prefect.events import emit_event

from .circuit_settings import Limits
from .safety import neutral

if TYPE_CHECKING:
    from .circuit_store import CircuitRow

OPENED = "failtrack.circuit.opened"
CLOSED = "failtrack.circuit.closed"
RESOURCE_PREFIX = "failtrack.circuit."
EVENT_ID_NAMESPACE = uuid.UUID("5b0b3c39-35f0-4c0a-8a5e-4e1f06a2d6f1")


def resource(dependency: str) -> dict[str, str]:
    return {
        "prefect.resource.id": f"{RESOURCE_PREFIX}{dependency}",
        "prefect.resource.name": dependency,
        "failtrack.dependency": dependency,
    }


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _payload(row: CircuitRow, limits: Limits) -> dict[str, Any]:
    return {
        "dependency": row.dependency,
        "since": _when(row.opened_at),
        "open_until": _when(row.open_until),
        "failures": row.failures,
        "trips": row.trips,
        "threshold": limits.threshold,
        "window_seconds": limits.window_seconds,
        "open_seconds": limits.open_seconds,
    }


@neutral()
def circuit_opened(row: CircuitRow, limits: Limits) -> None:
    emit_event(
        OPENED, resource=resource(row.dependency), payload=_payload(row, limits),
        id=uuid.uuid5(EVENT_ID_NAMESPACE, f"{row.dependency}:{OPENED}:{row.trips}"),
    )


@neutral()
def circuit_closed(row: CircuitRow, limits: Limits) -> None:
    payload = _payload(row, limits)
    payload["closed_at"] = _when(row.closed_at)
    emit_event(
        CLOSED, resource=resource(row.dependency), payload=payload,
        id=uuid.uuid5(EVENT_ID_NAMESPACE, f"{row.dependency}:{CLOSED}:{row.trips}"),
    )


__all__ = ["CLOSED", "OPENED", "RESOURCE_PREFIX", "circuit_closed", "circuit_opened", "resource"]
