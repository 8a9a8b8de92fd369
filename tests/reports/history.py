"""A known audit history, written row by row, whose every report figure is worked out by hand.

The report window is the 24 hours before ``END``. Flow runs (``a*`` = when each starts):

=====  =======  ========  =====================================================================
run    flow     starts    what happens
=====  =======  ========  =====================================================================
F1     nightly  END-10h   extract retried once (TRANSIENT) and recovers; load fails PERMANENT;
                          the flow fails with a fingerprint of its own. Partial success.
F2     nightly  END-5h    extract retried twice (TRANSIENT), exhausted; load completes.
F3     hourly   END-3h    extract completes; validate awaits a TIMEOUT retry (in flight);
                          publish fails UNKNOWN (fingerprint last seen 20 days ago).
F4     hourly   END-2h    the flow and its extract went Running and never moved: stuck.
F5     nightly  END-20m   running for 20 minutes: not stuck yet.
F6     nightly  END-40h   before the window: load fails PERMANENT (same fingerprint as F1's).
F7     hourly   END-20d   long before: publish fails UNKNOWN (F3's fingerprint).
F8     hourly   END-1h    load crashes (no class), cleanup is cancelled; the flow crashes.
F9     nightly  END-90m   extract and load complete; the flow completes.
EDGE1  nightly  -         a summary only, ended exactly at the window start (inside).
EDGE2  nightly  -         a summary only, ended exactly at the window end (outside).
=====  =======  ========  =====================================================================

nightly: deployment ``dep-1``, tags ``prod``, ``etl``; hourly: ``dep-2``, tags ``dev``,
``ünï%_x``. extract rows have origin ``source``, load rows ``destination``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from prefect_failtrack.store.writes import insert_summaries, insert_transitions

END = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
START = END - timedelta(hours=24)
S = timedelta(seconds=1)

FLOWS = {
    "nightly": {"deployment_id": "dep-1", "tags": ["etl", "prod"]},
    "hourly": {"deployment_id": "dep-2", "tags": ["dev", "ünï%_x"]},
}
ORIGINS = {"extract": "source", "load": "destination"}
TERMINAL = {
    "Completed": "COMPLETED",
    "Failed": "FAILED",
    "TimedOut": "FAILED",
    "Crashed": "CRASHED",
    "Cancelled": "CANCELLED",
}


def error(error_type: str, error_class: str, message: str, fp: str) -> dict[str, Any]:
    return {
        "error_type": error_type,
        "error_class": error_class,
        "error_message": message,
        "fingerprint": fp,
        "stack_trace": "Traceback ...",
        "reason": f"type {error_class}",
    }


@dataclass
class Run:
    """One task or flow run; each call appends a transition with the right from-state and duration."""

    history: History
    run_kind: str
    name: str
    flow_run_id: str
    flow_name: str
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: str = "Pending"
    at: datetime | None = None
    run_count: int = 0

    def go(self, to_state: str, to_type: str, at: datetime, **extra: Any) -> Run:
        if to_type == "RUNNING":
            self.run_count += 1
        self.history.rows.append(
            {
                "id": str(uuid.uuid4()),
                "run_kind": self.run_kind,
                "run_id": self.run_id,
                "flow_run_id": self.flow_run_id,
                "task_run_id": self.run_id if self.run_kind == "task" else None,
                "name": self.name,
                "flow_name": self.flow_name,
                "from_state": self.state,
                "to_state": to_state,
                "to_state_type": to_type,
                "occurred_at": at,
                "run_count": self.run_count,
                "duration_in_state_ms": int((at - self.at) / timedelta(milliseconds=1))
                if self.at
                else None,
                "origin": ORIGINS.get(self.name) if self.run_kind == "task" else None,
                **FLOWS[self.flow_name],
                **extra,
            }
        )
        self.state, self.at = to_state, at
        return self

    def running(self, at: datetime) -> Run:
        return self.go("Running", "RUNNING", at)

    def retrying(self, at: datetime) -> Run:
        return self.go("Retrying", "RUNNING", at)

    def awaiting(self, at: datetime, delay: float, **failure: Any) -> Run:
        return self.go("AwaitingRetry", "SCHEDULED", at, retry_delay_s=delay, **failure)

    def end(self, to_state: str, at: datetime, **failure: Any) -> Run:
        return self.go(to_state, TERMINAL[to_state], at, **failure)


@dataclass
class History:
    """Rows and summaries to insert, with the ids of what the tests look for."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)

    def flow_run(self, key: str, flow_name: str, at: datetime) -> Run:
        run = Run(self, "flow", flow_name, "", flow_name)
        run.flow_run_id = run.run_id
        self.ids[key] = run.run_id
        return run.running(at)

    def task(self, flow: Run, name: str, key: str | None = None) -> Run:
        run = Run(self, "task", name, flow.flow_run_id, flow.flow_name)
        if key:
            self.ids[key] = run.run_id
        return run

    def summary(
        self,
        flow_run_id: str,
        flow_name: str,
        ended_at: datetime,
        final: str,
        completed: int,
        failed: int,
        total: int | None = None,
    ) -> None:
        self.summaries.append(
            {
                "flow_run_id": flow_run_id,
                "flow_name": flow_name,
                "ended_at": ended_at,
                "final_state": final,
                "final_state_type": TERMINAL[final],
                "tasks_total": completed + failed if total is None else total,
                "tasks_completed": completed,
                "tasks_failed": failed,
                "partial_success": completed > 0 and failed > 0,
                **FLOWS[flow_name],
            }
        )

    def write(self, engine: Engine) -> History:
        with engine.begin() as connection:
            insert_transitions(connection, self.rows, derive_summaries=False)
            insert_summaries(connection, self.summaries)
        return self


RESET = ("TRANSIENT", "builtins.ConnectionResetError")


def known_history() -> History:
    """The history of the table above (not yet written)."""
    h = History()

    a1 = END - timedelta(hours=10)
    f1 = h.flow_run("F1", "nightly", a1)
    h.task(f1, "extract", "F1.extract").running(a1 + S).awaiting(
        a1 + 11 * S, 2.0, **error(*RESET, "connection reset by peer (attempt 1)", "fp-reset")
    ).retrying(a1 + 14 * S).end("Completed", a1 + 20 * S)
    h.task(f1, "load").running(a1 + 21 * S).end(
        "Failed",
        a1 + 81 * S,
        **error("PERMANENT", "httpx.HTTPStatusError", "404 Not Found for /orders/17", "fp-404"),
    )
    f1.end(
        "Failed",
        a1 + 90 * S,
        **error("PERMANENT", "httpx.HTTPStatusError", "1 of 2 tasks failed", "fp-flow"),
    )
    h.summary(f1.run_id, "nightly", a1 + 90 * S, "Failed", completed=1, failed=1)

    a2 = END - timedelta(hours=5)
    f2 = h.flow_run("F2", "nightly", a2)
    extract = h.task(f2, "extract", "F2.extract").running(a2 + S)
    extract.awaiting(
        a2 + 2 * S, 1.0, **error(*RESET, "connection reset by peer (attempt 1)", "fp-reset")
    )
    extract.retrying(a2 + 3.5 * S)
    extract.awaiting(
        a2 + 4.5 * S, 2.0, **error(*RESET, "connection reset by peer (attempt 2)", "fp-reset")
    )
    extract.retrying(a2 + 7 * S)
    extract.end(
        "Failed", a2 + 8 * S, **error(*RESET, "connection reset by peer (attempt 3)", "fp-reset")
    )
    h.task(f2, "load").running(a2 + 9 * S).end("Completed", a2 + 19 * S)
    f2.end("Failed", a2 + 20 * S)
    h.summary(f2.run_id, "nightly", a2 + 20 * S, "Failed", completed=1, failed=1)

    a3 = END - timedelta(hours=3)
    f3 = h.flow_run("F3", "hourly", a3)
    h.task(f3, "extract").running(a3 + S).end("Completed", a3 + 6 * S)
    h.task(f3, "validate", "F3.validate").running(a3 + 7 * S).awaiting(
        a3 + 8 * S,
        4.0,
        **error("TIMEOUT", "builtins.TimeoutError", "took longer than 1 s", "fp-timeout"),
    )
    h.task(f3, "publish").running(a3 + 9 * S).end(
        "Failed",
        a3 + 10 * S,
        **error("UNKNOWN", "pipelines.ExportError", "export step failed", "fp-regress"),
    )
    f3.end("Failed", a3 + 12 * S)
    h.summary(f3.run_id, "hourly", a3 + 12 * S, "Failed", completed=1, failed=1, total=3)

    a4 = END - timedelta(hours=2)
    f4 = h.flow_run("F4", "hourly", a4)
    h.task(f4, "extract", "F4.extract").running(a4 + S)

    a5 = END - timedelta(minutes=20)
    f5 = h.flow_run("F5", "nightly", a5)
    h.task(f5, "extract").running(a5 + S)

    a6 = END - timedelta(hours=40)
    f6 = h.flow_run("F6", "nightly", a6)
    h.task(f6, "load").running(a6 + S).end(
        "Failed",
        a6 + 2 * S,
        **error("PERMANENT", "httpx.HTTPStatusError", "404 Not Found for /orders/3", "fp-404"),
    )
    f6.end("Failed", a6 + 3 * S)
    h.summary(f6.run_id, "nightly", a6 + 3 * S, "Failed", completed=0, failed=1)

    a7 = END - timedelta(days=20)
    f7 = h.flow_run("F7", "hourly", a7)
    h.task(f7, "publish").running(a7 + S).end(
        "Failed",
        a7 + 2 * S,
        **error("UNKNOWN", "pipelines.ExportError", "export step failed", "fp-regress"),
    )
    f7.end("Failed", a7 + 3 * S)
    h.summary(f7.run_id, "hourly", a7 + 3 * S, "Failed", completed=0, failed=1)

    a8 = END - timedelta(hours=1)
    f8 = h.flow_run("F8", "hourly", a8)
    h.task(f8, "load").running(a8 + 4 * S).end("Crashed", a8 + 5 * S)
    h.task(f8, "cleanup").running(a8 + 6 * S).end("Cancelled", a8 + 7 * S)
    f8.end("Crashed", a8 + 8 * S)
    h.summary(f8.run_id, "hourly", a8 + 8 * S, "Crashed", completed=0, failed=1, total=2)

    a9 = END - timedelta(minutes=90)
    f9 = h.flow_run("F9", "nightly", a9)
    h.task(f9, "extract").running(a9 + S).end("Completed", a9 + 2 * S)
    h.task(f9, "load").running(a9 + 3 * S).end("Completed", a9 + 63 * S)
    f9.end("Completed", a9 + 64 * S)
    h.summary(f9.run_id, "nightly", a9 + 64 * S, "Completed", completed=2, failed=0)

    for key, ended, final in (("EDGE1", START, "Completed"), ("EDGE2", END, "Failed")):
        h.ids[key] = str(uuid.uuid4())
        h.summary(h.ids[key], "nightly", ended, final, completed=0, failed=0)
    return h
