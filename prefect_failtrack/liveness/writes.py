"""Heartbeat rows into the tables: idempotent, in any order, on SQLite and PostgreSQL.

A heartbeat row (`heartbeat.Heartbeat.beat_row`) becomes, in the caller's transaction:

- one upsert of its process in ``failtrack_processes``, the newest beat winning;
- an insert of each run taken up in ``failtrack_heartbeats`` (a run another process held
  before is taken over if this beat is newer; the same process again changes nothing);
- an update of the progress that changed (the newest progress winning);
- a delete of the runs let go of, if this process still holds them.

So a beat stored twice (a replayed spool) or late changes nothing it should not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from ..store.models import heartbeats, processes

PROCESS_COLUMNS = (
    "process_key", "host", "pid", "boot_id", "pid_namespace", "process_started", "interval_s",
)  # fmt: skip


def write_heartbeats(connection: Connection, beats: Sequence[dict[str, Any]]) -> None:
    """Store heartbeat rows (as submitted, or read back from the spool)."""
    if not beats:
        return
    ordered = sorted(beats, key=lambda b: _time(b["beat_at"]))
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    _processes(connection, insert, ordered)
    _enter(connection, insert, ordered)
    _progress(connection, ordered)
    _release(connection, ordered)


def _processes(connection: Connection, insert: Any, beats: list[dict[str, Any]]) -> None:
    first: dict[str, datetime] = {}
    newest: dict[str, dict[str, Any]] = {}
    for beat in beats:
        key = beat["process_key"]
        at = _time(beat["beat_at"])
        first.setdefault(key, at)
        newest[key] = {
            **{name: beat.get(name) for name in PROCESS_COLUMNS},
            "first_beat": first[key],
            "last_beat": at,
            "held": int(beat.get("held") or 0),
        }
    statement = insert(processes)
    statement = statement.on_conflict_do_update(
        index_elements=[processes.c.process_key],
        set_={
            "last_beat": statement.excluded.last_beat,
            "held": statement.excluded.held,
            "interval_s": statement.excluded.interval_s,
        },
        where=processes.c.last_beat <= statement.excluded.last_beat,
    )
    connection.execute(statement, [newest[key] for key in sorted(newest)])


def _enter(connection: Connection, insert: Any, beats: list[dict[str, Any]]) -> None:
    runs: dict[str, dict[str, Any]] = {}
    for beat in beats:
        at = _time(beat["beat_at"])
        for entry in beat.get("enter") or ():
            runs[str(entry["run_id"])] = {
                "run_id": str(entry["run_id"]),
                "run_kind": entry["run_kind"],
                "flow_run_id": entry.get("flow_run_id"),
                "name": entry["name"],
                "flow_name": entry.get("flow_name"),
                "process_key": beat["process_key"],
                "since": at,
                "changed_at": at,
                "progress": None,
                "progress_at": None,
            }
    if not runs:
        return
    statement = insert(heartbeats)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[heartbeats.c.run_id],
        set_={name: getattr(new, name) for name in runs[next(iter(runs))] if name != "run_id"},
        where=and_(
            heartbeats.c.process_key != new.process_key,
            heartbeats.c.changed_at <= new.changed_at,
        ),
    )
    connection.execute(statement, [runs[run_id] for run_id in sorted(runs)])


def _progress(connection: Connection, beats: list[dict[str, Any]]) -> None:
    changes: dict[str, dict[str, Any]] = {}
    for beat in beats:
        for entry in beat.get("progress") or ():
            changes[str(entry["run_id"])] = {
                "key": beat["process_key"],
                "run": str(entry["run_id"]),
                "value": {"rows": entry.get("rows"), "message": entry.get("message")},
                "at": _time(entry["at"]),
            }
    if not changes:
        return
    h = heartbeats.c
    statement = (
        update(heartbeats)
        .where(
            h.run_id == bindparam("run"),
            h.process_key == bindparam("key"),
            or_(h.progress_at.is_(None), h.progress_at <= bindparam("at")),
        )
        .values(progress=bindparam("value"), progress_at=bindparam("at"))
    )
    connection.execute(statement, [changes[run_id] for run_id in sorted(changes)])


def _release(connection: Connection, beats: list[dict[str, Any]]) -> None:
    by_process: dict[str, set[str]] = {}
    for beat in beats:
        released = beat.get("release") or ()
        if released:
            by_process.setdefault(beat["process_key"], set()).update(map(str, released))
    for key, run_ids in sorted(by_process.items()):
        ordered = sorted(run_ids)
        for start in range(0, len(ordered), 500):
            connection.execute(
                delete(heartbeats).where(
                    heartbeats.c.process_key == key,
                    heartbeats.c.run_id.in_(ordered[start : start + 500]),
                )
            )


def _time(value: datetime | str) -> datetime:
    """A timestamp as submitted (aware) or as the spool keeps it (ISO text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
