"""``failtrack collect``: the collector as a long-running command (`prefect_failtrack.collector`).

It registers on `prefect_failtrack.cli.app`. The only process that needs the audit
database's URL when tracked runs send their rows as events
(``PREFECT_INTEGRATIONS_FAILTRACK_TRANSPORT=events``).
"""

from __future__ import annotations

import sys
from typing import Annotated

from cyclopts import Parameter

from .cli import CLIError, app, open_engine, out, parse_duration


@app.command
def collect(
    *,
    url: str | None = None,
    name: str | None = None,
    observe: bool | None = None,
    once: bool = False,
    duration: str | None = None,
    as_json: Annotated[bool, Parameter(name="--json")] = False,
) -> None:
    """Store the rows tracked runs send as Prefect events (and, observing, every run's states).

    Follows Prefect's event stream until stopped (SIGTERM, Ctrl-C); on start, it catches
    up from Prefect's events API from where it stopped last. Publishes the failure summary
    of failed flow runs whose rows it stores.

    Parameters
    ----------
    url
        The audit database (SQLAlchemy URL); default: the setting, the block, SQLite.
    name
        The position it keeps in the stream (one per collector of a database); default:
        the collector_name setting.
    observe
        Also record every flow and task run of the workspace, decorated or not, from
        Prefect's own state events (capture 'observed'); default: the collector_observe
        setting.
    once
        Catch up, publish what is due, and exit.
    duration
        Follow the stream this long (90s, 15m, 1h...), then exit.
    as_json
        Print the counts as JSON when it ends.
    """
    from .collector import collect as run_collector
    from .store.database import safe_url

    if once and duration is not None:
        raise CLIError("give either --once or --duration, not both")
    window = parse_duration(duration) if duration is not None else None
    engine = open_engine(url)  # checked (and upgraded) before following anything
    target = engine.url.render_as_string(hide_password=False)
    if not as_json:
        out.print(
            f"failtrack collect: storing Prefect events into {safe_url(target)}"
            + (" (catching up only)" if once else "")
            + "; stop with Ctrl-C.",
            markup=False,
            highlight=False,
        )
    try:
        stats = run_collector(
            target, name=name, observe=observe, once=once, duration=window, handle_signals=True
        )
    except OSError as problem:  # httpx's errors too: Prefect's API cannot be reached
        raise CLIError(f"Prefect's API cannot be reached: {problem}") from None
    except Exception as problem:
        import httpx

        if isinstance(problem, httpx.HTTPError):
            raise CLIError(f"Prefect's API cannot be reached: {problem}") from None
        raise
    if as_json:
        from pydantic import TypeAdapter

        from .collector import CollectorStats

        sys.stdout.write(TypeAdapter(CollectorStats).dump_json(stats).decode() + "\n")
        return
    s = stats.stored
    out.print(
        f"Stored {s.rows} row(s) from {s.events} event(s) ({s.observed} observed, "
        f"{s.refused} refused); published {stats.published} failure summary(ies).",
        markup=False,
        highlight=False,
    )


__all__ = ["collect"]
