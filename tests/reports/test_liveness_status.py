"""Slow, stuck or lost, from the audit table and the heartbeat tables, as of now.
SQLite and PostgreSQL; processes on another machine unless the case needs this one."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from prefect_failtrack.blocks import ReportThresholds
from prefect_failtrack.cli import main
from prefect_failtrack.liveness import identity
from prefect_failtrack.liveness.writes import write_heartbeats
from prefect_failtrack.store.driver import Driver
from prefect_failtrack.reports import build_report, build_stuck, build_timeline
from prefect_failtrack.reports.alerts import evaluate
from prefect_failtrack.reports.publish import summary_markdown
from prefect_failtrack.store.writes import insert_transitions

NOW = datetime.now(UTC)
MIN = timedelta(minutes=1)
FLOW = str(uuid.uuid4())


@pytest.fixture(autouse=True)
def _now() -> None:
    """Each test's own "now" (the module is imported long before some of its tests run)."""
    global NOW
    NOW = datetime.now(UTC)


def transition(run_id: str, to_state: str, at: datetime, kind: str = "task") -> dict[str, Any]:
    types = {
        "Running": "RUNNING",
        "Retrying": "RUNNING",
        "AwaitingRetry": "SCHEDULED",
        "Completed": "COMPLETED",
    }
    return {
        "id": str(uuid.uuid4()),
        "run_kind": kind,
        "run_id": run_id,
        "flow_run_id": FLOW,
        "task_run_id": run_id if kind == "task" else None,
        "name": f"{kind}-{run_id[:4]}",
        "flow_name": "nightly",
        "to_state": to_state,
        "to_state_type": types[to_state],
        "occurred_at": at,
        "run_count": 1,
    }


def beat(
    run_ids: list[str],
    at: datetime,
    *,
    host: str = "elsewhere",
    pid: int = 4242,
    interval: float = 30.0,
    progress: dict[str, Any] | None = None,
) -> dict[str, Any]:
    me = identity.current()
    local = host == me.host
    return {
        "process_key": f"{host}-{pid}",
        "host": host,
        "pid": pid,
        "boot_id": me.boot_id if local else "b",
        "pid_namespace": me.pid_namespace if local else "n",
        "process_started": identity._started(pid) if local else None,
        "interval_s": interval,
        "beat_at": at,
        "held": len(run_ids),
        "enter": [
            {
                "run_id": r,
                "run_kind": "task",
                "flow_run_id": FLOW,
                "name": "x",
                "flow_name": "nightly",
            }
            for r in run_ids
        ],
        "progress": [{"run_id": run_ids[0], **progress, "at": at}] if progress else [],
        "release": [],
    }


def store(engine: Engine, rows: list[dict[str, Any]], beats: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        insert_transitions(connection, rows)
        write_heartbeats(Driver.of_sqlalchemy(connection), beats)


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def statuses(engine: Engine, **limits: Any) -> dict[str, Any]:
    return {r.run_id: r for r in build_stuck(engine, **limits).stuck_runs}


def test_each_status_by_its_heartbeat(engine: Engine) -> None:
    slow, young, stale, silent, gone, plain, ended, waiting = ids(8)
    store(
        engine,
        [
            transition(slow, "Running", NOW - 40 * MIN),
            transition(young, "Running", NOW - 5 * MIN),
            transition(stale, "Running", NOW - 40 * MIN),
            transition(silent, "Running", NOW - 60 * MIN),
            transition(gone, "Running", NOW - 2 * MIN),
            transition(plain, "Running", NOW - 40 * MIN),
            transition(ended, "Running", NOW - 50 * MIN),
            transition(ended, "Completed", NOW - 45 * MIN),
            transition(waiting, "AwaitingRetry", NOW - 50 * MIN),
        ],
        [
            beat(
                [slow, young, ended],
                NOW - 10 * timedelta(seconds=1),
                progress={"rows": 12000, "message": "day 3"},
            ),
            beat([stale], NOW - 10 * MIN, pid=1),
            beat([silent, waiting], NOW - 45 * MIN, pid=2),
            beat([gone], NOW - timedelta(seconds=5), host=identity.current().host, pid=dead_pid()),
        ],
    )

    found = statuses(engine)

    assert {run_id: r.status for run_id, r in found.items()} == {
        slow: "slow",
        stale: "stuck",
        silent: "lost",
        gone: "lost",
        plain: "stuck",
        waiting: "lost",
    }
    assert [r.run_id for r in found.values()][:3] == sorted(
        [gone, silent, waiting], key=lambda r: found[r].since
    )  # lost first, the longest first
    assert found[slow].liveness.process == "unknown"  # type: ignore[union-attr]
    assert found[slow].liveness.progress.rows == 12000  # type: ignore[union-attr]
    assert found[slow].liveness.progress.message == "day 3"  # type: ignore[union-attr]
    assert "no heartbeat for 10 min (stuck after 5 min)" in found[stale].liveness.reason  # type: ignore[union-attr]
    assert "no heartbeat for 45 min (lost after 30 min)" in found[silent].liveness.reason  # type: ignore[union-attr]
    assert found[gone].liveness.process == "gone"  # type: ignore[union-attr]
    assert found[plain].liveness is None  # no heartbeat: the rule of reports.stuck
    assert found[waiting].state == "AwaitingRetry"


def test_the_limits_are_the_callers_or_the_settings(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    [run] = ids(1)
    store(engine, [transition(run, "Running", NOW - 40 * MIN)], [beat([run], NOW - 3 * MIN)])
    assert statuses(engine)[run].status == "slow"
    assert statuses(engine, stale_after=2 * MIN)[run].status == "stuck"
    assert statuses(engine, stale_after=MIN, lost_after=2 * MIN)[run].status == "lost"
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_STALE_AFTER", "60")
    assert statuses(engine)[run].status == "stuck"
    report = build_stuck(engine)
    assert (report.stale_after_s, report.lost_after_s) == (60.0, 1800.0)


def test_never_stale_before_two_of_its_own_intervals(engine: Engine) -> None:
    [run] = ids(1)
    store(
        engine,
        [transition(run, "Running", NOW - 40 * MIN)],
        [beat([run], NOW - 3 * MIN, interval=120)],
    )  # beats every 2 min: 3 min is not stale
    assert statuses(engine, stale_after=MIN)[run].status == "slow"


def test_as_of_another_time_the_process_is_not_looked_at(engine: Engine) -> None:
    [run] = ids(1)
    store(
        engine,
        [transition(run, "Running", NOW - 40 * MIN)],
        [beat([run], NOW - timedelta(seconds=5), host=identity.current().host, pid=dead_pid())],
    )
    assert statuses(engine)[run].status == "lost"
    earlier = build_stuck(engine, until=NOW - 5 * MIN, since=timedelta(hours=1))
    [listed] = [r for r in earlier.stuck_runs if r.run_id == run]
    assert listed.status == "slow" and listed.liveness.process == "unknown"  # type: ignore[union-attr]


def test_cli_stuck_shows_the_statuses(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    slow, stale = ids(2)
    store(
        engine,
        [transition(slow, "Running", NOW - 40 * MIN), transition(stale, "Running", NOW - 40 * MIN)],
        [
            beat([slow], NOW - timedelta(seconds=10), progress={"rows": 7, "message": None}),
            beat([stale], NOW - 3 * MIN, pid=1),
        ],
    )
    code = main(
        ["stuck", "--stale-after", "2m", "--lost-after", "1h", "--url", database_url, "--json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and (out["stale_after_s"], out["lost_after_s"]) == (120.0, 3600.0)
    assert {r["run_id"]: r["status"] for r in out["stuck_runs"]} == {slow: "slow", stale: "stuck"}
    code = main(["stuck", "--url", database_url])
    table = capsys.readouterr().out
    assert code == 0 and "slow" in table and slow in table and "7 rows" in table
    assert main(["stuck", "--stale-after", "soon", "--url", database_url]) == 2
    assert "malformed duration 'soon'" in capsys.readouterr().err


def test_the_timeline_shows_the_runs_a_process_holds(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    running, done = ids(2)
    store(
        engine,
        [
            transition(running, "Running", NOW - 2 * MIN),
            transition(done, "Running", NOW - 3 * MIN),
            transition(done, "Completed", NOW - MIN),
        ],
        [beat([running, done], NOW - timedelta(seconds=3), progress={"rows": 3, "message": "m"})],
    )
    timeline = build_timeline(engine, FLOW)
    [held] = timeline.heartbeats
    assert (held.run_id, held.status, held.liveness.progress.rows) == (running, "alive", 3)  # type: ignore[union-attr]
    assert main(["timeline", FLOW, "--url", database_url]) == 0
    out = capsys.readouterr().out
    assert "Held by a process now" in out and "3 rows: m" in out


def test_the_report_alerts_on_lost_runs_and_only_stuck_ones_count_as_stuck(engine: Engine) -> None:
    slow, lost = ids(2)
    store(
        engine,
        [transition(slow, "Running", NOW - 40 * MIN), transition(lost, "Running", NOW - 40 * MIN)],
        [beat([slow], NOW - timedelta(seconds=10)), beat([lost], NOW - 40 * MIN, pid=9)],
    )
    report = build_report(engine)
    assert {r.run_id: r.status for r in report.stuck_runs} == {slow: "slow", lost: "lost"}
    alerts = {a.threshold: a for a in evaluate(report, ReportThresholds())}
    assert set(alerts) == {"lost_runs"}
    assert alerts["lost_runs"].message == "1 run(s) lost: their process is gone (more than 0)"
    slow_alert = evaluate(report, ReportThresholds(slow_runs=0, lost_runs=None))
    assert [a.threshold for a in slow_alert] == ["slow_runs"]
    markdown = summary_markdown(report, [])
    assert "| lost | task |" in markdown and "| slow | task |" in markdown


def test_runs_without_heartbeats_keep_todays_rule(engine: Engine) -> None:
    [run] = ids(1)
    store(engine, [transition(run, "Running", NOW - 40 * MIN)], [])
    [found] = build_stuck(engine).stuck_runs
    assert (found.status, found.liveness) == ("stuck", None)
    assert build_stuck(engine, stuck_after=timedelta(hours=1)).stuck_runs == []
