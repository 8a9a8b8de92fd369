"""``failtrack collect``: the collector as a long-running command (`prefect_failtrack.collector`).

The only process that needs the audit database's URL when tracked runs send their rows
as events (``PREFECT_INTEGRATIONS_FAILTRACK_TRANSPORT=events``). It writes, as the
recorder and reconcile do, so it creates or upgrades the audit schema where needed.
"""

from __future__ import annotations

import sys
from typing import Annotated

from cyclopts import Parameter

from ._common import Audit, CLIError, first_line, out, parse_duration


def collect(
    *,
    name: Annotated[
        str | None,
        Parameter(help="The position it keeps in the stream (one per collector of a database); "
                       "default: the collector_name setting."),
    ] = None,
    observe: Annotated[
        bool | None,
        Parameter(help="Also record every flow and task run of the workspace, decorated or not, "
                       "from Prefect's own state events (capture 'observed'); default: the "
                       "collector_observe setting."),
    ] = None,
    once: Annotated[bool, Parameter(help="Catch up, publish what is due, and exit.")] = False,
    duration: Annotated[
        str | None, Parameter(help="Follow the stream this long (90s, 15m, 1h...), then exit.")
    ] = None,
    audit: Audit = Audit(),
) -> None:
    """Store the rows tracked runs send as Prefect events (and, observing, every run's states).

    Follows Prefect's event stream until stopped (SIGTERM, Ctrl-C); on start, it catches
    up from Prefect's events API from where it stopped last. Publishes the failure summary
    of failed flow runs whose rows it stores.

    """
    from ..collector import collect as run_collector
    from ..store.database import ensure_schema, resolve_database_url, safe_url

    as_json = audit.as_json
    if once and duration is not None:
        raise CLIError("give either --once or --duration, not both")
    window = parse_duration(duration) if duration is not None else None
    target = audit.url or resolve_database_url()
    try:
        ensure_schema(target)  # checked (and created or upgraded) before following anything
    except Exception as problem:
        raise CLIError(f"the audit database cannot be used: {first_line(problem)}") from None
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

        from ..collector import CollectorStats

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
