"""Failure patterns: transitions that carry an error, grouped by fingerprint.

An occurrence is any transition with a fingerprint: a failed attempt that was retried
(AwaitingRetry) as well as a final failure, of task runs and flow runs. The history
before the window (for ``first_seen``, ``is_new``, ``is_regression``) is read with the
same filters as the window.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, desc, func, or_, select

from ..store.models import transitions
from .models import Pattern
from .scope import Scope


def _occurrences(scope: Scope) -> list:
    return [transitions.c.fingerprint.is_not(None), *scope.rows()]


def top_patterns(
    connection: Connection, scope: Scope, *, top: int, quiet_period: timedelta
) -> list[Pattern]:
    """The `top` fingerprints by occurrences in the window, most first."""
    t = transitions.c
    count = func.count().label("count")
    last = func.max(t.occurred_at).label("last")
    query = (
        select(t.fingerprint, count, func.min(t.occurred_at), last)
        .where(*_occurrences(scope), scope.in_window(t.occurred_at))
        .group_by(t.fingerprint)
        .order_by(desc(count), desc(last), t.fingerprint)
        .limit(top)
    )
    window = {fp: (n, first, last) for fp, n, first, last in connection.execute(query)}
    if not window:
        return []
    fingerprints = list(window)
    before = _history(connection, scope, fingerprints)
    samples = _samples(connection, scope, {fp: v[2] for fp, v in window.items()})
    places = _places(connection, scope, fingerprints)
    patterns = []
    for fp, (n, first_in, last_in) in window.items():
        earliest, latest = before.get(fp, (None, None))
        error_type, error_class, message = samples.get(fp, (None, None, None))
        flows, tasks = places.get(fp, (set(), set()))
        patterns.append(
            Pattern(
                fingerprint=fp,
                error_type=error_type or "UNKNOWN",
                error_class=error_class or "",
                sample_message=message or "",
                count=n,
                first_seen=earliest or first_in,
                last_seen=last_in,
                flows=sorted(flows),
                tasks=sorted(tasks),
                is_new=latest is None,
                is_regression=latest is not None and first_in - latest >= quiet_period,
            )
        )
    return patterns


def _history(
    connection: Connection, scope: Scope, fingerprints: list[str]
) -> dict[str, tuple[datetime, datetime]]:
    """(first, last) occurrence before the window start, per fingerprint that has one."""
    t = transitions.c
    query = (
        select(t.fingerprint, func.min(t.occurred_at), func.max(t.occurred_at))
        .where(*_occurrences(scope), t.fingerprint.in_(fingerprints), t.occurred_at < scope.start)
        .group_by(t.fingerprint)
    )
    return {fp: (first, last) for fp, first, last in connection.execute(query)}


def _samples(
    connection: Connection, scope: Scope, last_seen: dict[str, datetime]
) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Class and message of the newest occurrence in the window, per fingerprint."""
    t = transitions.c
    newest = or_(*(and_(t.fingerprint == fp, t.occurred_at == at) for fp, at in last_seen.items()))
    query = (
        select(t.fingerprint, t.error_type, t.error_class, t.error_message)
        .where(newest, *scope.rows())
        .order_by(t.fingerprint, t.id)
    )
    samples: dict[str, tuple[str | None, str | None, str | None]] = {}
    for fp, error_type, error_class, message in connection.execute(query):
        samples.setdefault(fp, (error_type, error_class, message))
    return samples


def _places(
    connection: Connection, scope: Scope, fingerprints: list[str]
) -> dict[str, tuple[set[str], set[str]]]:
    """(flow names, task names) where each fingerprint occurred in the window."""
    t = transitions.c
    query = (
        select(t.fingerprint, t.flow_name, t.run_kind, t.name)
        .where(
            *_occurrences(scope), t.fingerprint.in_(fingerprints), scope.in_window(t.occurred_at)
        )
        .group_by(t.fingerprint, t.flow_name, t.run_kind, t.name)
    )
    places: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for fp, flow_name, run_kind, name in connection.execute(query):
        flows, tasks = places[fp]
        if flow_name is not None:
            flows.add(flow_name)
        if run_kind == "task":
            tasks.add(name)
    return places
