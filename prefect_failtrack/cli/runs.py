"""Flow runs one by one: ``failtrack runs`` lists the recent ones, ``failtrack timeline``
shows every transition of one."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from ._common import Audit, CLIError, Scope, positive


def runs(
    *,
    scope: Scope = Scope(),
    state: Annotated[
        str | None,
        Parameter(help="Only runs that ended in this state: a type (failed) or a name (TimedOut)."),
    ] = None,
    limit: Annotated[int, Parameter(help="How many runs to list, the newest first.")] = 20,
    audit: Audit = Audit(),
) -> None:
    """Recent flow runs: id, flow, final state, failed task runs by class, when they ended."""
    from ..reports import recent_runs
    from ..reports.render import render_runs

    options = {**scope.window(), "state": state, "limit": positive("--limit", limit)}
    audit.show(recent_runs(audit.reader(), **options), render_runs)


def timeline(run_id: str, *, audit: Audit = Audit()) -> None:
    """Every transition of a flow run and of its task runs, in order.

    Parameters
    ----------
    run_id
        The flow run id (a UUID, as the Prefect UI and ``failtrack runs`` show it).
    """
    from uuid import UUID

    from ..reports import build_timeline
    from ..reports.render import render_timeline

    try:
        flow_run_id = UUID(run_id.strip())
    except ValueError:
        raise CLIError(f"malformed flow run id {run_id!r}: expected a UUID") from None
    result = build_timeline(audit.reader(), flow_run_id)
    if not result.transitions:
        raise CLIError(
            f"no transitions recorded for flow run {run_id!r} in this audit database "
            "(--url reads another)"
        )
    audit.show(result, render_timeline)
