"""Deployable entry point: the failure report, as Prefect artifacts, with alerts.

    prefect deploy --prefect-file flows/prefect.yaml --all   # every morning at 07:00 UTC

Each run publishes a markdown summary (artifact key ``failtrack-failure-report``)
and a table of the top failure patterns (``failtrack-failure-report-patterns``),
and notifies through the configuration block's ``notify_block`` when one of its
``report_thresholds`` is crossed.
"""

from __future__ import annotations

from prefect import flow

from prefect_failtrack.reports.publish import (
    REPORT_KEY,
    PublishedReport,
    ReportFilters,
    run_failure_report,
)


@flow(name="failtrack-failure-report")
def failure_report(
    since_hours: float = 24.0,
    filters: ReportFilters | None = None,
    config_block: str | None = None,
    top: int = 10,
    artifact_key: str = REPORT_KEY,
) -> PublishedReport:
    """Failure patterns of the last `since_hours`: publish them, alert past the thresholds.

    Args:
        since_hours: the window, ending now.
        filters: only some runs (flow, task, deployment, tag, origin, capture).
        config_block: the FailtrackConfig document (default: the ``config_block`` setting's).
        top: how many patterns the report lists.
        artifact_key: key of the summary artifact (the table's is ``<key>-patterns``).
    """
    return run_failure_report(
        since_hours=since_hours, filters=filters, config_block=config_block, top=top,
        key=artifact_key,
    )


if __name__ == "__main__":
    failure_report()
