"""Every figure of the failure report over a known history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from prefect_failtrack.reports import (
    FailureReport,
    PartialRun,
    Pattern,
    RetryStats,
    RunRate,
    SlowState,
    StuckRun,
    build_report,
)
from prefect_failtrack.reports import scope as scope_module
from prefect_failtrack.reports.scope import Scope
from tests.reports.history import END, START, History, error

S = timedelta(seconds=1)
A1, A2, A3 = END - timedelta(hours=10), END - timedelta(hours=5), END - timedelta(hours=3)
A4, A6, A7 = END - timedelta(hours=2), END - timedelta(hours=40), END - timedelta(days=20)

PATTERNS = {
    "fp-reset": Pattern(
        fingerprint="fp-reset",
        error_type="TRANSIENT",
        error_class="builtins.ConnectionResetError",
        sample_message="connection reset by peer (attempt 3)",
        count=4,
        first_seen=A1 + 11 * S,
        last_seen=A2 + 8 * S,
        flows=["nightly"],
        tasks=["extract"],
        is_new=True,
        is_regression=False,
    ),
    "fp-regress": Pattern(
        fingerprint="fp-regress",
        error_type="UNKNOWN",
        error_class="pipelines.ExportError",
        sample_message="export step failed",
        count=1,
        first_seen=A7 + 2 * S,
        last_seen=A3 + 10 * S,
        flows=["hourly"],
        tasks=["publish"],
        is_new=False,
        is_regression=True,
    ),
    "fp-timeout": Pattern(
        fingerprint="fp-timeout",
        error_type="TIMEOUT",
        error_class="builtins.TimeoutError",
        sample_message="took longer than 1 s",
        count=1,
        first_seen=A3 + 8 * S,
        last_seen=A3 + 8 * S,
        flows=["hourly"],
        tasks=["validate"],
        is_new=True,
        is_regression=False,
    ),
    "fp-flow": Pattern(
        fingerprint="fp-flow",
        error_type="PERMANENT",
        error_class="httpx.HTTPStatusError",
        sample_message="1 of 2 tasks failed",
        count=1,
        first_seen=A1 + 90 * S,
        last_seen=A1 + 90 * S,
        flows=["nightly"],
        tasks=[],
        is_new=True,
        is_regression=False,
    ),
    "fp-404": Pattern(
        fingerprint="fp-404",
        error_type="PERMANENT",
        error_class="httpx.HTTPStatusError",
        sample_message="404 Not Found for /orders/17",
        count=1,
        first_seen=A6 + 2 * S,
        last_seen=A1 + 81 * S,
        flows=["nightly"],
        tasks=["load"],
        is_new=False,
        is_regression=False,
    ),
}
TRANSIENT = RetryStats(
    error_type="TRANSIENT",
    retried_runs=2,
    recovered=1,
    exhausted=1,
    retries_spent=3,
    time_waiting_s=7.0,
)
TIMEOUT = RetryStats(
    error_type="TIMEOUT",
    retried_runs=1,
    recovered=0,
    exhausted=0,
    retries_spent=1,
    time_waiting_s=4.0,
)
SLOWEST = [
    SlowState(name="nightly", state="Running", count=3, avg_ms=58000.0, max_ms=90000),
    SlowState(name="load", state="Running", count=4, avg_ms=32750.0, max_ms=60000),
    SlowState(name="hourly", state="Running", count=2, avg_ms=10000.0, max_ms=12000),
    SlowState(name="extract", state="Running", count=4, avg_ms=4250.0, max_ms=10000),
    SlowState(name="extract", state="Retrying", count=3, avg_ms=2666.667, max_ms=6000),
    SlowState(name="extract", state="AwaitingRetry", count=3, avg_ms=2333.333, max_ms=3000),
    SlowState(name="cleanup", state="Running", count=1, avg_ms=1000.0, max_ms=1000),
    SlowState(name="publish", state="Running", count=1, avg_ms=1000.0, max_ms=1000),
    SlowState(name="validate", state="Running", count=1, avg_ms=1000.0, max_ms=1000),
]


def rate(name: str, runs: int, failed: int) -> RunRate:
    return RunRate(name=name, runs=runs, failed=failed, failure_rate=failed / runs)


def stuck(history: History) -> list[StuckRun]:
    return [
        StuckRun(
            run_kind="flow",
            name="hourly",
            run_id=history.ids["F4"],
            flow_run_id=history.ids["F4"],
            state="Running",
            since=A4,
            minutes=120.0,
        ),
        StuckRun(
            run_kind="task",
            name="extract",
            run_id=history.ids["F4.extract"],
            flow_run_id=history.ids["F4"],
            state="Running",
            since=A4 + S,
            minutes=120.0,
        ),
    ]


def partial(history: History, *keys: str) -> list[PartialRun]:
    ended = {
        "F1": ("nightly", A1 + 90 * S),
        "F2": ("nightly", A2 + 20 * S),
        "F3": ("hourly", A3 + 12 * S),
    }
    return [
        PartialRun(
            flow_run_id=history.ids[k],
            flow_name=ended[k][0],
            tasks_completed=1,
            tasks_failed=1,
            ended_at=ended[k][1],
        )
        for k in keys
    ]


def report(engine: Engine, **options: object) -> FailureReport:
    return build_report(engine, until=END, **options)  # type: ignore[arg-type]


def test_every_figure_of_the_default_report(engine: Engine, history: History) -> None:
    found = report(engine)

    expected = FailureReport(
        window_start=START,
        window_end=END,
        filters={},
        runs=6,
        failed_runs=4,
        failure_rate=4 / 6,
        flows=[rate("hourly", 2, 2), rate("nightly", 4, 2)],
        tasks=[
            rate("load", 4, 2),
            rate("publish", 1, 1),
            rate("extract", 4, 1),
            rate("cleanup", 1, 0),
        ],
        by_class={"UNKNOWN": 2, "PERMANENT": 1, "TRANSIENT": 1},
        patterns=[
            PATTERNS[fp] for fp in ("fp-reset", "fp-regress", "fp-timeout", "fp-flow", "fp-404")
        ],
        retry_effectiveness=[TRANSIENT, TIMEOUT],
        stuck_runs=stuck(history),
        partial_success_runs=partial(history, "F3", "F2", "F1"),
        slowest_states=SLOWEST,
        generated_at=found.generated_at,
    )
    assert found == expected
    assert list(found.by_class) == ["UNKNOWN", "PERMANENT", "TRANSIENT"]
    assert found.window_start.utcoffset() == timedelta(0)
    assert found.patterns[0].first_seen.tzinfo is not None


def test_top_bounds_patterns_and_slowest_states(engine: Engine, history: History) -> None:
    found = report(engine, top=2)
    assert [p.fingerprint for p in found.patterns] == ["fp-reset", "fp-regress"]
    assert found.slowest_states == SLOWEST[:2]


def test_a_shorter_quiet_period_makes_a_regression(engine: Engine, history: History) -> None:
    """fp-404: last seen 30 h before its first occurrence in the window."""
    found = {p.fingerprint: p for p in report(engine, quiet_period=timedelta(hours=30)).patterns}
    assert found["fp-404"].is_regression and not found["fp-404"].is_new
    assert found["fp-regress"].is_regression
    longer = {p.fingerprint: p for p in report(engine, quiet_period=timedelta(days=21)).patterns}
    assert not longer["fp-regress"].is_regression


def test_stuck_after_decides_what_is_stuck(engine: Engine, history: History) -> None:
    assert report(engine, stuck_after=timedelta(hours=3)).stuck_runs == []
    fifteen = report(engine, stuck_after=timedelta(minutes=15)).stuck_runs
    f5 = [r for r in fifteen if r.flow_run_id == history.ids["F5"]]
    assert [(r.run_kind, r.name, r.minutes) for r in f5] == [
        ("flow", "nightly", 20.0),
        ("task", "extract", 20.0),
    ]


def test_a_window_in_the_past_sees_what_was_then(engine: Engine, history: History) -> None:
    """Until F1's load failed: F1's extract had recovered, the rest had not happened."""
    found = build_report(engine, since=timedelta(hours=1), until=A1 + 81 * S)
    assert (found.runs, found.tasks) == (0, [rate("extract", 1, 0)])
    assert [(p.fingerprint, p.count, p.is_new) for p in found.patterns] == [("fp-reset", 1, True)]
    recovered = RetryStats(
        error_type="TRANSIENT",
        retried_runs=1,
        recovered=1,
        exhausted=0,
        retries_spent=1,
        time_waiting_s=3.0,
    )
    assert found.retry_effectiveness == [recovered]
    # with a 30 s limit, load (Running for 60 s) is stuck, and so is its flow run
    stuck = build_report(
        engine, since=timedelta(hours=1), until=A1 + 81 * S, stuck_after=timedelta(seconds=30)
    ).stuck_runs
    assert [(r.name, r.minutes) for r in stuck] == [("nightly", 1.4), ("load", 1.0)]


def test_an_empty_database_gives_an_empty_report(engine: Engine) -> None:
    found = report(engine, since=timedelta(days=3650))
    assert (found.runs, found.failed_runs, found.failure_rate) == (0, 0, 0.0)
    assert found.flows == found.tasks == found.patterns == found.stuck_runs == []
    assert found.by_class == {}


def test_a_task_that_never_ran_counts_as_dependency(engine: Engine) -> None:
    """Issue 13.7: Prefect's NotReady (a Pending state: an upstream run failed) is recorded
    with class DEPENDENCY; the report counts it beside the failed ones, like the summaries."""
    h = History()
    at = END - timedelta(hours=1)
    flow_run = h.flow_run("F", "nightly", at)
    h.task(flow_run, "extract").running(at).end(
        "Failed", at + timedelta(seconds=5), **error("PERMANENT", "KeyError", "'id'", "fp-key")
    )
    h.task(flow_run, "load").go(
        "NotReady", "PENDING", at + timedelta(seconds=6),
        **error("DEPENDENCY", "prefect.exceptions.UpstreamTaskError", "upstream failed", "fp-up"),
    )  # fmt: skip
    h.task(flow_run, "audit").go("Pending", "PENDING", at + timedelta(seconds=6))
    flow_run.end("Failed", at + timedelta(seconds=7), **error("PERMANENT", "KeyError", "'id'", "fp-key"))
    h.summary(flow_run.run_id, "nightly", at + timedelta(seconds=7), "Failed", completed=0, failed=1, total=3)
    h.write(engine)
    found = report(engine)
    assert found.by_class == {"DEPENDENCY": 1, "PERMANENT": 1}
    assert [(t.name, t.runs, t.failed) for t in found.tasks] == [("extract", 1, 1)]


def test_naive_until_is_taken_as_utc(engine: Engine, history: History) -> None:
    found = build_report(engine, until=END.replace(tzinfo=None))
    assert (found.window_start, found.window_end, found.runs) == (START, END, 6)


@pytest.mark.parametrize(
    "options, digest",
    [
        pytest.param(
            {"flow": "hourly"},
            {
                "runs": (2, 2),
                "flows": ["hourly"],
                "by_class": {"UNKNOWN": 2},
                "tasks": [("load", 1, 1), ("publish", 1, 1), ("cleanup", 1, 0), ("extract", 1, 0)],
                "patterns": ["fp-regress", "fp-timeout"],
                "retries": ["TIMEOUT"],
                "stuck": ["F4", "F4.extract"],
                "partial": ["F3"],
                "slowest": ["hourly", "extract", "cleanup", "load", "publish", "validate"],
            },
            id="flow",
        ),
        pytest.param(
            {"deployment": "dep-2"},
            {
                "runs": (2, 2),
                "flows": ["hourly"],
                "by_class": {"UNKNOWN": 2},
                "tasks": [("load", 1, 1), ("publish", 1, 1), ("cleanup", 1, 0), ("extract", 1, 0)],
                "patterns": ["fp-regress", "fp-timeout"],
                "retries": ["TIMEOUT"],
                "stuck": ["F4", "F4.extract"],
                "partial": ["F3"],
                "slowest": ["hourly", "extract", "cleanup", "load", "publish", "validate"],
            },
            id="deployment",
        ),
        pytest.param(
            {"task": "extract"},
            {
                "runs": (4, 3),
                "flows": ["nightly", "hourly"],
                "by_class": {"TRANSIENT": 1},
                "tasks": [("extract", 4, 1)],
                "patterns": ["fp-reset"],
                "retries": ["TRANSIENT"],
                "stuck": ["F4.extract"],
                "partial": ["F3", "F2", "F1"],
                "slowest": ["extract", "extract", "extract"],
            },
            id="task",
        ),
        pytest.param(
            {"tag": "prod"},
            {
                "runs": (4, 2),
                "flows": ["nightly"],
                "by_class": {"PERMANENT": 1, "TRANSIENT": 1},
                "tasks": [("extract", 3, 1), ("load", 3, 1)],
                "patterns": ["fp-reset", "fp-flow", "fp-404"],
                "retries": ["TRANSIENT"],
                "stuck": [],
                "partial": ["F2", "F1"],
                "slowest": ["nightly", "load", "extract", "extract", "extract"],
            },
            id="tag",
        ),
        pytest.param(
            {"tag": "ünï%_x"},
            {
                "runs": (2, 2),
                "flows": ["hourly"],
                "by_class": {"UNKNOWN": 2},
                "tasks": [("load", 1, 1), ("publish", 1, 1), ("cleanup", 1, 0), ("extract", 1, 0)],
                "patterns": ["fp-regress", "fp-timeout"],
                "retries": ["TIMEOUT"],
                "stuck": ["F4", "F4.extract"],
                "partial": ["F3"],
                "slowest": ["hourly", "extract", "cleanup", "load", "publish", "validate"],
            },
            id="tag-with-wildcards-and-accents",
        ),
        pytest.param(
            {"origin": "destination"},
            {
                "runs": (4, 3),
                "flows": ["nightly", "hourly"],
                "by_class": {"PERMANENT": 1, "UNKNOWN": 1},
                "tasks": [("load", 4, 2)],
                "patterns": ["fp-404"],
                "retries": [],
                "stuck": [],
                "partial": ["F2", "F1"],
                "slowest": ["load"],
            },
            id="origin",
        ),
        pytest.param(
            {
                "flow": "nightly",
                "task": "load",
                "origin": "destination",
                "tag": "etl",
                "deployment": "dep-1",
            },
            {
                "runs": (3, 2),
                "flows": ["nightly"],
                "by_class": {"PERMANENT": 1},
                "tasks": [("load", 3, 1)],
                "patterns": ["fp-404"],
                "retries": [],
                "stuck": [],
                "partial": ["F2", "F1"],
                "slowest": ["load"],
            },
            id="all-together",
        ),
    ],
)
def test_filters(engine: Engine, history: History, options: dict, digest: dict) -> None:
    found = report(engine, **options)
    names = {v: k for k, v in history.ids.items()}
    assert found.filters == options
    assert (found.runs, found.failed_runs) == digest["runs"]
    assert found.failure_rate == digest["runs"][1] / digest["runs"][0]
    assert [f.name for f in found.flows] == digest["flows"]
    assert found.by_class == digest["by_class"]
    assert [(t.name, t.runs, t.failed) for t in found.tasks] == digest["tasks"]
    assert [p.fingerprint for p in found.patterns] == digest["patterns"]
    assert [r.error_type for r in found.retry_effectiveness] == digest["retries"]
    assert [names[r.run_id] for r in found.stuck_runs] == digest["stuck"]
    assert [names[p.flow_run_id] for p in found.partial_success_runs] == digest["partial"]
    assert [s.name for s in found.slowest_states] == digest["slowest"]


def test_filtered_figures_keep_their_values(engine: Engine, history: History) -> None:
    """A filter selects rows; the figures of what it keeps are the unfiltered ones."""
    hourly = report(engine, flow="hourly")
    assert hourly.flows == [rate("hourly", 2, 2)]
    assert hourly.patterns == [PATTERNS["fp-regress"], PATTERNS["fp-timeout"]]
    assert hourly.retry_effectiveness == [TIMEOUT]
    assert hourly.stuck_runs == stuck(history)
    extract = report(engine, task="extract")
    assert extract.flows == [rate("nightly", 3, 2), rate("hourly", 1, 1)]
    assert extract.retry_effectiveness == [TRANSIENT]
    assert extract.slowest_states == [s for s in SLOWEST if s.name == "extract"]
    # fp-404's history is in flow runs of origin "destination" too: not new
    assert report(engine, origin="destination").patterns == [PATTERNS["fp-404"]]


@pytest.mark.parametrize("tag", ["de", 'dev"', "%", "_", "etl,prod", "ünï", "PROD"])
def test_a_tag_matches_only_whole_tags(engine: Engine, history: History, tag: str) -> None:
    found = report(engine, tag=tag)
    assert (found.runs, found.tasks, found.patterns, found.slowest_states) == (0, [], [], [])


def test_a_filter_value_with_quotes_is_a_value(engine: Engine, history: History) -> None:
    assert report(engine, flow="nightly' OR '1'='1").runs == 0


def test_wide_windows_give_the_same_figures(
    engine: Engine, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a wide window is read through covering indexes: the figures stay the same."""
    with engine.connect() as connection:
        scope = Scope.of(engine, timedelta(days=30), END).prepare(connection)
    assert scope.wide is (engine.dialect.name == "sqlite")
    wide = report(engine, since=timedelta(days=30)).model_dump(exclude={"generated_at"})
    monkeypatch.setattr(scope_module, "WIDE", 2.0)  # no window is wide any more
    narrow = report(engine, since=timedelta(days=30)).model_dump(exclude={"generated_at"})
    assert wide == narrow
    assert wide["runs"] == 8 and {p["fingerprint"] for p in wide["patterns"]} >= {"fp-404"}


def test_an_in_memory_database_is_read_one_query_after_the_other() -> None:
    """Connections to ``sqlite://`` are separate databases: no side-by-side queries there."""
    from prefect_failtrack.reports.concurrent import _shares_database
    from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
    from tests.reports.history import known_history

    url = "sqlite://"
    ensure_schema(url)
    engine = get_engine(url)
    try:
        assert not _shares_database(engine)
        known_history().write(engine)
        assert (report(engine).runs, report(engine).failed_runs) == (6, 4)
    finally:
        dispose_engines()
