"""Deployable entry point: the collector, as a long-running flow run.

    prefect deploy --prefect-file flows/prefect.yaml --name collector

Run it where the audit database's URL is (``PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL``
in that work pool's environment only), with tracked runs elsewhere sending their rows as
events (``PREFECT_INTEGRATIONS_FAILTRACK_TRANSPORT=events``). A run follows the stream for
``minutes`` (default: a day), then ends; the deployment's schedule starts the next, which
catches up from where this one stopped.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger

from prefect_failtrack.collector import collect


@flow(name="failtrack-collect")
def collect_flow(minutes: float = 24 * 60, observe: bool | None = None) -> dict[str, int]:
    """Store the rows tracked runs send as events (and, observing, every run's states)."""
    stats = collect(observe=observe, duration=timedelta(minutes=minutes))
    s = stats.stored
    get_run_logger().info(
        "failtrack collect: %d event(s), %d row(s) stored (%d observed, %d refused), "
        "%d failure summary(ies) published",
        s.events,
        s.rows,
        s.observed,
        s.refused,
        stats.published,
    )
    return {
        "events": s.events,
        "rows": s.rows,
        "observed": s.observed,
        "published": stats.published,
    }


if __name__ == "__main__":
    collect_flow()
