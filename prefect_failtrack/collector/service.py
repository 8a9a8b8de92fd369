"""`Collector`: follows Prefect's event stream and stores what it carries.

One pass of `run`:

1. connect to the event stream (``get_events_subscriber``, ``prefect/events/clients.py``)
   with a filter on failtrack's row events (and, observing, on Prefect's run state
   events); events that arrive from now on wait in a queue;
2. catch up from Prefect's events API (``read_events``, oldest first) from the stored
   position (less `overlap`: events from clocks a little behind) up to now: what
   happened while no collector was running; and once more `RECHECK_AFTER_S` later: the
   server writes events to its database in batches (every 5 s by default,
   ``PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL``), so an event sent just
   before the stream was joined may be neither in the stream nor yet in the database;
3. store the stream's events in batches (`batch_size` events, or what came in
   `flush_interval`), each batch with the position after it in one transaction
   (`store.store_events`);
4. now and then, publish the failure summaries that are due (`publish.publish_due`).

Events seen twice (the catch-up and the stream overlap; the stream replays its last
minute when it reconnects) are stored once: rows keep their ids and natural keys. When
the stream or the database fails, the pass ends, and `run` starts another after a
pause: it catches up from the stored position again, so nothing in between is lost.

Prefect keeps events for ``PREFECT_SERVER_EVENTS_RETENTION_PERIOD`` (7 days by default):
a collector stopped for longer misses what is older; ``failtrack reconcile`` fills that
in from the run history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter, EventOrder
from prefect.events.schemas.events import Event
from prefect.logging import get_logger
from sqlalchemy import Engine

from ..transport.envelope import PREFIX
from . import position, publish
from .observe import PREFIXES as OBSERVED_PREFIXES
from .observe import Durations
from .store import Stored, store_events

logger = get_logger("prefect_failtrack.collector")
PAGE = 50
"""Events per page of Prefect's events API (its maximum, ``INTERACTIVE_PAGE_SIZE``)."""
PUBLISH_EVERY_S = 1.0
RECHECK_AFTER_S = 8.0
"""A second catch-up, once the server has written what it held when the first ran."""
PAUSE_AFTER_FAILURE_S = 2.0
MAX_PAUSE_S = 30.0


@dataclass
class CollectorStats:
    """What a collector did since it started."""

    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    passes: int = 0
    caught_up: int = 0
    streamed: int = 0
    stored: Stored = field(default_factory=Stored)
    published: int = 0
    failures: int = 0


class Collector:
    """Stores the rows that travel as Prefect events (and, observing, every run's states).

    Args:
        engine: the audit database's engine (its schema checked).
        name: the position it keeps (one per collector of a database).
        observe: also record runs failtrack does not track, from Prefect's state events.
        catch_up: how far back to read when it has no position (or an older one).
        overlap: how far before its position a restarted collector reads again.
        batch_size, flush_interval: events stored per transaction, and how long a batch
            may wait to fill.
        publish_delay: seconds between a failed flow run's final row and its publication.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        name: str = "default",
        observe: bool = False,
        catch_up: timedelta = timedelta(days=7),
        overlap: timedelta = timedelta(minutes=2),
        batch_size: int = 500,
        flush_interval: float = 0.5,
        publish_delay: float = 2.0,
    ) -> None:
        self.engine = engine
        self.name = name
        self.observe = observe
        self.catch_up = catch_up
        self.overlap = overlap
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.publish_delay = publish_delay
        self.stats = CollectorStats()
        self.durations = Durations()
        self._published_at = 0.0

    def event_filter(self, since: datetime | None = None) -> EventFilter:
        prefixes = [PREFIX, *(OBSERVED_PREFIXES if self.observe else ())]
        occurred = {"since": since} if since is not None else {}
        return EventFilter(
            event=EventNameFilter(prefix=prefixes),
            occurred=EventOccurredFilter(until=datetime.now(UTC) + timedelta(days=1), **occurred),
            order=EventOrder.ASC,
        )

    def position(self) -> position.Position:
        with self.engine.connect() as connection:
            return position.read(connection, self.name)

    def since(self) -> datetime:
        """Where the catch-up starts: the position less the overlap, within `catch_up`."""
        oldest = datetime.now(UTC) - self.catch_up
        stored = self.position().occurred
        if stored is None:
            return oldest
        return max(stored - self.overlap, oldest)

    # -- storing ----------------------------------------------------------------------------

    def store(self, events: list[Event]) -> Stored:
        stored = store_events(
            self.engine,
            events,
            name=self.name,
            observe=self.observe,
            publish_delay=self.publish_delay,
            durations=self.durations,
        )
        self.stats.stored.add(stored)
        return stored

    async def _store(self, events: list[Event]) -> None:
        if events:
            await asyncio.to_thread(self.store, events)

    async def _publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._published_at >= PUBLISH_EVERY_S:
            self._published_at = now
            self.stats.published += await asyncio.to_thread(publish.publish_due, self.engine)

    # -- catching up --------------------------------------------------------------------------

    async def catch_up_now(self, until: datetime | None = None) -> int:
        """Store what Prefect's events API has from the catch-up start up to `until` (now)."""
        from prefect.client.orchestration import get_client

        event_filter = self.event_filter(self.since())
        event_filter.occurred.until = until or datetime.now(UTC)
        read = 0
        async with get_client() as client:
            page = await client.read_events(filter=event_filter, limit=PAGE)
            while True:
                await self._store(list(page.events))
                read += len(page.events)
                if not page.next_page or not page.events:
                    break
                page = await client.read_events_page(page.next_page)
        self.stats.caught_up += read
        return read

    # -- following the stream -----------------------------------------------------------------

    async def run_once(self, stop: Callable[[], bool]) -> None:
        """One pass: connect, catch up, follow the stream until `stop()` or a failure."""
        from prefect.events.clients import get_events_subscriber

        queue: asyncio.Queue[Event] = asyncio.Queue()
        self.stats.passes += 1
        async with get_events_subscriber(
            filter=self.event_filter(), reconnect_on_clean_close=True
        ) as subscriber:

            async def read() -> None:
                async for event in subscriber:
                    await queue.put(event)

            reader = asyncio.create_task(read())
            try:
                await self.catch_up_now()
                recheck_at: float | None = time.monotonic() + RECHECK_AFTER_S
                await self._publish(force=True)
                while not stop():
                    batch = await self._next_batch(queue, reader)
                    await self._store(batch)
                    self.stats.streamed += len(batch)
                    if recheck_at is not None and time.monotonic() >= recheck_at:
                        recheck_at = None
                        await self.catch_up_now()
                    await self._publish()
                    if reader.done() and queue.empty():
                        reader.result()  # the stream's failure, if it failed
                        raise ConnectionError("the event stream ended")
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
                left = [queue.get_nowait() for _ in range(queue.qsize())]
                if left:  # what arrived: stored now, or read again by the next catch-up
                    try:
                        await self._store(left)
                    except Exception as exc:
                        logger.warning(
                            "failtrack collect: %d event(s) not stored now (%s); "
                            "the next catch-up reads them again.",
                            len(left),
                            exc,
                        )

    async def _next_batch(
        self, queue: asyncio.Queue[Event], reader: asyncio.Task[None]
    ) -> list[Event]:
        batch: list[Event] = []
        deadline = time.monotonic() + self.flush_interval
        while len(batch) < self.batch_size:
            left = deadline - time.monotonic()
            if left <= 0 or (reader.done() and queue.empty()):
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), timeout=left))
            except TimeoutError:
                break
        return batch

    async def run(self, stop: Callable[[], bool] = lambda: False) -> CollectorStats:
        """Passes one after another until `stop()`; a failed pass is logged and followed
        by another after a pause (doubling, up to `MAX_PAUSE_S`)."""
        pause = PAUSE_AFTER_FAILURE_S
        while not stop():
            try:
                await self.run_once(stop)
                pause = PAUSE_AFTER_FAILURE_S
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.failures += 1
                logger.warning(
                    "failtrack collect: %s: %s; catching up again in %.0f s.",
                    type(exc).__name__,
                    exc,
                    pause,
                )
                await _sleep_unless(stop, pause)
                pause = min(pause * 2, MAX_PAUSE_S)
        return self.stats


async def _sleep_unless(stop: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not stop() and time.monotonic() < deadline:
        await asyncio.sleep(min(0.2, deadline - time.monotonic()))
