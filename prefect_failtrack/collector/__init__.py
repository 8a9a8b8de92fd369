"""`failtrack collect`: stores the rows that travel as Prefect events, and observes the rest.

Who knows what, and when (see `prefect_failtrack.transport` for the sending side):

- tracked runs with ``PREFECT_INTEGRATIONS_FAILTRACK_TRANSPORT=events`` send each row as a
  ``failtrack.row.<kind>`` event through Prefect's events API, by the end of each task
  run in worker processes and at the flow run's end in its own;
- Prefect itself emits a state event for every run, tracked or not
  (``prefect.task-run.*`` from the process that runs the task, ``prefect.flow-run.*``
  from the server);
- the collector is the only process that needs the audit database's URL. It follows
  Prefect's event stream (`service.Collector`), stores failtrack's rows through the same
  idempotent path as the direct mode, spool replays and reconcile
  (`store.store_events` -> `prefect_failtrack.store.sink.execute`), so summaries are
  derived there as everywhere; with ``observe`` it also makes rows of Prefect's state
  events (`observe`, ``capture='observed'``), which a tracked row of the same transition
  replaces;
- for a tracked flow run that failed, it publishes, a moment after storing its final row,
  what the flow-end hook publishes in direct mode (`publish`): the flow's own class when
  it failed because its task runs did, the ``failtrack:*`` tags, the failure-summary
  artifact, the ``failtrack.failure.classified`` event;
- its position (the last event stored) and its outbox (summaries still to publish) are
  written with the rows they are about (`position`): a collector restarted after a
  crash catches up from Prefect's events API from there, and loses or duplicates nothing.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from datetime import timedelta
from typing import Any

from .service import Collector, CollectorStats
from .store import Stored

__all__ = ["Collector", "CollectorStats", "Stored", "collect"]


def collect(
    url: str | None = None,
    *,
    name: str | None = None,
    observe: bool | None = None,
    once: bool = False,
    duration: timedelta | None = None,
    handle_signals: bool = False,
    stop: threading.Event | None = None,
    **options: Any,
) -> CollectorStats:
    """Run a collector against the audit database at `url` (default as everywhere).

    Args:
        name, observe: default from the settings (``COLLECTOR_NAME``, ``COLLECTOR_OBSERVE``).
        once: catch up from Prefect's events API, publish what is due, and return.
        duration: follow the stream this long, then return (default: until stopped).
        handle_signals: SIGTERM and SIGINT end it cleanly (the main thread only).
        stop: an event that ends it when set.
        options: `Collector`'s other arguments.
    """
    from ..settings import get_settings
    from ..store.database import ensure_schema, get_engine, resolve_database_url

    settings = get_settings()
    target = url or resolve_database_url(settings)
    ensure_schema(target)
    options.setdefault("catch_up", timedelta(seconds=settings.collector_catch_up))
    options.setdefault("overlap", timedelta(seconds=settings.collector_overlap))
    options.setdefault("publish_delay", settings.publish_delay)
    options.setdefault("batch_size", settings.batch_size)
    collector = Collector(
        get_engine(target),
        name=name or settings.collector_name,
        observe=settings.collector_observe if observe is None else observe,
        **options,
    )
    stopping = stop or threading.Event()
    deadline = time.monotonic() + duration.total_seconds() if duration is not None else None
    if handle_signals:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())

    def done() -> bool:
        return stopping.is_set() or (deadline is not None and time.monotonic() >= deadline)

    async def once_only() -> CollectorStats:
        await collector.catch_up_now()
        await collector._publish(force=True)
        return collector.stats

    return asyncio.run(once_only() if once else collector.run(done))
