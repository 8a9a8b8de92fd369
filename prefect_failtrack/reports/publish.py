"""The failure report in the Prefect UI: keyed artifacts, and the run behind the report flow.

Two artifacts per report, each under a fixed key so that the Artifacts page
keeps their history (``prefect/artifacts.py``: a key groups the versions of an
artifact, and only keyed artifacts are listed there):

- ``failtrack-failure-report``: a markdown summary (figures, crossed
  thresholds, classes, top patterns, retries, stuck and partial runs);
- ``failtrack-failure-report-patterns``: a table of the top patterns.

`run_failure_report` is the whole of the ``failure_report`` flow: build the
report, publish it, evaluate the thresholds, notify when one is crossed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, Literal
from uuid import UUID

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.logging import get_logger
from pydantic import BaseModel, ConfigDict, Field

from ..blocks import FailtrackConfig
from ..settings import get_settings
from ..store.database import ensure_schema, get_engine
from .alerts import Alert, evaluate, notify
from .models import FailureReport
from .render import RETRY_COLUMNS, STUCK_COLUMNS, retry_cells, stuck_cells
from ..resilience.report import markdown_lines as resilience_markdown

logger = get_logger("prefect_failtrack.reports.publish")

REPORT_KEY = "failtrack-failure-report"
MESSAGE_CHARS = 200
LISTED_RUNS = 25  # stuck and partial runs listed in the artifact; the rest are counted
MINUTES = "{:%Y-%m-%d %H:%M}".format  # Times in the stuck runs' table


class ReportFilters(BaseModel):
    """What the report looks at (all unset: every tracked run)."""

    model_config = ConfigDict(extra="forbid")

    flow: str | None = Field(default=None, description="Only runs of this flow (its name).")
    task: str | None = Field(default=None, description="Only task runs of this name.")
    deployment: str | None = Field(default=None, description="Only runs of this deployment id.")
    tag: str | None = Field(default=None, description="Only runs carrying this tag.")
    origin: str | None = Field(default=None, description="Only rows of this origin label.")
    capture: Literal["tracked", "observed"] | None = Field(
        default=None,
        description=(
            "Only runs failtrack tracked, or only runs the collector observed from Prefect's "
            "own events."
        ),
    )


class PublishedReport(BaseModel):
    """What one run of the report flow did."""

    runs: int
    failed_runs: int
    failure_rate: float
    alerts: list[Alert]
    notified: bool
    markdown_artifact_id: UUID | None
    table_artifact_id: UUID | None


# ------------------------------------------------------------------ rendering


def _one_line(value: Any, limit: int = MESSAGE_CHARS) -> str:
    """`value` on one line, cut to `limit` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: Any, limit: int = MESSAGE_CHARS) -> str:
    """One markdown table cell: one line, pipes escaped, cut to `limit` characters."""
    return _one_line(value, limit).replace("|", "\\|")


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def _novelty(pattern: Any) -> str:
    return "new" if pattern.is_new else "regression" if pattern.is_regression else ""


def patterns_table(report: FailureReport) -> list[dict[str, Any]]:
    """The top patterns, one row each, for the table artifact."""
    return [
        {
            "count": p.count,
            "error_type": p.error_type,
            "error_class": p.error_class,
            "message": _one_line(p.sample_message),
            "flows": ", ".join(p.flows),
            "tasks": ", ".join(p.tasks),
            "first_seen": p.first_seen.isoformat(timespec="seconds"),
            "last_seen": p.last_seen.isoformat(timespec="seconds"),
            "novelty": _novelty(p),
            "fingerprint": p.fingerprint,
        }
        for p in report.patterns
    ]


def summary_markdown(report: FailureReport, alerts: Sequence[Alert] = ()) -> str:
    """The markdown summary of `report`, with the thresholds it crossed first."""
    window = f"{report.window_start:%Y-%m-%d %H:%M} – {report.window_end:%Y-%m-%d %H:%M} UTC"
    md = [f"# Failure report, {window}", ""]
    if report.filters:
        md += ["Filters: " + ", ".join(f"`{k}={v}`" for k, v in report.filters.items()), ""]
    rate = f"**{report.failed_runs}** of **{report.runs}** flow runs failed"
    md += [f"{rate} (**{report.failure_rate:.1%}**).", ""]
    if alerts:
        md += ["## Thresholds crossed", ""] + [f"- {alert.message}" for alert in alerts] + [""]
    else:
        md += ["No threshold crossed.", ""]
    if report.by_class:
        classes = sorted(report.by_class.items(), key=lambda item: -item[1])
        md += ["## Failed task runs by class", ""] + _table(("class", "task runs"), classes) + [""]
    if report.patterns:
        md += (
            ["## Top failure patterns", ""]
            + _table(
                ("count", "class", "error", "message", "flows", "novelty", "last seen"),
                (
                    (
                        p.count,
                        p.error_type,
                        p.error_class,
                        _one_line(p.sample_message, 120),
                        ", ".join(p.flows),
                        _novelty(p),
                        f"{p.last_seen:%Y-%m-%d %H:%M}",
                    )
                    for p in report.patterns
                ),
            )
            + [""]
        )
    worst = [rate for rate in report.flows if rate.failed]
    if worst:
        md += (
            ["## Flows with failures", ""]
            + _table(
                ("flow", "runs", "failed", "rate"),
                ((r.name, r.runs, r.failed, f"{r.failure_rate:.0%}") for r in worst),
            )
            + [""]
        )
    if report.retry_effectiveness:
        md += (
            ["## Did retries help?", ""]
            + _table(RETRY_COLUMNS, (retry_cells(s) for s in report.retry_effectiveness))
            + [""]
        )
    if report.stuck_runs:
        md += (
            ["## Stuck runs", ""]
            + _table(  # With their status, heartbeat and progress
                STUCK_COLUMNS,
                (stuck_cells(s, MINUTES) for s in report.stuck_runs[:LISTED_RUNS]),
            )
            + _more(len(report.stuck_runs), "failtrack stuck")
        )
    if report.partial_success_runs:
        md += (
            ["## Partial successes", ""]
            + _table(
                ("flow", "tasks completed", "tasks failed", "flow run id"),
                (
                    (p.flow_name or "-", p.tasks_completed, p.tasks_failed, p.flow_run_id)
                    for p in report.partial_success_runs[:LISTED_RUNS]
                ),
            )
            + _more(len(report.partial_success_runs), "failtrack report --json")
        )
    md += resilience_markdown(report.resilience)  # circuits, dead letters
    md.append(f"_Generated {report.generated_at:%Y-%m-%d %H:%M:%S} UTC by prefect-failtrack._")
    return "\n".join(md)


def _more(total: int, command: str) -> list[str]:
    """The line under a list cut at `LISTED_RUNS` rows, saying where the rest is."""
    if total <= LISTED_RUNS:
        return [""]
    return ["", f"_… and {total - LISTED_RUNS} more: `{command}` lists them all._", ""]


def publish(
    report: FailureReport, alerts: Sequence[Alert] = (), key: str = REPORT_KEY
) -> tuple[UUID, UUID | None]:
    """Create the summary (under `key`) and the patterns table (``<key>-patterns``) artifacts.

    Call it inside a flow or task run: Prefect attaches the artifacts to the
    run from its context (prefect/artifacts.py, ``Artifact.create``). Returns
    the artifact ids (no table without patterns).
    """
    # `_sync=True`: both are `async_dispatch`ed and would return coroutines in an async flow.
    markdown_id = create_markdown_artifact(
        markdown=summary_markdown(report, alerts),
        key=key,
        description=f"failtrack: {report.failed_runs}/{report.runs} flow runs failed",
        _sync=True,  # type: ignore[call-arg]
    )
    table_id = None
    if report.patterns:
        table_id = create_table_artifact(
            table=patterns_table(report),
            key=f"{key}-patterns",
            description="failtrack: top failure patterns",
            _sync=True,  # type: ignore[call-arg]
        )
    return markdown_id, table_id


# -------------------------------------------------------------- the report run


def run_failure_report(
    since_hours: float = 24.0,
    filters: ReportFilters | None = None,
    config_block: str | None = None,
    top: int = 10,
    key: str = REPORT_KEY,
) -> PublishedReport:
    """Build the report of the last `since_hours`, publish it, alert when a threshold is crossed.

    `config_block` names the `FailtrackConfig` document (thresholds, notification
    block, stuck runs, database URL); one named explicitly must exist. Unnamed,
    the ``config_block`` setting's document is used when there is one, else the
    defaults (no notification); either is read afresh on each run. The audit
    database is the setting's, else the block's, else the default file.
    """
    from . import build_report  # the report queries (prefect_failtrack.reports)

    config = _config(config_block)
    url = _database_url(config)
    ensure_schema(url)
    report = build_report(
        get_engine(url),
        since=timedelta(hours=since_hours),
        stuck_after=timedelta(minutes=config.stuck_after_minutes),
        top=top,
        **(filters or ReportFilters()).model_dump(exclude_none=True),
    )
    alerts = evaluate(report, config.report_thresholds)
    markdown_id, table_id = publish(report, alerts, key=key)
    for alert in alerts:
        logger.warning("failtrack: %s", alert.message)
    notified = notify(report, alerts, config.notify_block)
    if alerts and not config.notify_block:
        logger.warning("failtrack: thresholds crossed, but no notify_block is configured")
    return PublishedReport(
        runs=report.runs,
        failed_runs=report.failed_runs,
        failure_rate=report.failure_rate,
        alerts=alerts,
        notified=notified,
        markdown_artifact_id=markdown_id,
        table_artifact_id=table_id,
    )


def _config(name: str | None) -> FailtrackConfig:
    """The named document (it must exist), else the setting's (the defaults without it).

    Read afresh on every run, not through `load_config`'s per-process memory: a served
    flow lives long, and its configuration may be edited in the UI meanwhile.
    """
    document = name or get_settings().config_block
    try:
        return FailtrackConfig.load(document, _sync=True)  # type: ignore[call-arg]
    except ValueError:  # no such document (prefect/blocks/core.py, Block._get_block_document)
        if name:
            raise
        logger.info("failtrack: no FailtrackConfig %r; using the defaults", document)
        return FailtrackConfig()


def _database_url(config: FailtrackConfig) -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if config.database_url is not None and config.database_url.get_secret_value():
        return config.database_url.get_secret_value()
    return settings.default_database_url()


__all__ = [
    "REPORT_KEY",
    "PublishedReport",
    "ReportFilters",
    "patterns_table",
    "publish",
    "run_failure_report",
    "summary_markdown",
]
