"""How rows leave a process: straight into the audit database, or as Prefect events.

The recorder (`prefect_failtrack.store.recorder`) takes rows from the hooks without ever
blocking or failing a run; what it does with a batch is its *sink*'s business:

- ``database`` (the default, `prefect_failtrack.store.sink`): batches are written to the
  audit database; the process needs its URL and credentials.
- ``events`` (`events`, ``PREFECT_INTEGRATIONS_FAILTRACK_TRANSPORT=events``): each row
  becomes one Prefect event, ``failtrack.row.<kind>`` (``transition``, ``summary``, and
  any kind added later, such as ``heartbeat``), with the row as its payload and its run
  as its resource. A batch is posted to Prefect's events API in one request, with the
  API URL and credentials the process already has for Prefect: a worker needs no
  database URL at all. A batch that cannot be posted is spooled and posted again later,
  exactly as a batch the database could not take; event ids derive from the rows, so an
  event posted twice is one event.

Which process knows what, and when, with events:

- a task run's process knows its transitions and posts them by the end of the task run
  (at its end in a worker process, which may be torn down right after: a process pool,
  Dask, Ray), as with the database;
- the flow's process knows the flow run's own transitions, posts its final row and
  flushes, but has no store to read the flow run's view back from. Its final row says
  so: a flow run that failed without an exception of its own (its task runs failed) is
  posted as UNKNOWN with ``metadata.class_from_runs``; and it publishes nothing about
  the failure (tags, artifact, flow event);
- the **collector** (`prefect_failtrack.collector`, ``failtrack collect``) receives the
  events, stores the rows through the same idempotent path as every writer
  (`prefect_failtrack.store.writes`), and so derives the summaries there. For a flow run
  whose final row failed, it notes an outbox entry in the same transaction; a moment
  later (`publish delay`, so that task rows still in flight from other processes land
  first) it gives the flow's row the class of its worst failure when it had none of its
  own, and publishes what the flow-end hook publishes in direct mode: the ``failtrack:*``
  tags, the failure-summary artifact and the ``failtrack.failure.classified`` event.
  A collector killed in between finds the outbox entry after its restart.

What the events transport does not give: a read-back of stored retries for an attempt
that lands in a process which has not seen its run (`Recorder.spent` returns nothing):
Prefect retries a task run in the same process, so this only matters for a worker
replaced mid-run.
"""

from __future__ import annotations

DATABASE = "database"
EVENTS = "events"
TRANSPORTS = (DATABASE, EVENTS)

__all__ = ["DATABASE", "EVENTS", "TRANSPORTS"]
