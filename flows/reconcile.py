"""Deployable entry point: reconcile the audit table with Prefect's state history.

    prefect deploy --all   # see flows/prefect.yaml (runs every 15 minutes)
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger

from prefect_failtrack.reconcile import reconcile


@flow(name="failtrack-reconcile")
def reconcile_flow(since_minutes: float = 60.0, all_runs: bool = False) -> dict[str, int]:
    """Fill in transitions the hooks could not record (crashes, killed processes, NotReady)."""
    result = reconcile(timedelta(minutes=since_minutes), all_runs=all_runs)
    get_run_logger().info(
        "failtrack reconcile: %d flow run(s), %d task run(s), %d state(s) read, %d row(s) added, "
        "%d summary(ies) repaired, %d orphaned task run(s) closed",
        result.flow_runs, result.task_runs, result.states_read, result.inserted,
        result.summaries_repaired, result.orphans_closed,
    )
    return result.model_dump()


if __name__ == "__main__":
    reconcile_flow()
