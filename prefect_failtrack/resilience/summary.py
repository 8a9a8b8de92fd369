"""The failure-summary artifact's part about dependencies: what each failed run hit, which
circuits are open.

Read from the audit table (the flow-end hook has flushed the recorder before it builds the
summary), so it holds whatever process ran the tasks; through the breaker's store path
(bounded in time, left alone after an error); an empty string when there is nothing to say
or the store cannot tell.
"""

from __future__ import annotations

from typing import Any

from .safety import neutral

LISTED = 20


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")[:200]


@neutral(default="")
def circuit_section(flow_run_id: str) -> str:
    """Markdown to append to the failure summary of `flow_run_id` ("" when none applies)."""
    from .breaker import Unavailable, get_breaker

    breaker = get_breaker()
    try:
        hit = breaker.read(lambda connection: _failed_dependencies(connection, flow_run_id))
    except Unavailable:
        return ""
    if not hit:
        return ""
    md = ["", "## Dependencies", "", "| run | dependency | class | circuit |", "|---|---|---|---|"]
    states = {dependency: breaker.state(dependency, fresh=True) for _, dependency, _ in hit}
    for name, dependency, error_type in hit[:LISTED]:
        row = states.get(dependency)
        circuit = "closed"
        if row is not None and row.is_open():
            circuit = f"open since {row.opened_at:%Y-%m-%d %H:%M:%S} UTC"
        md.append(f"| {_cell(name)} | `{_cell(dependency)}` | {error_type} | {circuit} |")
    if len(hit) > LISTED:
        md.append(f"\n_… and {len(hit) - LISTED} more (`failtrack timeline {flow_run_id}`)._")
    open_ones = sorted(d for d, row in states.items() if row is not None and row.is_open())
    if open_ones:
        md += ["", "Open circuits: " + ", ".join(f"`{_cell(d)}`" for d in open_ones)
               + ". Runs that gave up on them are dead letters: `failtrack dead-letters`, "
               "then `failtrack requeue` once the dependency is back."]
    return "\n".join(md)


def _failed_dependencies(connection: Any, flow_run_id: str) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from ..store.models import transitions as t

    query = (
        select(t.c.name, t.c.dependency, t.c.error_type)
        .where(t.c.flow_run_id == flow_run_id, t.c.to_state_type == "FAILED",
               t.c.dependency.is_not(None))
        .order_by(t.c.occurred_at)
    )
    return [(r.name, r.dependency, r.error_type or "-") for r in connection.execute(query)]


__all__ = ["circuit_section"]
