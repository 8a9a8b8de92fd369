"""Reading back what failtrack told the test server: artifacts and events."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    ArtifactFilterType,
)
from prefect.client.schemas.objects import Artifact
from prefect.client.schemas.sorting import ArtifactSort
from prefect.events.filters import (
    EventAnyResourceFilter,
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
)
from prefect.events.worker import EventsWorker


def read_artifacts(
    flow_run_id: Any, key: str | None = None, type: str | None = "markdown"
) -> list[Artifact]:
    """The artifacts of a flow run (newest first), of one type and optionally one key.

    The type leaves out the result records Prefect stores as artifacts of no type.
    """
    artifact_filter = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    if key is not None:
        artifact_filter.key = ArtifactFilterKey(any_=[key])
    if type is not None:
        artifact_filter.type = ArtifactFilterType(any_=[type])
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=artifact_filter, sort=ArtifactSort.CREATED_DESC, limit=50
        )


def failtrack_events(flow_run_id: Any, expected: int, timeout: float = 30) -> list[Any]:
    """failtrack's events about a flow run and its task runs, once the server has `expected`.

    Events travel from the events worker to the server over a websocket and are stored by
    a server service: wait for the worker's queue, then poll the API's ``/events/filter``.
    """
    EventsWorker.instance().wait_until_empty()
    deadline = time.monotonic() + timeout
    while True:
        event_filter = EventFilter(
            occurred=EventOccurredFilter(
                since=datetime.now(UTC) - timedelta(minutes=10), until=datetime.now(UTC)
            ),
            event=EventNameFilter(prefix=["failtrack."]),
            any_resource=EventAnyResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
        )
        with get_client(sync_client=True) as client:
            events = client.read_events(filter=event_filter, limit=50).events
        if len(events) >= expected or time.monotonic() > deadline:
            return events
        time.sleep(0.5)


def run_logs(flow_run_id: Any, until: Any = None, timeout: float = 20) -> list[Any]:
    """The logs of a flow run and its task runs, as Prefect stores them (its API log handler
    ships them in the background: prefect/logging/handlers.py, APILogHandler), polled until
    ``until(logs)`` holds or `timeout` passes."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    deadline = time.monotonic() + timeout
    log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(log_filter, limit=200, offset=0)
        if until is None or until(logs) or time.monotonic() > deadline:
            return logs
        time.sleep(0.5)
