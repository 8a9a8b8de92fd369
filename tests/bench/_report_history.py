"""A month of tracked runs, as transitions and run summaries: the history ``bench_report`` loads.

A dozen flows of 3 to 9 tasks; most task runs complete, the rest fail in every class,
some after retries that recover or are exhausted; a fingerprint per error site (some
new in the last days, some back after weeks of quiet); a few runs stuck in Running.
Deterministic for a seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect_failtrack.fingerprint import fingerprint

SPAN = timedelta(days=30)
END = datetime(2026, 6, 30, tzinfo=UTC)
BATCH = 20_000

# (error_type, error_class, message template, retryable); "{n}" varies per occurrence.
ERRORS = [
    ("TRANSIENT", "httpx.ConnectTimeout", "timed out connecting to api-{n}.example.com:443", True),
    ("TRANSIENT", "builtins.ConnectionResetError", "[Errno 104] Connection reset by peer", True),
    (
        "TRANSIENT",
        "psycopg.errors.SerializationFailure",
        "could not serialize access due to concurrent update on row {n}",
        True,
    ),
    (
        "TRANSIENT",
        "httpx.HTTPStatusError",
        "Server error '503 Service Unavailable' for url 'https://api.example.com/v2/orders/{n}'",
        True,
    ),
    ("TIMEOUT", "builtins.TimeoutError", "the export took longer than {n} s", True),
    (
        "PERMANENT",
        "httpx.HTTPStatusError",
        "Client error '404 Not Found' for url 'https://api.example.com/v2/orders/{n}'",
        False,
    ),
    (
        "PERMANENT",
        "psycopg.errors.UndefinedTable",
        'relation "analytics.orders_{n}" does not exist',
        False,
    ),
    (
        "VALIDATION",
        "pydantic_core._pydantic_core.ValidationError",
        "1 validation error for Order amount: input should be a valid number, got 'n/a' (row {n})",
        False,
    ),
    ("VALIDATION", "builtins.ValueError", "invalid literal for int() with base 10: 'x{n}'", False),
    ("UNKNOWN", "pipelines.errors.ExportError", "export step {n} failed without a reason", False),
    (
        "DEPENDENCY",
        "prefect.exceptions.UpstreamTaskError",
        "upstream task run {n} did not finish",
        False,
    ),
]


class History:
    """Transitions and run summaries of a month of flow runs, deterministic for a seed."""

    def __init__(self, rows: int, seed: int = 11) -> None:
        self.target = rows
        self.rng = random.Random(seed)
        self.flows = [self._flow(i) for i in range(12)]
        self.start = END - SPAN

    def _flow(self, i: int) -> dict[str, Any]:
        rng = self.rng
        name = [
            "orders",
            "events",
            "billing",
            "crm",
            "ads",
            "inventory",
            "payments",
            "search",
            "users",
            "shipping",
            "reviews",
            "ledger",
        ][i]
        tasks = [
            f"{step}_{name}"
            for step in rng.sample(
                [
                    "extract",
                    "validate",
                    "transform",
                    "enrich",
                    "dedupe",
                    "load",
                    "publish",
                    "reconcile",
                    "archive",
                ],
                rng.randint(3, 9),
            )
        ]
        sites: dict[str, list[tuple[tuple[Any, ...], str]]] = {}
        for task in tasks:  # each task fails in a few places, each place one fingerprint
            sites[task] = [
                (error, fingerprint(error[1], error[2].format(n=1), f"pipelines.{name}:{task}"))
                for error in rng.sample(ERRORS, 4)
            ]
        return {
            "name": f"{['nightly', 'hourly', 'daily'][i % 3]}_{name}",
            "tasks": tasks,
            "sites": sites,
            "deployment": str(uuid.uuid4()),
            "tags": sorted({"prod", f"team-{i % 4}", ["etl", "elt"][i % 2]}),
            "origin": ["source", "destination", None][i % 3],
            "failure_bias": 0.5 + i / 8,  # some flows fail more than others
        }

    def batches(self) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """(transitions, summaries) in batches, until the target number of transitions."""
        made = 0
        rows: list[dict[str, Any]] = []
        summaries: list[dict[str, Any]] = []
        while made < self.target:
            flow_rows, summary = self._flow_run()
            flow_rows = flow_rows[: self.target - made]
            made += len(flow_rows)
            rows += flow_rows
            summaries.append(summary)
            if len(rows) >= BATCH:
                yield rows, summaries
                rows, summaries = [], []
        if rows:
            yield rows, summaries

    def _error(
        self, flow: dict[str, Any], task: str, kinds: tuple[str, ...], at: datetime
    ) -> dict[str, Any]:
        rng = self.rng
        choices = [(e, fp) for e, fp in flow["sites"][task] if e[0] in kinds]
        if not choices:
            choices = [
                (e, fingerprint(e[1], e[2].format(n=1), task)) for e in ERRORS if e[0] in kinds
            ]
        error, fp = rng.choice(choices)
        age = (END - at).days
        if (age > 20 or age < 3) and rng.random() < 0.3:  # quiet for weeks, then back
            fp = fp[:-1] + "r"
        elif age < 2 and rng.random() < 0.2:  # a site that appeared only lately
            fp = fp[:-1] + "n"
        return {
            "error_type": error[0],
            "error_class": error[1],
            "error_message": error[2].format(n=rng.randint(1, 10**6)),
            "stack_trace": f"Traceback (most recent call last):\n  ...\n{error[1]}: ...",
            "fingerprint": fp,
            "retryable": error[3],
            "reason": f"type {error[1]}",
        }

    def _flow_run(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        rng = self.rng
        flow = rng.choice(self.flows)
        flow_run_id = str(uuid.uuid4())
        at = self.start + timedelta(seconds=rng.uniform(0, SPAN.total_seconds() - 7200))
        base = {
            "flow_run_id": flow_run_id,
            "flow_name": flow["name"],
            "deployment_id": flow["deployment"],
            "tags": flow["tags"],
        }
        rows: list[dict[str, Any]] = []

        def add(
            run_kind: str,
            run_id: str,
            name: str,
            from_state: str | None,
            to_state: str,
            to_type: str,
            when: datetime,
            since: datetime | None,
            run_count: int,
            **extra: Any,
        ) -> None:
            rows.append(
                {
                    **base,
                    "id": str(uuid.uuid4()),
                    "run_kind": run_kind,
                    "run_id": run_id,
                    "task_run_id": run_id if run_kind == "task" else None,
                    "name": name,
                    "from_state": from_state,
                    "to_state": to_state,
                    "to_state_type": to_type,
                    "occurred_at": when,
                    "run_count": run_count,
                    "duration_in_state_ms": int((when - since).total_seconds() * 1000)
                    if since
                    else None,
                    "origin": flow["origin"] if run_kind == "task" else None,
                    "metadata": {},
                    **extra,
                }
            )

        started = at
        add("flow", flow_run_id, flow["name"], "Pending", "Running", "RUNNING", at, None, 1)
        completed = failed = retries = 0
        by_class: dict[str, int] = {}
        stuck = False
        for task in flow["tasks"]:
            run_id = str(uuid.uuid4())
            at += timedelta(milliseconds=rng.randint(50, 2000))
            if rng.random() < 0.3:  # reconciled runs also have their Pending row
                add("task", run_id, task, None, "Pending", "PENDING", at, None, 0)
            running = at
            add("task", run_id, task, "Pending", "Running", "RUNNING", at, None, 1)
            state, count, last = "Running", 1, at
            luck = rng.random() / flow["failure_bias"]
            if luck < 0.0005:  # stuck: nothing after Running, ever
                stuck = True
                break
            if luck < 0.03:  # retried for a transient error or a timeout
                kinds = ("TIMEOUT",) if luck < 0.008 else ("TRANSIENT",)
                for _ in range(rng.randint(1, 3)):
                    error = self._error(flow, task, kinds, at)
                    at += timedelta(seconds=rng.uniform(0.5, 60))
                    delay = rng.choice([1.0, 2.0, 4.0, 8.0])
                    add(
                        "task",
                        run_id,
                        task,
                        state,
                        "AwaitingRetry",
                        "SCHEDULED",
                        at,
                        last,
                        count,
                        retry_delay_s=delay,
                        retries_left=2,
                        **error,
                    )
                    last, retries = at, retries + 1
                    at += timedelta(seconds=delay * rng.uniform(1.0, 1.3))
                    count += 1
                    add(
                        "task",
                        run_id,
                        task,
                        "AwaitingRetry",
                        "Retrying",
                        "RUNNING",
                        at,
                        last,
                        count,
                    )
                    state, last = "Retrying", at
                at += timedelta(seconds=rng.uniform(0.5, 120))
                if rng.random() < 0.7:
                    add("task", run_id, task, state, "Completed", "COMPLETED", at, last, count)
                    completed += 1
                else:
                    final = "TimedOut" if kinds == ("TIMEOUT",) else "Failed"
                    add(
                        "task",
                        run_id,
                        task,
                        state,
                        final,
                        "FAILED",
                        at,
                        last,
                        count,
                        retries_left=0,
                        **error,
                    )
                    failed += 1
                    by_class[error["error_type"]] = by_class.get(error["error_type"], 0) + 1
            elif luck < 0.04:  # fails at once: permanent, validation, unknown, dependency
                at += timedelta(seconds=rng.uniform(0.1, 30))
                error = self._error(
                    flow, task, ("PERMANENT", "VALIDATION", "UNKNOWN", "DEPENDENCY"), at
                )
                add(
                    "task",
                    run_id,
                    task,
                    "Running",
                    "Failed",
                    "FAILED",
                    at,
                    running,
                    1,
                    retries_left=0,
                    **error,
                )
                failed += 1
                by_class[error["error_type"]] = by_class.get(error["error_type"], 0) + 1
            else:
                at += timedelta(seconds=rng.lognormvariate(2.5, 1.2))
                add("task", run_id, task, "Running", "Completed", "COMPLETED", at, running, 1)
                completed += 1
        summary = {
            "flow_run_id": flow_run_id,
            "flow_name": flow["name"],
            "deployment_id": flow["deployment"],
            "started_at": started,
            "tasks_total": len(flow["tasks"]),
            "tasks_completed": completed,
            "tasks_failed": failed,
            "failures_by_class": by_class,
            "retries_spent": retries,
            "tags": flow["tags"],
            "updated_at": at,
        }
        if not stuck:
            at += timedelta(milliseconds=rng.randint(10, 500))
            final, kind = ("Failed", "FAILED") if failed else ("Completed", "COMPLETED")
            add("flow", flow_run_id, flow["name"], "Running", final, kind, at, started, 1)
            summary.update(
                ended_at=at,
                final_state=final,
                final_state_type=kind,
                partial_success=completed > 0 and failed > 0,
            )
        return rows, summary
