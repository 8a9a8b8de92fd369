"""redaction: the secrets of the redaction corpus go through real tracked flows, and not one of
them is found in any stored column, nor in the spool file.

The corpus is `tests/unit/test_redaction.py`'s ``CORPUS`` (name -> text, secrets, kept).
Each case's text goes, in real flows run by Prefect, into one task that

- fails once with a transient error quoting it (an ``AwaitingRetry`` row: error
  columns, and failtrack's decision in its metadata), and is retried;
- records a metric named after it (``record_metrics``: the metadata of its next row,
  and the flow run summary's metrics);
- fails for good with it in the message, in the exception that one was raised from
  (so twice in the stack trace) and in a note (``add_note``, printed with the stack);
  the user's own classification rule decides, with a reason that quotes the message;
- carries it in a tag;

and the flow itself fails with an exception quoting a few of the cases, and carries
those in its tags.

One flow runs with the audit database unreachable (its rows wait in the spool file,
which is scanned too), then the database is back and the spool is replayed. Reconcile
then adds what the API knows (its rows are built from Prefect's state messages).
Finally every column of every row of both tables is scanned, as JSON, for every secret
(also in its JSON-escaped form), and so are what failtrack published to Prefect for
those runs: the failure-summary artifacts, the ``failtrack.*`` events and failtrack's
own lines in the runs' logs. ``secrets`` counts the secret strings, ``placements``
the places a case's text was put, ``leaked`` the secrets found, ``kept_lost`` the cases
whose first context snippet (what makes the error debuggable) is nowhere to be found.
"""

from __future__ import annotations

import json
import time
from typing import Any
from uuid import UUID

from prefect import tags
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.context import TaskRunContext
from prefect.events.filters import EventFilter, EventNameFilter
from prefect.futures import wait
from sqlalchemy import text

from prefect_failtrack import (
    ErrorType,
    RetryPolicy,
    record_metrics,
    tracked_flow,
    tracked_task,
)
from prefect_failtrack.classification import Verdict
from prefect_failtrack.reconcile import reconcile
from prefect_failtrack.settings import get_settings
from prefect_failtrack.store.database import ensure_schema, get_engine
from prefect_failtrack.store.recorder import get_recorder
from tests.drills._common import log, postgres_database, scalar, use_database, wait_until
from tests.unit.test_redaction import CORPUS

NEEDS_PREFECT = True
MUST_BE_ZERO = ("kept_lost", "flows_unfinished", "rejected")
HOSTILE_TEXT = ("nul\x00in a tag", "lone \ud800 surrogate")
"""Text no database takes as it is (PostgreSQL refuses NUL; UTF-8 cannot encode a lone
surrogate), in a metric name of every task and (NUL only: Prefect itself cannot send a
lone surrogate) a tag of every flow run: stored escaped, none refused (``rejected``)."""
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/unreachable"
FAST = RetryPolicy.default().override(ErrorType.TRANSIENT, initial_delay=0, jitter=0)
PLACES = ("message", "cause", "note", "retried", "metric", "rule reason", "tags", "flow",
          "flow tags")
"""Where a case's text goes: every case everywhere but the flow's own (a few per flow)."""


class DriverError(Exception):
    """What a database driver raises: its message quotes the connection string."""


class VendorError(Exception):
    """An error type only the user's own rule knows."""


def quoting_rule(exc: BaseException) -> Verdict | None:
    """A user's rule whose reason quotes the message, as people write them."""
    if isinstance(exc, VendorError):
        return Verdict(ErrorType.PERMANENT, f"vendor refused: {exc}")
    return None


@tracked_task(policy=FAST, rules=[quoting_rule])
def leaky(case: str) -> None:
    """Fails once with a transient error (retried), then for good with the text everywhere."""
    body = CORPUS[case].text
    if TaskRunContext.get().task_run.run_count == 1:
        raise ConnectionResetError(f"reset while talking to {body}")
    record_metrics(**{f"rows from {body}": 1, **{text: 1 for text in HOSTILE_TEXT}})
    try:
        raise DriverError(f"inner: {body}")  # in the chain, so in the stack trace
    except DriverError as inner:
        error = VendorError(f"load failed: {body}")  # the user's rule quotes it as its reason
        error.add_note(f"while loading with {body}")
        raise error from inner


@tracked_flow(name="drill-redaction")
def corpus_flow(cases: list[str], flow_cases: list[str]) -> None:
    tagged = [leaky.with_options(tags=[f"source={CORPUS[c].text[:200]}"]) for c in cases]
    wait([task.submit(case) for task, case in zip(tagged, cases, strict=True)])
    raise RuntimeError("flow failed: " + " | ".join(CORPUS[c].text for c in flow_cases))


def _scan(blob: str) -> dict[str, str]:
    """case -> a secret of it found in `blob`."""
    return {
        name: secret
        for name, case in CORPUS.items()
        for secret in case.secrets
        if secret in blob or json.dumps(secret)[1:-1] in blob
    }


def _stored(url: str) -> dict[str, str]:
    """``table.column`` -> every value of that column, as JSON lines."""
    ensure_schema(url)
    columns: dict[str, list[str]] = {}
    with get_engine(url).connect() as connection:
        for table in ("failtrack_transitions", "failtrack_flow_runs"):
            for row in connection.execute(text(f"SELECT * FROM {table}")).mappings():
                for name, value in row.items():
                    dumped = json.dumps(value, default=str, ensure_ascii=False)
                    columns.setdefault(f"{table}.{name}", []).append(dumped)
    return {column: "\n".join(values) for column, values in columns.items()}


def _published(flow_run_ids: list[str]) -> dict[str, str]:
    """What failtrack published to Prefect for these flow runs: artifacts and events, as JSON."""
    time.sleep(3)  # events are sent by a background worker
    with get_client(sync_client=True) as client:
        # The route itself: Prefect 3.8's sync client sends an empty task run filter, which
        # keeps only artifacts of task runs (a flow run's own artifact is not one of them).
        response = client.request(
            "POST", "/artifacts/filter",
            json={"flow_runs": {"id": {"any_": flow_run_ids}}, "limit": 200},
        )  # fmt: skip
        artifacts = [a.get("data") for a in response.json()]
        page = client.read_events(EventFilter(event=EventNameFilter(prefix=["failtrack."])), 50)
        events = list(page.events)
        while page.next_page is not None:
            page = client.read_events_page(page.next_page)
            events.extend(page.events)
        # failtrack's own lines in the runs' logs (Prefect's own lines quote the exception
        # as it is: those are Prefect's, see docs/reliability.md), page by page.
        ours: list[str] = []
        log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[UUID(i) for i in flow_run_ids]))
        while batch := client.read_logs(log_filter, limit=200, offset=len(ours)):
            ours.extend(line.message for line in batch)
    mine = [e for e in events if any(i in e.model_dump_json() for i in flow_run_ids)]
    decisions = [line for line in ours if line.startswith("failtrack:")]
    return {
        "prefect artifacts": "\n".join(json.dumps(a, ensure_ascii=False) for a in artifacts),
        "prefect events": "\n".join(e.model_dump_json() for e in mine),
        "failtrack's log lines": "\n".join(decisions),
        "_counts": f"{len(artifacts)} {len(mine)} {len(decisions)}",
    }


def run(quick: bool) -> dict[str, Any]:
    names = sorted(CORPUS)
    per_flow = 4
    groups = [names[i : i + per_flow] for i in range(0, len(names), per_flow)]
    flows = 1 if quick else 4  # the first with the database unreachable; `per_flow` cases each
    spool_path = get_settings().spool_path()
    flow_run_ids: list[str] = []
    unfinished = 0
    spool_text = ""
    refused: list[int] = []

    def use(url: str | None) -> None:  # each recorder's refused rows, counted once it is closed
        closing = get_recorder()
        use_database(url)
        refused.append(closing.stats()["rejected"])

    with postgres_database("redaction") as url:
        for k in range(flows):
            outage = k == 0
            use(UNREACHABLE if outage else url)
            t0 = time.monotonic()
            flow_cases = groups[k % len(groups)]
            flow_tags = [f"dsn={CORPUS[c].text[:200]}" for c in flow_cases] + [HOSTILE_TEXT[0]]
            with tags(*flow_tags):  # flow run tags
                state = corpus_flow(names, flow_cases, return_state=True)
            flow_run_ids.append(str(state.state_details.flow_run_id))
            unfinished += not state.is_failed()
            log("flow %d%s: %s in %.1f s", k + 1, " (database unreachable)" if outage else "",
                state.type.value, time.monotonic() - t0)
            if outage:
                get_recorder().flush(timeout=30)
                use(None)  # closes it: what it holds is in the spool now
                spool_text = spool_path.read_text(encoding="utf-8", errors="replace")
                use(url)  # the next recorder replays the spool
                recorder = get_recorder()
                wait_until(lambda: not spool_path.exists(), timeout=30)
                recorder.flush(timeout=30)
        get_recorder().flush(timeout=30)
        added = reconcile(flow_run_ids=flow_run_ids, url=url).inserted
        use(None)
        stored = _stored(url)
        rows = scalar(url, "SELECT count(*) FROM failtrack_transitions")
    published = _published(flow_run_ids)
    artifacts, events, log_lines = map(int, published.pop("_counts").split())
    leaks: dict[str, set[str]] = {}
    for column, blob in [*stored.items(), ("spool file", spool_text), *published.items()]:
        for name, secret in _scan(blob).items():
            leaks.setdefault(f"{name}: {secret!r}", set()).add(column)
    for leak, where in sorted(leaks.items()):
        log("LEAK: %s in %s", leak, ", ".join(sorted(where)))
    everything = "\n".join(stored.values())
    kept_lost = [n for n in names if CORPUS[n].kept
                 and CORPUS[n].kept[0] not in everything
                 and json.dumps(CORPUS[n].kept[0])[1:-1] not in everything]  # fmt: skip
    for name in kept_lost:
        log("context lost: %s: %r", name, CORPUS[name].kept[0])
    return {
        "cases": len(names),
        "secrets": sum(len(CORPUS[n].secrets) for n in names),
        "placements": flows * (len(names) * (len(PLACES) - 2) + 2 * per_flow),
        "leaked": len(leaks),
        "kept_lost": len(kept_lost),
        "rows_scanned": rows,
        "columns_scanned": len(stored),
        "artifacts_scanned": artifacts,
        "events_scanned": events,
        "log_lines_scanned": log_lines,
        "spool_bytes_scanned": len(spool_text),
        "reconcile_added": added,
        "flows": flows,
        "flows_unfinished": unfinished,
        "rejected": sum(refused),
    }
