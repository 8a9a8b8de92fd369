"""``failtrack reconcile``: what the audit table lacks, from Prefect's state history.

It writes (as the recorder does), so it creates the audit schema where there is none.
"""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from ._common import Audit, out, parse_duration


def reconcile(
    *,
    since: Annotated[str, Parameter(help="How far back to look: 90s, 15m, 1h, 7d, 2w.")] = "1h",
    all_runs: Annotated[
        bool, Parameter(help="Also plain Prefect runs that failtrack never tracked.")
    ] = False,
    grace: Annotated[
        str,
        Parameter(help="Flow runs that ended less than this ago are read again once it has "
                       "passed (their last task states may still be on their way): 0s, 10s, 1m."),
    ] = "10s",
    audit: Audit = Audit(),
) -> None:
    """Insert what the audit table lacks, from the Prefect API's state history; repair
    summaries and close task runs orphaned by an ended flow run."""
    from ..reconcile import reconcile as run_reconcile

    window = parse_duration(since)
    result = run_reconcile(window, all_runs=all_runs, url=audit.url, grace=parse_duration(grace))
    if audit.as_json:
        out.print_json(result.model_dump_json())
    else:
        out.print(
            f"Reconciled {result.flow_runs} flow run(s) and {result.task_runs} task run(s) "
            f"since {since!r}: read {result.states_read} state(s), added {result.inserted} row(s) "
            f"and {result.summaries_added} summary(ies), repaired {result.summaries_repaired} "
            f"summary(ies), closed {result.orphans_closed} orphaned task run(s)"
            f" and {result.lost_closed} lost run(s)."
        )
