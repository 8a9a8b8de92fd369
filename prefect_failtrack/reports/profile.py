"""One pass over the window's transitions, from which task rates, classes and durations are folded.

The transitions of the window are grouped by run kind, run name, from-state, to-state
type and class, with their counts and durations: a few hundred groups, whatever the
number of rows. Task failure rates, failures by class and the slowest states are sums
over those groups (`rates`, `durations`), so the table is read once for all three.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from ..store.models import transitions
from .scope import Scope


@dataclass(frozen=True, slots=True)
class Group:
    """Transitions of the window that share kind, name, from-state, to-state type and class."""

    run_kind: str
    name: str
    from_state: str | None
    to_state_type: str
    error_type: str | None
    count: int
    timed: int  # how many carry a duration
    total_ms: int
    max_ms: int | None


def profile(connection: Connection, scope: Scope) -> list[Group]:
    """The groups of the window's transitions (within the filters)."""
    t = transitions.c
    keys = (t.run_kind, t.name, t.from_state, t.to_state_type, t.error_type)
    duration = t.duration_in_state_ms
    query = (
        select(
            *keys,
            func.count(),
            func.count(duration),
            func.coalesce(func.sum(duration), 0),
            func.max(duration),
        )
        .where(scope.in_window(t.occurred_at), *scope.rows())
        .group_by(*keys)
    )
    return [Group(*row) for row in connection.execute(query)]
