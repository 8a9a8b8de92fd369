"""The SQL cookbook's queries run on SQLite and PostgreSQL and give exactly the rows the page shows.

Convention, visible in ``docs/sql-cookbook.md``: each query is a ```` ```sql ```` block
right after an ``<!-- query: NAME -->`` comment. Every ``sql`` block of the page must
have one, and every name must have its expected rows here (the same rows as the table
under the query on the page). The history is written with failtrack's own writers into
a schema made by its own migrations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
from prefect_failtrack.store.writes import insert_summaries, insert_transitions
from tests.db_fixtures import database_url, postgres_url  # noqa: F401  (fixtures)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "sql-cookbook.md"
QUERY = re.compile(r"^<!--\s*query:\s*(?P<name>[\w-]+)\s*-->[ \t]*\n```sql\n(?P<sql>.*?)^```", re.M | re.S)
SQL_BLOCK = re.compile(r"^```sql\b", re.M)
PARAMETER = re.compile(r"(?<![:\w]):(?P<name>[a-z_]+)\b")

PARAMS = {
    "since": "2026-03-09 12:00:00+00",
    "stuck_before": "2026-03-10 11:30:00+00",
    "flow_run_id": "11111111-0000-0000-0000-000000000001",
}
DAY = datetime(2026, 3, 10, tzinfo=UTC)
NONE = None

EXPECTED: dict[str, list[tuple[Any, ...]]] = {
    "stuck-runs": [
        ("flow", "hourly", "hourly", "Running", "2026-03-10 11:00:00"),
        ("task", "extract", "hourly", "Running", "2026-03-10 11:00:01"),
    ],
    "failures-by-class": [
        ("nightly", "PERMANENT", 2),
        ("hourly", "VALIDATION", 1),
        ("nightly", "TRANSIENT", 1),
    ],
    "failure-patterns": [
        ("v1:5f0e", "TRANSIENT", "httpx.HTTPStatusError", 4, 2,
         "2026-03-10 08:00:02", "2026-03-10 09:00:10"),
        ("v1:a404", "PERMANENT", "httpx.HTTPStatusError", 2, 2,
         "2026-03-10 08:00:07", "2026-03-10 09:00:13"),
        ("v1:c9d1", "TIMEOUT", "TimeoutError", 1, 1, "2026-03-10 10:00:02", "2026-03-10 10:00:02"),
        ("v1:e77a", "VALIDATION", "ValueError", 1, 1, "2026-03-10 10:00:06", "2026-03-10 10:00:06"),
    ],
    "task-failures": [
        ("load", 2, 2, 100.0, 1),
        ("extract", 2, 1, 50.0, 3),
        ("validate", 1, 1, 100.0, 1),
        ("fetch", 1, 0, 0.0, 2),
        ("publish", 1, 0, 0.0, 1),
    ],
    "retry-effectiveness": [
        ("TIMEOUT", 1, 1, 1, 0, 100.0),
        ("TRANSIENT", 2, 3, 1, 1, 50.0),
    ],
    "run-timeline": [
        ("2026-03-10 08:00:00", "flow", "nightly", "Pending", "Running", 1, NONE, NONE, NONE),
        ("2026-03-10 08:00:01", "task", "extract", "Pending", "Running", 1, NONE, NONE, NONE),
        ("2026-03-10 08:00:02", "task", "extract", "Running", "AwaitingRetry", 1, 1000,
         "TRANSIENT", "http 503"),
        ("2026-03-10 08:00:04", "task", "extract", "AwaitingRetry", "Retrying", 2, 2000, NONE, NONE),
        ("2026-03-10 08:00:05", "task", "extract", "Retrying", "Completed", 2, 1000, NONE, NONE),
        ("2026-03-10 08:00:06", "task", "load", "Pending", "Running", 1, NONE, NONE, NONE),
        ("2026-03-10 08:00:07", "task", "load", "Running", "Failed", 1, 1000, "PERMANENT",
         "http 404"),
        ("2026-03-10 08:00:08", "flow", "nightly", "Running", "Failed", 1, 8000, "PERMANENT",
         "task load: http 404"),
    ],
    "flow-outcomes": [
        ("hourly", 1, 0, 1, 1),
        ("nightly", 2, 2, 1, 3),
    ],
}

# ----------------------------------------------------------------------------- the history

HTTP_503 = {"error_type": "TRANSIENT", "error_class": "httpx.HTTPStatusError",
            "reason": "http 503", "fingerprint": "v1:5f0e", "retryable": True,
            "error_message": "Server error '503 Service Unavailable' for url 'https://rates.example.com'"}
HTTP_404 = {"error_type": "PERMANENT", "error_class": "httpx.HTTPStatusError",
            "reason": "http 404", "fingerprint": "v1:a404", "retryable": False,
            "error_message": "Client error '404 Not Found' for url 'https://api.example.com/orders'"}
TIMED_OUT = {"error_type": "TIMEOUT", "error_class": "TimeoutError", "reason": "type TimeoutError",
             "fingerprint": "v1:c9d1", "retryable": True, "error_message": "read timed out"}
BAD_VALUE = {"error_type": "VALIDATION", "error_class": "ValueError", "reason": "type ValueError",
             "fingerprint": "v1:e77a", "retryable": False, "error_message": "negative amount: -3"}
FLOW_404 = {**HTTP_404, "reason": "task load: http 404", "fingerprint": "v1:f404"}
FLOW_503 = {**HTTP_503, "reason": "task extract: http 503", "fingerprint": "v1:f503"}

Step = tuple[str, str, str, int, dict[str, Any]]  # at (HH:MM:SS), to_state, type, run count, extra


def at(clock: str, day: datetime = DAY) -> datetime:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return day + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def run_rows(
    kind: str, name: str, flow: str, flow_run: str, run_id: str, steps: list[Step],
    day: datetime = DAY,
) -> list[dict[str, Any]]:
    """One run's transitions, each from the state before it, with the time spent there."""
    rows, previous, before = [], "Pending", None
    for clock, state, state_type, run_count, extra in steps:
        when = at(clock, day)
        rows.append({
            "id": f"{run_id}-{state}-{run_count}",
            "run_kind": kind,
            "run_id": run_id,
            "flow_run_id": flow_run,
            "task_run_id": run_id if kind == "task" else None,
            "name": name,
            "flow_name": flow,
            "from_state": previous,
            "to_state": state,
            "to_state_type": state_type,
            "occurred_at": when,
            "duration_in_state_ms": None if before is None else int((when - before).total_seconds() * 1000),
            "run_count": run_count,
            **extra,
        })
        previous, before = state, when
    return rows


def flow_run(number: int) -> str:
    return f"11111111-0000-0000-0000-00000000000{number}"


def history() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    fr1, fr2, fr3, fr4, fr5, fr0 = (flow_run(n) for n in (1, 2, 3, 4, 5, 0))
    run, retry, failed, done = "RUNNING", "SCHEDULED", "FAILED", "COMPLETED"
    earlier = DAY - timedelta(days=2)
    transitions = [
        # 1: extract retried once (503) and completed; load 404; the flow failed.
        *run_rows("flow", "nightly", "nightly", fr1, fr1, [
            ("08:00:00", "Running", run, 1, {}), ("08:00:08", "Failed", failed, 1, FLOW_404)]),
        *run_rows("task", "extract", "nightly", fr1, "t1-extract", [
            ("08:00:01", "Running", run, 1, {}),
            ("08:00:02", "AwaitingRetry", retry, 1, {**HTTP_503, "retry_delay_s": 2.0}),
            ("08:00:04", "Retrying", run, 2, {}), ("08:00:05", "Completed", done, 2, {})]),
        *run_rows("task", "load", "nightly", fr1, "t1-load", [
            ("08:00:06", "Running", run, 1, {}), ("08:00:07", "Failed", failed, 1, HTTP_404)]),
        # 2: extract 503 three times, retries spent; load 404; the flow failed.
        *run_rows("flow", "nightly", "nightly", fr2, fr2, [
            ("09:00:00", "Running", run, 1, {}), ("09:00:14", "Failed", failed, 1, FLOW_503)]),
        *run_rows("task", "extract", "nightly", fr2, "t2-extract", [
            ("09:00:01", "Running", run, 1, {}),
            ("09:00:02", "AwaitingRetry", retry, 1, {**HTTP_503, "retry_delay_s": 2.0}),
            ("09:00:04", "Retrying", run, 2, {}),
            ("09:00:05", "AwaitingRetry", retry, 2, {**HTTP_503, "retry_delay_s": 4.0}),
            ("09:00:09", "Retrying", run, 3, {}),
            ("09:00:10", "Failed", failed, 3, HTTP_503)]),
        *run_rows("task", "load", "nightly", fr2, "t2-load", [
            ("09:00:12", "Running", run, 1, {}), ("09:00:13", "Failed", failed, 1, HTTP_404)]),
        # 3: fetch timed out once and completed; validate failed; publish completed.
        *run_rows("flow", "hourly", "hourly", fr3, fr3, [
            ("10:00:00", "Running", run, 1, {}), ("10:00:09", "Completed", done, 1, {})]),
        *run_rows("task", "fetch", "hourly", fr3, "t3-fetch", [
            ("10:00:01", "Running", run, 1, {}),
            ("10:00:02", "AwaitingRetry", retry, 1, {**TIMED_OUT, "retry_delay_s": 1.0}),
            ("10:00:03", "Retrying", run, 2, {}), ("10:00:04", "Completed", done, 2, {})]),
        *run_rows("task", "validate", "hourly", fr3, "t3-validate", [
            ("10:00:05", "Running", run, 1, {}), ("10:00:06", "Failed", failed, 1, BAD_VALUE)]),
        *run_rows("task", "publish", "hourly", fr3, "t3-publish", [
            ("10:00:07", "Running", run, 1, {}), ("10:00:08", "Completed", done, 1, {})]),
        # 4: stuck since 11:00; 5: running since 11:50, not stuck yet.
        *run_rows("flow", "hourly", "hourly", fr4, fr4, [("11:00:00", "Running", run, 1, {})]),
        *run_rows("task", "extract", "hourly", fr4, "t4-extract", [
            ("11:00:01", "Running", run, 1, {})]),
        *run_rows("flow", "nightly", "nightly", fr5, fr5, [("11:50:00", "Running", run, 1, {})]),
        # Two days earlier, outside the window: load got the same 404.
        *run_rows("flow", "nightly", "nightly", fr0, fr0, [
            ("12:00:00", "Running", run, 1, {}), ("12:00:04", "Failed", failed, 1, FLOW_404)],
            day=earlier),
        *run_rows("task", "load", "nightly", fr0, "t0-load", [
            ("12:00:01", "Running", run, 1, {}), ("12:00:02", "Failed", failed, 1, HTTP_404)],
            day=earlier),
    ]

    def summary(run_id: str, flow: str, start: datetime, end: datetime, state: str,
                counts: tuple[int, int, int], by_class: dict[str, int], retries: int,
                partial: bool) -> dict[str, Any]:
        total, completed, failed_tasks = counts
        return {
            "flow_run_id": run_id, "flow_name": flow, "started_at": start, "ended_at": end,
            "final_state": state, "final_state_type": state.upper(), "tasks_total": total,
            "tasks_completed": completed, "tasks_failed": failed_tasks,
            "failures_by_class": by_class, "retries_spent": retries, "partial_success": partial,
        }

    summaries = [
        summary(fr1, "nightly", at("08:00:00"), at("08:00:08"), "Failed", (2, 1, 1),
                {"PERMANENT": 1}, 1, True),
        summary(fr2, "nightly", at("09:00:00"), at("09:00:14"), "Failed", (2, 0, 2),
                {"TRANSIENT": 1, "PERMANENT": 1}, 2, False),
        summary(fr3, "hourly", at("10:00:00"), at("10:00:09"), "Completed", (3, 2, 1),
                {"VALIDATION": 1}, 1, True),
        summary(fr0, "nightly", at("12:00:00", earlier), at("12:00:04", earlier), "Failed",
                (1, 0, 1), {"PERMANENT": 1}, 0, False),
    ]
    return transitions, summaries


# ----------------------------------------------------------------------------- the tests


def page_queries() -> dict[str, str]:
    text_ = PAGE.read_text(encoding="utf-8")
    queries: dict[str, str] = {}
    for match in QUERY.finditer(text_):
        assert match["name"] not in queries, f"two queries named {match['name']!r}"
        queries[match["name"]] = match["sql"]
    return queries


QUERIES = page_queries()


def test_every_sql_block_is_a_tested_query() -> None:
    blocks = len(SQL_BLOCK.findall(PAGE.read_text(encoding="utf-8")))
    assert blocks == len(QUERIES), "an sql block without an '<!-- query: NAME -->' marker"
    assert set(QUERIES) == set(EXPECTED), "queries on the page and expected results differ"


@pytest.fixture
def audit(database_url: str) -> Iterator[Engine]:  # noqa: F811
    """The known history, in a database made by failtrack's migrations."""
    ensure_schema(database_url)
    engine = get_engine(database_url)
    transitions, summaries = history()
    with engine.begin() as connection:
        insert_transitions(connection, transitions, derive_summaries=False)
        insert_summaries(connection, summaries)
    yield engine
    dispose_engines()


def plain(value: Any) -> Any:
    """One cell, the same on both databases: timestamps to the second, numbers as numbers."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", value):
        return value[:19]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return int(value)
    return value


def test_the_history_is_written() -> None:
    transitions, summaries = history()
    assert len({row["id"] for row in transitions}) == len(transitions) == 35
    assert len(summaries) == 4


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_query_gives_the_documented_rows(name: str, audit: Engine) -> None:
    sql = QUERIES[name]
    params = {key: PARAMS[key] for key in PARAMETER.findall(sql)}
    with audit.connect() as connection:
        rows = [tuple(plain(value) for value in row) for row in connection.execute(text(sql), params)]
    assert rows == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_page_shows_the_expected_rows(name: str) -> None:
    """The markdown table right after each query holds exactly the expected rows."""
    page = PAGE.read_text(encoding="utf-8")
    after = page[page.index(f"<!-- query: {name} -->"):]
    table = re.search(r"^\|.*?(?=\n\n|\Z)", after[after.index("```\n", 10):], re.M | re.S)
    assert table, f"no result table after the query {name!r}"
    lines = table.group(0).splitlines()[2:]  # after the header and its rule
    shown = [tuple(cell.strip() for cell in line.strip("|").split("|")) for line in lines]
    expected = [tuple("" if v is None else str(v) for v in row) for row in EXPECTED[name]]
    assert shown == expected
