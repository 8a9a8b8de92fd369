"""``failtrack runs``: the flow runs that ended in a window, newest first, from the run
summaries; --json is the `RunList` model, exactly. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from prefect_failtrack.reports import recent_runs
from prefect_failtrack.store.writes import insert_summaries
from tests.reports.history import END, History
from tests.reports.test_cli_reports import UNTIL, as_json, dumped, named, run

NEWEST_FIRST = ["F8", "F9", "F3", "F2", "F1", "EDGE1"]  # by end (tests/reports/history.py)


def ids(found: dict, history: History) -> list[str]:
    keys = {run_id: key for key, run_id in history.ids.items()}
    return [keys[r["flow_run_id"]] for r in found["runs"]]


def test_runs_json_is_the_model_newest_first(
    capsys, database_url: str, engine: Engine, history: History
) -> None:
    code, out, err = run(capsys, "runs", "--until", UNTIL, "--url", database_url, "--json")
    assert (code, err) == (0, f"Audit database: {database_url}\n")
    found = as_json(out)
    assert found == dumped(recent_runs(engine, until=END))
    assert ids(found, history) == NEWEST_FIRST and found["total"] == 6
    f1 = found["runs"][NEWEST_FIRST.index("F1")]
    assert (f1["flow_name"], f1["final_state"], f1["final_state_type"]) == (
        "nightly", "Failed", "FAILED",
    )
    assert (f1["tasks_total"], f1["tasks_failed"], f1["partial_success"]) == (2, 1, True)


@pytest.mark.parametrize(
    "argv, expected, total",
    [
        (["--flow", "hourly"], ["F8", "F3"], 2),
        (["--state", "failed"], ["F3", "F2", "F1"], 3),  # a state type, in any case
        (["--state", "Crashed"], ["F8"], 1),  # a state name
        (["--flow", "nightly", "--state", "COMPLETED"], ["F9", "EDGE1"], 2),
        (["--limit", "2"], ["F8", "F9"], 6),
        (["--since", "2h"], ["F8", "F9"], 2),
        (["--until", (END - timedelta(hours=2)).isoformat()], ["F3", "F2", "F1", "EDGE1"], 4),
    ],
    ids=["flow", "state-type", "state-name", "flow-and-state", "limit", "since", "until"],
)
def test_runs_filters(
    capsys, database_url: str, history: History, argv: list[str], expected: list[str], total: int
) -> None:
    argv = ["--until", UNTIL, *argv] if "--until" not in argv else argv
    code, out, _ = run(capsys, "runs", *argv, "--url", database_url, "--json")
    found = as_json(out)
    assert code == 0 and (ids(found, history), found["total"]) == (expected, total)


def test_runs_table(capsys, database_url: str, engine: Engine, history: History) -> None:
    by_class = {"PERMANENT": 1, "DEPENDENCY": 2}
    summary = dict(history.summaries[0], flow_run_id=str(uuid.uuid4()), failures_by_class=by_class)
    summary["ended_at"] = END - timedelta(minutes=1)
    with engine.begin() as connection:
        insert_summaries(connection, [summary])
    code, out, _ = run(capsys, "runs", "--until", UNTIL, "--limit", "3", "--url", database_url)
    text = named(out, database_url)
    assert code == 0
    assert text.startswith(
        "7 flow run(s) ended 2026-03-09 12:00:00 – 2026-03-10 12:00:00 UTC; "
        "the newest 3 shown (--limit).\n"
    )
    for header in ("ended", "flow", "state", "tasks failed", "failures by class", "flow run id"):
        assert header in text
    lines = {line for line in text.splitlines() if summary["flow_run_id"] in line}
    assert len(lines) == 1 and "DEPENDENCY 2, PERMANENT 1" in lines.pop()
    assert history.ids["F8"] in text and "Crashed" in text and history.ids["F3"] not in text


def test_no_runs_in_the_window(capsys, database_url: str, engine: Engine) -> None:
    code, out, _ = run(capsys, "runs", "--url", database_url)
    assert code == 0 and named(out, database_url).startswith("0 flow run(s) ended ")
    code, out, _ = run(capsys, "runs", "--url", database_url, "--json")
    assert code == 0 and json.loads(out)["runs"] == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--limit", "0"], "--limit must be 1 or more, not 0"),
        (["--since", "1x"], "malformed duration '1x'"),
        (["--until", "soon"], "malformed time 'soon'"),
    ],
)
def test_runs_bad_input(capsys, database_url: str, engine: Engine, argv, message) -> None:
    code, out, err = run(capsys, "runs", *argv, "--url", database_url)
    assert (code, out) == (2, "") and err.startswith(f"failtrack: {message}")
    assert len(err.strip().splitlines()) == 1
