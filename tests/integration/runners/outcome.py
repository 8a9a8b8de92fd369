"""What one flow run left behind, in a form that compares across task runners: rows per
task run, the summary, the flow's own class, the failure-summary artifact."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from prefect_failtrack.store.database import get_engine
from prefect_failtrack.store.models import flow_runs, transitions
from tests.integration.prefect_reads import read_artifacts

SUMMARY_FIELDS = (
    "final_state", "final_state_type", "tasks_total", "tasks_completed", "tasks_failed",
    "tasks_not_ready", "failures_by_class", "retries_spent", "partial_success",
)  # fmt: skip


@dataclass
class Outcome:
    """A flow run's trail, without what differs from one run to the next (ids, times)."""

    task_rows: Counter[tuple[str, tuple[tuple[Any, ...], ...]]]
    flow_rows: list[tuple[Any, ...]]
    summary: dict[str, Any]
    artifact: list[str] | None


def task_rows(url: str, flow_run_id: str) -> dict[str, list[dict[str, Any]]]:
    """The task rows of a flow run, by task run id, in order."""
    t = transitions.c
    query = (
        select(transitions)
        .where(t.flow_run_id == flow_run_id, t.run_kind == "task")
        .order_by(t.occurred_at, t.run_count)
    )
    grouped: dict[str, list[dict[str, Any]]] = {}
    with get_engine(url).connect() as connection:
        for row in connection.execute(query):
            grouped.setdefault(row.run_id, []).append(dict(row._mapping))
    return grouped


def outcome(url: str, flow_run_id: str, *, artifact: bool = True) -> Outcome:
    t = transitions.c
    runs = task_rows(url, flow_run_id)
    per_run = Counter(
        (
            rows[0]["name"],
            tuple(
                (r["from_state"], r["to_state"], r["run_count"], r["error_type"], r["retryable"])
                for r in rows
            ),
        )
        for rows in runs.values()
    )
    with get_engine(url).connect() as connection:
        flow = connection.execute(
            select(t.to_state, t.run_count, t.error_type, t.error_class, t.reason, t.flow_name)
            .where(t.run_id == flow_run_id)
            .order_by(t.occurred_at)
        ).all()
        summary = connection.execute(
            select(flow_runs).where(flow_runs.c.flow_run_id == flow_run_id)
        ).first()
    found = None
    if artifact:
        artifacts = read_artifacts(flow_run_id)
        found = normalized(artifacts[0].data, runs) if artifacts else None
    names = run_names(runs)
    return Outcome(
        task_rows=per_run,
        flow_rows=[(*r[:4], anonymous(r[4], names), r[5]) for r in flow],
        summary={k: summary._mapping[k] for k in SUMMARY_FIELDS} if summary else {},
        artifact=found,
    )


_TITLE = re.compile(r"^# Flow run '.*' ended")


def run_names(runs: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Task run names (random suffixes) -> their task's name, longest first."""
    names = {}
    for rows in runs.values():
        for row in rows:
            run_name = (row.get("metadata") or {}).get("run_name")
            if run_name:
                names[run_name] = row["name"]
    return dict(sorted(names.items(), key=lambda item: -len(item[0])))


def anonymous(text: str | None, names: dict[str, str]) -> str | None:
    for run_name, task in names.items():
        text = text.replace(run_name, task) if text else text
    return text


def normalized(markdown: str, runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The artifact's lines, sorted, with run names (random) replaced by their task's name."""
    names = run_names(runs)
    lines = [
        anonymous(_TITLE.sub("# Flow run <name> ended", line), names) or ""
        for line in markdown.splitlines()
    ]
    return sorted(lines)
