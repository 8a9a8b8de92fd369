"""The ``failtrack`` commands over the audit table: report, patterns, timeline, stuck, prune.

They register on `prefect_failtrack.cli.app`; each reads with ``--url`` (default: the
setting, the block, SQLite), prints the report model with ``--json`` (exactly its
``model_dump_json()``) and rich tables otherwise. Input is checked before the database
is opened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from cyclopts import Parameter

from .cli import (
    CLIError,
    app,
    open_engine,
    out,
    parse_duration,
    parse_time,
    positive_top,
    print_json,
    show,
    wide,
)

Json = Annotated[bool, Parameter(name="--json", help="Print the report model as JSON.")]
Url = Annotated[
    str | None,
    Parameter(help="The audit database (SQLAlchemy URL); default: the setting, the block, SQLite."),
]


@app.command
def report(
    *,
    since: str = "24h",
    until: str | None = None,
    flow: str | None = None,
    task: str | None = None,
    deployment: str | None = None,
    tag: str | None = None,
    origin: str | None = None,
    stuck_after: str = "30m",
    quiet_period: str = "7d",
    top: int = 10,
    url: Url = None,
    as_json: Json = False,
) -> None:
    """The failure report of a window: rates, classes, patterns, retries, stuck and slow runs.

    Parameters
    ----------
    since
        How far back the window reaches: 90s, 15m, 1h, 7d, 2w.
    until
        Where the window ends (ISO 8601, UTC unless it says otherwise); default: now.
    flow
        Only runs of this flow (its name).
    task
        Only task runs of this name (and the flow runs that ran one).
    deployment
        Only runs of this deployment id.
    tag
        Only runs carrying this tag.
    origin
        Only task runs of this origin (and the flow runs that ran one).
    stuck_after
        A run that has not moved for this long is stuck.
    quiet_period
        A pattern back after this long without an occurrence is a regression.
    top
        How many patterns and slowest states to show.
    """
    from .reports import build_report
    from .reports.render import render_report

    options = {
        "since": parse_duration(since),
        "until": parse_time(until),
        "stuck_after": parse_duration(stuck_after),
        "quiet_period": parse_duration(quiet_period),
        "top": positive_top(top),
    }
    filters = {"flow": flow, "task": task, "deployment": deployment, "tag": tag, "origin": origin}
    show(build_report(open_engine(url), **options, **filters), as_json, render_report)


@app.command
def patterns(
    *,
    since: str = "7d",
    until: str | None = None,
    flow: str | None = None,
    task: str | None = None,
    quiet_period: str = "7d",
    top: int = 10,
    url: Url = None,
    as_json: Json = False,
) -> None:
    """The most frequent failure patterns (fingerprints) of a window, new ones and regressions.

    Parameters
    ----------
    since
        How far back the window reaches: 90s, 15m, 1h, 7d, 2w.
    until
        Where the window ends (ISO 8601); default: now.
    flow
        Only runs of this flow (its name).
    task
        Only task runs of this name.
    quiet_period
        A pattern back after this long without an occurrence is a regression.
    top
        How many patterns to show.
    """
    from .reports import build_patterns
    from .reports.render import render_patterns

    options = {
        "since": parse_duration(since),
        "until": parse_time(until),
        "quiet_period": parse_duration(quiet_period),
        "top": positive_top(top),
    }
    show(
        build_patterns(open_engine(url), **options, flow=flow, task=task), as_json, render_patterns
    )


@app.command
def timeline(run_id: str, *, url: Url = None, as_json: Json = False) -> None:
    """Every transition of a flow run and of its task runs, in order.

    Parameters
    ----------
    run_id
        The flow run id (a UUID, as the Prefect UI shows it).
    """
    from uuid import UUID

    from .reports import build_timeline
    from .reports.render import render_timeline

    try:
        flow_run_id = UUID(run_id.strip())
    except ValueError:
        raise CLIError(f"malformed flow run id {run_id!r}: expected a UUID") from None
    result = build_timeline(open_engine(url), flow_run_id)
    if not result.transitions:
        raise CLIError(f"no transitions recorded for flow run {run_id!r}")
    show(result, as_json, render_timeline)


@app.command
def stuck(
    *,
    after: str = "30m",
    since: str = "24h",
    until: str | None = None,
    flow: str | None = None,
    stale_after: str | None = None,
    lost_after: str | None = None,
    url: Url = None,
    as_json: Json = False,
) -> None:
    """Running runs that are slow, stuck or lost (by their heartbeats, where they have one).

    Slow: its process still beats, and it has run longer than ``--after``. Stuck: no
    heartbeat for longer than ``--stale-after`` (or, without heartbeats, no transition
    for longer than ``--after``). Lost: its process is gone, or no heartbeat for longer
    than ``--lost-after``.

    Parameters
    ----------
    after
        How long a run may run (without heartbeats: go without a transition) before it is
        listed: 90s, 15m, 1h...
    since
        How far back to look for runs that went running.
    until
        As of when (ISO 8601); default: now.
    flow
        Only runs of this flow (its name).
    stale_after
        No heartbeat for this long makes a run stuck; default: the setting (5m).
    lost_after
        No heartbeat for this long makes a run lost; default: the setting (30m).
    """
    from .reports import build_stuck
    from .reports.render import render_stuck

    options = {
        "stuck_after": parse_duration(after),
        "since": parse_duration(since),
        "until": parse_time(until),
        # liveness: the heartbeat limits (default: the settings)
        "stale_after": parse_duration(stale_after) if stale_after else None,
        "lost_after": parse_duration(lost_after) if lost_after else None,
    }
    show(build_stuck(open_engine(url), **options, flow=flow), as_json, render_stuck)


@app.command
def prune(
    *,
    older_than: str,
    yes: bool = False,
    url: Url = None,
    as_json: Annotated[bool, Parameter(name="--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Delete transitions and run summaries older than ``--older-than`` (a dry run without --yes).

    Parameters
    ----------
    older_than
        Age of what goes: 90d, 12w...
    yes
        Really delete; without it, only say what would be deleted.
    """
    from .store.prune import prune as prune_store

    cutoff = datetime.now(UTC) - parse_duration(older_than)
    result = prune_store(open_engine(url), cutoff, dry_run=not yes)
    if as_json:
        print_json(result)
        return
    what = f"{result.transitions} transition(s) and {result.summaries} run summary(ies)"
    when = f"older than {older_than!r} (before {cutoff:%Y-%m-%d %H:%M:%S} UTC)"
    said = (
        f"Would delete {what} {when}; run again with --yes to delete them."
        if result.dry_run
        else f"Deleted {what} {when}."
    )
    wide(out).print(said, markup=False, highlight=False)
