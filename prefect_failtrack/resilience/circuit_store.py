"""The circuits in the audit database: each change one transaction, each transition a compare-and-set.

Every function takes a SQLAlchemy connection in a transaction (``engine.begin()``) and
the time to use (``now``, UTC: the caller's clock, so tests can move it). A function that
changes a circuit first makes sure its row exists, then locks it: ``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite the first statement is a write, which takes the
database's write lock until the transaction ends. So the read-then-decide below is safe
across processes, and the state changes are ``UPDATE ... WHERE state = ...`` as well.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..store.models import circuit_failures, circuits
from .circuit_settings import Limits


@dataclass(frozen=True, slots=True)
class CircuitRow:
    """One circuit as stored."""

    dependency: str
    state: str
    opened_at: datetime | None
    open_until: datetime | None
    probe_run_id: str | None
    probe_until: datetime | None
    failures: int
    trips: int
    last_failure_at: datetime | None
    closed_at: datetime | None

    def is_open(self) -> bool:
        return self.state == "open"

    def half_open(self, now: datetime) -> bool:
        return self.is_open() and self.open_until is not None and self.open_until <= now

    def phase(self, now: datetime) -> str:
        """``closed``, ``open`` or ``half-open``."""
        if not self.is_open():
            return "closed"
        return "half-open" if self.half_open(now) else "open"


COLUMNS = [f.name for f in fields(CircuitRow)]


def _columns() -> list[Any]:
    return [circuits.c[name] for name in COLUMNS]


def _insert(connection: Connection) -> Any:
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)


def _row(connection: Connection, dependency: str, lock: bool = False) -> CircuitRow | None:
    query = select(*_columns()).where(circuits.c.dependency == dependency)
    if lock:
        query = query.with_for_update()  # PostgreSQL; SQLite holds the write lock already
    found = connection.execute(query).first()
    return CircuitRow(*found) if found is not None else None


def read(connection: Connection, dependency: str) -> CircuitRow | None:
    """The circuit of `dependency` (``None``: never opened, so closed)."""
    return _row(connection, dependency)


def read_all(connection: Connection) -> list[CircuitRow]:
    rows = connection.execute(select(*_columns()).order_by(circuits.c.dependency))
    return [CircuitRow(*row) for row in rows]


def _locked(connection: Connection, dependency: str, now: datetime) -> CircuitRow:
    statement = _insert(connection)(circuits).values(
        dependency=dependency, state="closed", failures=0, trips=0, updated_at=now
    )
    connection.execute(statement.on_conflict_do_nothing(index_elements=["dependency"]))
    row = _row(connection, dependency, lock=True)
    assert row is not None
    return row


def failures_in_window(
    connection: Connection, dependency: str, now: datetime, window_seconds: float,
    distinct: str = "flow_run",
) -> int:
    """Distinct runs (flow runs, or task runs) with a counted failure within the window."""
    c = circuit_failures.c
    key = func.coalesce(c.flow_run_id, c.run_id) if distinct == "flow_run" else c.run_id
    return int(connection.execute(
        select(func.count(func.distinct(key))).where(
            c.dependency == dependency, c.occurred_at >= now - timedelta(seconds=window_seconds)
        )
    ).scalar() or 0)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording one failure did."""

    circuit: CircuitRow
    opened: bool  # this failure opened the circuit (the caller sends the event)
    reopened: bool  # a half-open circuit (or its probe) failed: open again


def record_failure(
    connection: Connection, dependency: str, run_id: str, flow_run_id: str | None,
    error_type: str, now: datetime, limits: Limits,
) -> Recorded:
    """Count a TRANSIENT/TIMEOUT failure of `run_id` on `dependency`; open, or re-open, the
    circuit when that is due."""
    row = _locked(connection, dependency, now)
    values = {"run_id": run_id, "flow_run_id": flow_run_id, "error_type": error_type,
              "occurred_at": now}  # fmt: skip
    upsert = _insert(connection)(circuit_failures).values(dependency=dependency, **values)
    connection.execute(upsert.on_conflict_do_update(
        index_elements=["dependency", "run_id"], set_=values
    ))
    count = failures_in_window(connection, dependency, now, limits.window_seconds, limits.distinct)
    c = circuits.c
    changes: dict[str, Any] = {"last_failure_at": now, "updated_at": now}
    opened = reopened = False
    if not row.is_open():
        if count >= limits.threshold:
            result = connection.execute(
                update(circuits)
                .where(c.dependency == dependency, c.state == "closed")
                .values(state="open", opened_at=now, failures=count, trips=c.trips + 1,
                        open_until=now + timedelta(seconds=limits.open_seconds),
                        probe_run_id=None, probe_until=None, **changes)  # fmt: skip
            )
            opened = result.rowcount == 1
    elif row.half_open(now) or row.probe_run_id == run_id:
        changes.update(open_until=now + timedelta(seconds=limits.open_seconds), failures=count,
                       probe_run_id=None, probe_until=None)  # fmt: skip
        reopened = True
    if not opened:
        connection.execute(update(circuits).where(c.dependency == dependency).values(**changes))
    _forget_old(connection, dependency, now, limits.window_seconds)
    after = _row(connection, dependency)
    assert after is not None
    return Recorded(after, opened, reopened)


def _forget_old(connection: Connection, dependency: str, now: datetime, window: float) -> None:
    """Failures that no window will count again (twice the window back: room for a change)."""
    c = circuit_failures.c
    connection.execute(delete(circuit_failures).where(
        c.dependency == dependency, c.occurred_at < now - timedelta(seconds=2 * window)
    ))


def claim_probe(
    connection: Connection, dependency: str, run_id: str, now: datetime, probe_timeout: float
) -> bool:
    """Take the probe of a half-open circuit for `run_id`: ``True`` if it now holds it."""
    c = circuits.c
    result = connection.execute(
        update(circuits)
        .where(
            c.dependency == dependency, c.state == "open", c.open_until <= now,
            or_(c.probe_run_id.is_(None), c.probe_until < now, c.probe_run_id == run_id),
        )
        .values(probe_run_id=run_id, probe_until=now + timedelta(seconds=probe_timeout),
                updated_at=now)  # fmt: skip
    )
    return result.rowcount == 1


def close(connection: Connection, dependency: str, run_id: str | None, now: datetime) -> bool:
    """Close a half-open circuit after a success of `run_id` (its probe, or any run when no
    probe is in flight); ``None`` closes it whatever its state (an operator's decision).
    ``True`` if this call closed it (the caller sends the event)."""
    c = circuits.c
    conditions = [c.dependency == dependency, c.state == "open"]
    if run_id is not None:
        conditions += [c.open_until <= now, or_(
            c.probe_run_id == run_id, c.probe_run_id.is_(None), c.probe_until < now
        )]
    result = connection.execute(
        update(circuits).where(and_(*conditions)).values(
            state="closed", closed_at=now, open_until=None, probe_run_id=None, probe_until=None,
            updated_at=now,
        )
    )
    if result.rowcount != 1:
        return False
    connection.execute(delete(circuit_failures).where(
        circuit_failures.c.dependency == dependency, circuit_failures.c.occurred_at <= now
    ))
    return True


def release_probe(connection: Connection, dependency: str, run_id: str, now: datetime) -> bool:
    """Give back the probe `run_id` holds (it ended without telling whether the dependency
    works: a PERMANENT error, a cancellation)."""
    c = circuits.c
    result = connection.execute(
        update(circuits)
        .where(c.dependency == dependency, c.probe_run_id == run_id)
        .values(probe_run_id=None, probe_until=None, updated_at=now)
    )
    return result.rowcount == 1


def open_now(connection: Connection, dependency: str, now: datetime, limits: Limits) -> bool:
    """Open the circuit by hand (an operator's decision); ``True`` if it was closed."""
    _locked(connection, dependency, now)
    c = circuits.c
    result = connection.execute(
        update(circuits).where(c.dependency == dependency, c.state == "closed").values(
            state="open", opened_at=now, open_until=now + timedelta(seconds=limits.open_seconds),
            probe_run_id=None, probe_until=None, trips=c.trips + 1, updated_at=now,
        )
    )
    return result.rowcount == 1


__all__ = [
    "CircuitRow",
    "Recorded",
    "claim_probe",
    "close",
    "failures_in_window",
    "open_now",
    "read",
    "read_all",
    "record_failure",
    "release_probe",
]
