"""The failtrack commands that read the audit table: --json is the report model, exactly;
tables otherwise; one line and exit 2 for bad input. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from prefect_failtrack.cli import main
from prefect_failtrack.reports import (
    FailureReport,
    build_patterns,
    build_report,
    build_stuck,
    build_timeline,
    replay,
)
from prefect_failtrack.store.models import flow_runs, transitions
from prefect_failtrack.store.writes import insert_summaries, insert_transitions
from tests.reports.history import END, History

UNTIL = END.isoformat()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def named(out: str, url: str) -> str:
    """`out` without its first line, which names the audit database read."""
    first, _, rest = out.partition("\n")
    assert first == f"Audit database: {url}"
    return rest


def as_json(out: str) -> dict[str, Any]:
    assert out.endswith("\n") and out.count("\n") == 1, "one line of JSON"
    found = json.loads(out)
    found.pop("generated_at")
    return found


def dumped(model: Any) -> dict[str, Any]:
    found = model.model_dump(mode="json")
    found.pop("generated_at")
    return found


@pytest.mark.parametrize(
    "argv, options",
    [
        ([], {}),
        (["--flow", "hourly"], {"flow": "hourly"}),
        (["--task", "extract", "--since", "2d"], {"task": "extract", "since": timedelta(days=2)}),
        (["--deployment", "dep-1", "--top", "2"], {"deployment": "dep-1", "top": 2}),
        (
            ["--tag", "ünï%_x", "--stuck-after", "15m"],
            {"tag": "ünï%_x", "stuck_after": timedelta(minutes=15)},
        ),
        (
            ["--origin", "source", "--quiet-period", "1d"],
            {"origin": "source", "quiet_period": timedelta(days=1)},
        ),
    ],
    ids=["default", "flow", "task", "deployment", "tag", "origin"],
)
def test_report_json_is_the_report_model(
    capsys, database_url: str, engine: Engine, history: History, argv: list[str], options: dict
) -> None:
    code, out, err = run(capsys, "report", "--until", UNTIL, "--url", database_url, "--json", *argv)
    assert (code, err) == (0, f"Audit database: {database_url}\n")  # stdout is the JSON alone
    assert as_json(out) == dumped(build_report(engine, until=END, **options))
    assert FailureReport.model_validate_json(out).model_dump_json() == out.strip()


def test_report_json_has_the_figures(
    capsys, database_url: str, engine: Engine, history: History
) -> None:
    found = as_json(run(capsys, "report", "--until", UNTIL, "--url", database_url, "--json")[1])
    assert (found["runs"], found["failed_runs"]) == (6, 4)
    assert found["window_end"] == "2026-03-10T12:00:00Z"


def test_report_tables(capsys, database_url: str, engine: Engine, history: History) -> None:
    code, out, _ = run(capsys, "report", "--until", UNTIL, "--url", database_url)
    assert code == 0
    assert "Failure report, 2026-03-09 12:00:00 – 2026-03-10 12:00:00 UTC" in out
    assert "4 of 6 flow run(s) failed (66.7%)." in out
    for title in (
        "Flows",
        "Tasks",
        "Failed task runs by class",
        "Top failure patterns",
        "Did retries help?",
        "Stuck runs",
        "Partial successes",
        "Where the time goes",
    ):
        assert title in out
    assert "fp-regress" in out and "regression" in out


def test_patterns_json_and_table(
    capsys, database_url: str, engine: Engine, history: History
) -> None:
    code, out, _ = run(
        capsys, "patterns", "--since", "7d", "--until", UNTIL, "--url", database_url, "--json"
    )
    expected = build_patterns(engine, since=timedelta(days=7), until=END)
    assert code == 0 and as_json(out) == dumped(expected)
    assert [p["fingerprint"] for p in as_json(out)["patterns"]][:2] == ["fp-reset", "fp-404"]
    code, out, _ = run(
        capsys, "patterns", "--flow", "hourly", "--until", UNTIL, "--url", database_url
    )
    assert code == 0 and "fp-timeout" in out and "fp-reset" not in out
    assert out.count("Failure patterns") == 1  # the headline, not the table's title again
    header = next(line for line in out.splitlines() if "fingerprint" in line)
    assert "novelty" in header and "┃  ┃" not in header  # no blank column header


def test_stuck_json_and_table(capsys, database_url: str, engine: Engine, history: History) -> None:
    code, out, _ = run(
        capsys, "stuck", "--after", "15m", "--until", UNTIL, "--url", database_url, "--json"
    )
    expected = build_stuck(engine, stuck_after=timedelta(minutes=15), until=END)
    assert code == 0 and as_json(out) == dumped(expected)
    assert [(r.run_kind, r.name, r.flow_run_id) for r in expected.stuck_runs] == [
        ("flow", "hourly", history.ids["F4"]),
        ("task", "extract", history.ids["F4"]),
        ("flow", "nightly", history.ids["F5"]),
        ("task", "extract", history.ids["F5"]),
    ]
    code, out, _ = run(capsys, "stuck", "--until", UNTIL, "--url", database_url)
    assert code == 0 and "Stuck runs" in out and history.ids["F4"] in out


def test_timeline_in_order(capsys, database_url: str, engine: Engine, history: History) -> None:
    flow_run_id = history.ids["F1"]
    code, out, _ = run(capsys, "timeline", flow_run_id, "--url", database_url, "--json")
    found = json.loads(out)
    assert code == 0 and found == build_timeline(engine, flow_run_id).model_dump(mode="json")
    seen = [(t["name"], t["from_state"], t["to_state"]) for t in found["transitions"]]
    assert seen == [
        ("nightly", "Pending", "Running"),
        ("extract", "Pending", "Running"),
        ("extract", "Running", "AwaitingRetry"),
        ("extract", "AwaitingRetry", "Retrying"),
        ("extract", "Retrying", "Completed"),
        ("load", "Pending", "Running"),
        ("load", "Running", "Failed"),
        ("nightly", "Running", "Failed"),
    ]
    times = [t["occurred_at"] for t in found["transitions"]]
    assert times == sorted(times)
    code, out, _ = run(capsys, "timeline", flow_run_id.upper(), "--url", database_url)
    assert code == 0 and "AwaitingRetry" in out and "connection reset by peer" in out
    assert "deciding rule" in out and "type builtins.ConnectionResetError" in out
    assert f"Flow run {flow_run_id}, 2026-03-10 (UTC)" in out and " 02:00:11 " in out


def test_timeline_of_a_run_that_is_not_there(capsys, database_url: str, engine: Engine) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    code, out, err = run(capsys, "timeline", missing, "--url", database_url)
    assert (code, out) == (2, f"Audit database: {database_url}\n")
    assert err == (
        f"failtrack: no transitions recorded for flow run {missing!r} in this audit database "
        "(--url reads another)\n"
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["timeline", "not-a-run"], "malformed flow run id 'not-a-run': expected a UUID"),
        (["timeline", "[/x] [bold]"], "malformed flow run id '[/x] [bold]': expected a UUID"),
        (["report", "--since", "1x"], "malformed duration '1x'"),
        (["report", "--stuck-after", "soon"], "malformed duration 'soon'"),
        (["report", "--until", "yesterday"], "malformed time 'yesterday'"),
        (["report", "--top", "0"], "--top must be 1 or more, not 0"),
        (["patterns", "--since", "3dd"], "malformed duration '3dd'"),
        (["stuck", "--after", "30"], "malformed duration '30'"),
        (["prune", "--older-than", "ninety days"], "malformed duration 'ninety days'"),
        (["classify", "--replay", "--since", "7 days"], "malformed duration '7 days'"),
        (["classify"], "give an exception as 'module.Class: message', or --replay"),
        (["classify", "--replay", "ValueError: x"], "give either an exception or --replay"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys, database_url: str, engine: Engine, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv, "--url", database_url)
    assert code == 2 and out == ""
    assert err == f"failtrack: {message}\n" or err.startswith(f"failtrack: {message}")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ---------------------------------------------------------------------------- prune


def aged_rows(engine: Engine) -> None:
    """Transitions 100, 95 and 10 days old; summaries ended, started or updated at various ages."""
    now = datetime.now(UTC)
    h = History()
    for days in (100, 95, 10):
        flow = h.flow_run(f"F{days}", "nightly", now - timedelta(days=days))
        if days != 95:
            flow.end("Completed", now - timedelta(days=days) + timedelta(seconds=5))
    h.summary(str(uuid.uuid4()), "nightly", now - timedelta(days=100), "Completed", 1, 0)
    h.summary(str(uuid.uuid4()), "nightly", now - timedelta(days=10), "Completed", 1, 0)
    never_ended = dict(
        h.summaries[0],
        flow_run_id=str(uuid.uuid4()),
        ended_at=None,
        started_at=now - timedelta(days=200),
    )
    only_updated = dict(
        never_ended,
        flow_run_id=str(uuid.uuid4()),
        started_at=None,
        updated_at=now - timedelta(days=1),
    )
    with engine.begin() as connection:
        insert_transitions(connection, h.rows, derive_summaries=False)
        insert_summaries(connection, [*h.summaries, never_ended, only_updated])


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(transitions)).scalar_one(),
            connection.execute(select(func.count()).select_from(flow_runs)).scalar_one(),
        )


def test_prune_is_a_dry_run_without_yes(capsys, database_url: str, engine: Engine) -> None:
    aged_rows(engine)
    assert counts(engine) == (5, 4)
    code, out, _ = run(capsys, "prune", "--older-than", "90d", "--url", database_url)
    assert code == 0
    assert named(out, database_url).startswith(
        "Would delete 3 transition(s) and 2 run summary(ies) older than '90d'"
    )
    assert "run again with --yes to delete them" in out
    assert counts(engine) == (5, 4)
    code, out, _ = run(capsys, "prune", "--older-than", "90d", "--url", database_url, "--json")
    found = json.loads(out)
    assert (found["transitions"], found["summaries"], found["dry_run"]) == (3, 2, True)


def test_prune_with_yes_deletes(capsys, database_url: str, engine: Engine) -> None:
    aged_rows(engine)
    code, out, _ = run(capsys, "prune", "--older-than", "90d", "--yes", "--url", database_url)
    assert code == 0 and named(out, database_url).startswith(
        "Deleted 3 transition(s) and 2 run summary(ies) older than '90d'"
    )
    assert counts(engine) == (2, 2)
    code, out, _ = run(
        capsys, "prune", "--older-than", "5d", "--yes", "--url", database_url, "--json"
    )
    found = json.loads(out)
    assert (found["transitions"], found["summaries"], found["dry_run"]) == (2, 1, False)
    assert counts(engine) == (0, 1)


# --------------------------------------------------------------------------- replay


def stored_failures(engine: Engine) -> None:
    """Failures of the last hour classified by older rules (and two rows that do not count)."""
    now = datetime.now(UTC)
    h = History()
    flow = h.flow_run("F", "nightly", now - timedelta(hours=1))
    old = h.flow_run("OLD", "nightly", now - timedelta(days=10))

    def failed(run: Any, name: str, old_class: str, error_class: str, message: str) -> None:
        task = h.task(run, name).running(run.at + timedelta(seconds=1))
        task.end(
            "Failed",
            run.at + timedelta(seconds=2),
            error_type=old_class,
            error_class=error_class,
            error_message=message,
            fingerprint="fp",
        )

    for i in (1, 2, 3, 4):
        failed(flow, f"slow{i}", "UNKNOWN", "builtins.TimeoutError", f"took too long ({i})")
    for i in (1, 2):
        failed(flow, f"reset{i}", "TRANSIENT", "builtins.ConnectionResetError", "reset by peer")
    failed(flow, "parse", "VALIDATION", "builtins.ValueError", "bad date")
    failed(old, "parse", "PERMANENT", "builtins.ValueError", "ten days ago: out of the window")
    h.write(engine)


def test_replay_counts_old_to_new_classes(capsys, database_url: str, engine: Engine) -> None:
    stored_failures(engine)
    code, out, _ = run(
        capsys, "classify", "--replay", "--since", "7d", "--url", database_url, "--json"
    )
    found = as_json(out)
    assert code == 0
    assert (found["failures"], found["changed"]) == (7, 4)
    assert found["changes"] == [
        {
            "old": "UNKNOWN",
            "new": "TIMEOUT",
            "count": 4,
            "examples": [f"builtins.TimeoutError: took too long ({i})" for i in (1, 2, 3)],
        },
        {
            "old": "TRANSIENT",
            "new": "TRANSIENT",
            "count": 2,
            "examples": ["builtins.ConnectionResetError: reset by peer"],
        },
        {
            "old": "VALIDATION",
            "new": "VALIDATION",
            "count": 1,
            "examples": ["builtins.ValueError: bad date"],
        },
    ]
    expected = dumped(replay(engine, since=timedelta(days=7)))
    for key in ("window_start", "window_end"):
        found.pop(key), expected.pop(key)
    assert found == expected
    code, out, _ = run(capsys, "classify", "--replay", "--since", "30d", "--url", database_url)
    assert (
        code == 0 and "Re-classified 8 stored failure(s)" in out and "5 would change class" in out
    )


def test_plain_classify_still_works(capsys) -> None:
    code, out, _ = run(capsys, "classify", "builtins.TimeoutError: took too long")
    assert code == 0 and out.startswith("TIMEOUT (retryable)")
