"""Heartbeat rows into the tables: idempotent, in any order, on SQLite and PostgreSQL.

A heartbeat row (`heartbeat.Heartbeat.beat_row`) becomes, in the caller's transaction:

- one upsert of its process in ``failtrack_processes``, the newest beat winning;
- an insert of each run taken up in ``failtrack_heartbeats`` (a run another process held
  before is taken over if this beat is newer; the same process again changes nothing);
- an update of the progress that changed (the newest progress winning);
- a delete of the runs let go of, if this process still holds them.

So a beat stored twice (a replayed spool) or late changes nothing it should not.

Driver-level SQL (`prefect_failtrack.store.driver`), as the summaries: the recorder's own
path writes beats without SQLAlchemy (a flow-run process that beats loads none), and the
SQLAlchemy path (the collector, replays through it) runs the same statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ..store.driver import Driver

PROCESSES = "failtrack_processes"
HEARTBEATS = "failtrack_heartbeats"
PROCESS_COLUMNS = (
    "process_key", "host", "pid", "boot_id", "pid_namespace", "process_started", "interval_s",
)  # fmt: skip
HEARTBEAT_COLUMNS = (
    "run_id", "run_kind", "flow_run_id", "name", "flow_name", "process_key", "since",
    "changed_at", "progress", "progress_at",
)  # fmt: skip


def write_heartbeats(driver: Driver, beats: Sequence[dict[str, Any]]) -> None:
    """Store heartbeat rows (as submitted, or read back from the spool)."""
    if not beats:
        return
    ordered = sorted(beats, key=lambda b: _time(b["beat_at"]))
    _processes(driver, ordered)
    _enter(driver, ordered)
    _progress(driver, ordered)
    _release(driver, ordered)


def _upsert(driver: Driver, table: str, columns: Sequence[str], key: str, updates: Sequence[str],
            where: str, rows: Sequence[dict[str, Any]]) -> None:
    names = ", ".join(columns)
    sets = ", ".join(f"{name} = excluded.{name}" for name in updates)
    sql = (
        f"INSERT INTO {table} ({names}) VALUES ({driver.marks(len(columns))}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {where}"
    )
    driver.executemany(sql, ([driver.encode(c, row[c]) for c in columns] for row in rows))


def _processes(driver: Driver, beats: list[dict[str, Any]]) -> None:
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
    columns = (*PROCESS_COLUMNS, "first_beat", "last_beat", "held")
    _upsert(driver, PROCESSES, columns, "process_key", ("last_beat", "held", "interval_s"),
            f"{PROCESSES}.last_beat <= excluded.last_beat",
            [newest[key] for key in sorted(newest)])


def _enter(driver: Driver, beats: list[dict[str, Any]]) -> None:
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
    if runs:
        _upsert(driver, HEARTBEATS, HEARTBEAT_COLUMNS, "run_id", HEARTBEAT_COLUMNS[1:],
                f"{HEARTBEATS}.process_key <> excluded.process_key "
                f"AND {HEARTBEATS}.changed_at <= excluded.changed_at",
                [runs[run_id] for run_id in sorted(runs)])


def _progress(driver: Driver, beats: list[dict[str, Any]]) -> None:
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
    m = driver.placeholder
    sql = (
        f"UPDATE {HEARTBEATS} SET progress = {m}, progress_at = {m} WHERE run_id = {m} "
        f"AND process_key = {m} AND (progress_at IS NULL OR progress_at <= {m})"
    )
    driver.executemany(sql, (
        [driver.encode("progress", c["value"]), driver.encode("progress_at", c["at"]), c["run"],
         c["key"], driver.encode("progress_at", c["at"])]
        for c in (changes[run_id] for run_id in sorted(changes))
    ))


def _release(driver: Driver, beats: list[dict[str, Any]]) -> None:
    by_process: dict[str, set[str]] = {}
    for beat in beats:
        released = beat.get("release") or ()
        if released:
            by_process.setdefault(beat["process_key"], set()).update(map(str, released))
    for key, run_ids in sorted(by_process.items()):
        ordered = sorted(run_ids)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            driver.execute(
                f"DELETE FROM {HEARTBEATS} WHERE process_key = {driver.placeholder} "
                f"AND run_id IN ({driver.marks(len(chunk))})",
                [key, *chunk],
            )


def _time(value: datetime | str) -> datetime:
    """A timestamp as submitted (aware) or as the spool keeps it (ISO text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
