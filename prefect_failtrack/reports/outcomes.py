"""What happened to each run of one flow run: class, deciding rule, attempts, final state."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, or_, select

from ..store.database import get_engine, resolve_database_url
from ..store.models import Transition
from ..store.recorder import get_recorder


class RunOutcome(BaseModel):
    """One task or flow run as the audit table tells it."""

    run_kind: str
    name: str
    run_id: str
    attempts: int
    final_state: str
    error_type: str | None
    reason: str | None
    error_message: str | None
    last_at: datetime


def timeline(session: Session, flow_run_id: str | UUID) -> list[Transition]:
    """Every transition of a flow run and its task runs, in order."""
    flow_run_id = str(flow_run_id)
    query = (
        select(Transition)
        .where(or_(Transition.flow_run_id == flow_run_id, Transition.run_id == flow_run_id))
        .order_by(col(Transition.occurred_at), col(Transition.run_count), col(Transition.id))
    )
    return list(session.exec(query))


def outcomes(transitions: list[Transition]) -> list[RunOutcome]:
    """Fold a timeline into one outcome per run (flows first, then tasks by first sight)."""
    by_run: dict[str, list[Transition]] = {}
    for row in transitions:
        by_run.setdefault(row.run_id, []).append(row)
    result = []
    for run_id, rows in by_run.items():
        last = rows[-1]
        failing = [r for r in rows if r.error_type is not None]
        cause = failing[-1] if failing else None
        result.append(
            RunOutcome(
                run_kind=last.run_kind,
                name=last.name,
                run_id=run_id,
                attempts=max(r.run_count for r in rows),
                final_state=last.to_state,
                error_type=cause.error_type if cause else None,
                reason=cause.reason if cause else None,
                error_message=cause.error_message if cause else None,
                last_at=last.occurred_at,
            )
        )
    return sorted(result, key=lambda o: (o.run_kind != "flow",))


def run_outcomes(flow_run_id: str | UUID, url: str | None = None) -> list[RunOutcome]:
    with Session(get_engine(url or resolve_database_url())) as session:
        return outcomes(timeline(session, flow_run_id))


def print_run_outcomes(flow_run_id: str | UUID, console: Console | None = None) -> list[RunOutcome]:
    """Flush what is recorded, then print one line per run of the flow run."""
    get_recorder().flush(timeout=10)
    rows = run_outcomes(flow_run_id)
    table = Table(title=f"failtrack: flow run {flow_run_id}")
    for header in ("run", "name", "class", "deciding rule", "attempts", "final state"):
        table.add_column(header)
    for o in rows:
        table.add_row(
            o.run_kind, o.name, o.error_type or "-", o.reason or "-", str(o.attempts), o.final_state
        )
    (console or Console(width=max(Console().width, 120))).print(table)
    return rows
