"""Tracked rows win over observed ones: the same transition, told twice.

The collector records runs failtrack does not track from Prefect's own state events
(``capture = 'observed'``); when failtrack's hooks later write a row for the same
transition (the same state id, or the same natural key run/state/run count), the
observed row is deleted first and the tracked one goes in as any other. Where nothing is
observed, this costs one probe of the partial index of observed rows per batch.

Driver-level SQL (`driver.Driver`): both write paths use it, SQLAlchemy's (`writes`) and
the recorder's own (`direct`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .columns import OBSERVED, TRACKED, TRANSITIONS
from .driver import Driver

CHUNK = 200
"""Runs per statement (each row binds four values: SQLite's limit is far off)."""


def replace_observed(driver: Driver, rows: Sequence[dict[str, Any]]) -> None:
    """Delete the observed rows these tracked rows stand for (same id or natural key)."""
    tracked = [r for r in rows if (r.get("capture") or TRACKED) != OBSERVED]
    if not tracked:
        return
    probe = f"SELECT id FROM {TRANSITIONS} WHERE capture = '{OBSERVED}' LIMIT 1"
    if not driver.query(probe):
        return
    by_run: dict[str, list[dict[str, Any]]] = {}
    for row in tracked:
        by_run.setdefault(str(row.get("run_id")), []).append(row)
    run_ids = sorted(by_run)
    mark = driver.placeholder
    for first in range(0, len(run_ids), CHUNK):
        chunk = run_ids[first : first + CHUNK]
        mine = [row for run_id in chunk for row in by_run[run_id]]
        ids = [str(r.get("id")) for r in mine]
        keys = [
            (str(r.get("run_id")), str(r.get("to_state")), int(r.get("run_count") or 0))
            for r in mine
        ]
        sql = (
            f"DELETE FROM {TRANSITIONS} WHERE capture = '{OBSERVED}' "
            f"AND run_id IN ({driver.marks(len(chunk))}) AND (id IN ({driver.marks(len(ids))}) "
            f"OR (run_id, to_state, run_count) IN "
            f"({', '.join(f'({mark}, {mark}, {mark})' for _ in keys)}))"
        )
        driver.execute(sql, [*chunk, *ids, *(value for key in keys for value in key)])
