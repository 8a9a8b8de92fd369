"""A collector following the session's test server, in a thread of the test process."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from prefect_failtrack.capture import rows
from prefect_failtrack.collector import Collector
from prefect_failtrack.store.database import ensure_schema, get_engine
from prefect_failtrack.store.recorder import get_recorder, reset_recorder

TRANSPORT = "PREFECT_INTEGRATIONS_FAILTRACK_TRANSPORT"
DATABASE_URL = "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL"


def wait_until(condition: Callable[[], Any], timeout: float = 60.0, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


@contextmanager
def collecting(url: str, **options: Any) -> Iterator[Collector]:
    """A collector storing into `url` while the block runs (the harness's settings copied
    into its thread: a new thread does not inherit them)."""
    ensure_schema(url)
    options.setdefault("flush_interval", 0.1)
    # The session's server holds every earlier test's events: catch up on the last minute only.
    options.setdefault("catch_up", timedelta(minutes=1))
    options.setdefault("publish_delay", 0.5)
    collector = Collector(get_engine(url), **options)
    stop = threading.Event()
    context = contextvars.copy_context()
    failure: list[BaseException] = []

    def follow() -> None:
        try:
            context.run(asyncio.run, collector.run(stop.is_set))
        except BaseException as exc:  # reported by the test
            failure.append(exc)

    thread = threading.Thread(target=follow, name="test-collector", daemon=True)
    thread.start()
    time.sleep(1.0)  # connected before the runs it is to see
    try:
        yield collector
    finally:
        stop.set()
        thread.join(30)
    assert not failure, failure


@pytest.fixture
def sending_events() -> Iterator[None]:
    """Tracked runs send their rows as events: no database URL in this process."""
    reset_recorder()
    saved = {name: os.environ.pop(name, None) for name in (TRANSPORT, DATABASE_URL)}
    os.environ[TRANSPORT] = "events"
    rows.settings.cache_clear()
    yield
    get_recorder().flush(timeout=10)
    reset_recorder()
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value
    rows.settings.cache_clear()
