"""One row as one Prefect event, and back: what the event transport sends and the collector
reads.

The event is ``failtrack.row.<kind>`` (``failtrack.row.transition``...): the collector
subscribes to the prefix, so a kind added later (a heartbeat) travels without a change
here. Its resource is the run the row is about (``prefect.task-run.<id>`` or
``prefect.flow-run.<id>``, as Prefect names runs), with the flow run as a related
resource of a task row: the event feed of a run shows its rows. The payload is
``{"kind": ..., "row": {...}}``, the row as JSON (times as ISO text, as in the spool).

Its id derives from the row (its id, else its content): an event posted twice, after a
spool replay or a retry, is one event for Prefect and for the collector. Its ``occurred``
is when it is sent, not when the transition happened (that is in the row): Prefect's
event stream and its events API order and filter by ``occurred``, and a row sent late
(spooled, replayed an hour later) must still reach a collector that is following the
stream.

Sizes: Prefect refuses an event over ``PREFECT_SERVER_EVENTS_MAXIMUM_SIZE_BYTES`` (1.5 MB
by default, ``Event.size_bytes``, checked in ``emit_event``). A row's messages and stack
are already cut to a few kB; what can still be large is its metadata (a user's metrics),
which is dropped (with a note) when the event would be too large.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from prefect.events.schemas.events import Event
from prefect.settings import get_current_settings

from ..store.encoding import json_default

PREFIX = "failtrack.row."
ID_NAMESPACE = uuid.UUID("a3c1b9f2-2d7e-4e5b-9f0a-7b6c5d4e3f21")
_encode = json.JSONEncoder(default=json_default, separators=(",", ":")).encode


class TooLarge(ValueError):
    """A row that does not fit in a Prefect event even without its metadata."""


def event_name(kind: str) -> str:
    return f"{PREFIX}{kind}"


def event_id(kind: str, row: dict[str, Any]) -> uuid.UUID:
    """The same row gives the same id: by its id (transitions), its flow run and time
    (summaries), else its content."""
    if row.get("id"):
        key = f"{kind}:{row['id']}"
    elif kind == "summary" and row.get("flow_run_id"):
        key = f"{kind}:{row['flow_run_id']}:{row.get('updated_at')}"
    else:
        key = f"{kind}:{_encode(row)}"
    return uuid.uuid5(ID_NAMESPACE, key)


def resource(row: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The run the row is about, as Prefect names it, and its flow run as related."""
    run_kind = row.get("run_kind")
    run_id = row.get("run_id") or row.get("task_run_id") or row.get("flow_run_id")
    kind = "task-run" if run_kind == "task" else "flow-run"
    if run_id is None:
        return {"prefect.resource.id": "failtrack.recorder"}, []
    own = {"prefect.resource.id": f"prefect.{kind}.{run_id}"}
    if row.get("name"):
        own["prefect.resource.name"] = str(row["name"])
    related = []
    flow_run_id = row.get("flow_run_id")
    if kind == "task-run" and flow_run_id:
        related.append(
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
                "prefect.resource.role": "flow-run",
            }
        )
    return own, related


def to_event(
    kind: str, row: dict[str, Any], occurred: datetime | None = None, limit: int | None = None
) -> Event:
    """The event of one row; `TooLarge` when it cannot be made to fit in `limit` bytes
    (default: Prefect's maximum event size)."""
    limit = limit or get_current_settings().server.events.maximum_size_bytes
    own, related = resource(row)
    payload = json.loads(_encode({"kind": kind, "row": row}))
    event = Event(
        event=event_name(kind),
        resource=own,
        related=related,
        payload=payload,
        id=event_id(kind, row),
        **({"occurred": occurred} if occurred else {}),
    )
    if event.size_bytes <= limit:
        return event
    payload["row"]["metadata"] = {"dropped": "too large for a Prefect event"}
    event = event.model_copy(update={"payload": payload})
    if event.size_bytes > limit:
        raise TooLarge(f"a {kind} row of {event.size_bytes} bytes does not fit in an event")
    return event


def from_event(event: Event) -> tuple[str, dict[str, Any]] | None:
    """``(kind, row)`` of a ``failtrack.row.*`` event; ``None`` for any other event."""
    if not event.event.startswith(PREFIX):
        return None
    payload = event.payload
    kind, row = payload.get("kind"), payload.get("row")
    if not isinstance(kind, str) or not isinstance(row, dict):
        return None
    return kind, row
