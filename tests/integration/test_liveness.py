"""Liveness with real processes: slow is not stuck, a paused process is stuck until it
resumes, a killed one is lost and reconcile closes its runs.

Each test runs `liveness_flow.py` in a process of its own, beating every half second
(``PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL`` in its environment), against the
session's Prefect test server and the test's audit database; the test reads that
database as ``failtrack stuck`` does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import PREFECT_API_URL
from sqlalchemy import select
from sqlmodel import Session

from prefect_failtrack.cli import main
from prefect_failtrack.reconcile import reconcile
from prefect_failtrack.reports import build_stuck, build_timeline
from prefect_failtrack.reports.models import StuckRun
from prefect_failtrack.reports.scope import Scope
from prefect_failtrack.reports.stuck import stuck_runs
from prefect_failtrack.store import Transition, ensure_schema, get_engine
from prefect_failtrack.store.models import heartbeats

from .conftest import use_database

HERE = Path(__file__).parent
INTERVAL = 0.5
LIMITS = {
    "stuck_after": timedelta(seconds=2),  # running longer than this: listed (slow, if alive)
    "stale_after": timedelta(seconds=2),  # no beat for this long: stuck
    "lost_after": timedelta(minutes=5),  # no beat for this long: lost (this machine knows sooner)
}


class Child:
    """`liveness_flow.py` running in a process of its own; killed at the end if still there."""

    def __init__(self, url: str, tmp_path: Path, seconds: float) -> None:
        self.marker = tmp_path / "ids"
        env = {
            **os.environ,
            "PREFECT_API_URL": PREFECT_API_URL.value(),
            "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL": url,
            "PREFECT_INTEGRATIONS_FAILTRACK_HOME": str(tmp_path / "home"),
            "PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL": str(INTERVAL),
        }
        ensure_schema(url)  # the test reads it before the child writes
        script = [sys.executable, str(HERE / "liveness_flow.py"), str(self.marker), str(seconds)]
        self.process = subprocess.Popen(script, env=env)
        self.url = url

    def ids(self) -> tuple[str, str]:
        """(flow run id, task run id), once the task runs."""
        wait_until(
            lambda: self.marker.exists() and self.marker.read_text().strip(),
            120,
            "the task to start",
            self,
        )
        flow_run_id, task_run_id = self.marker.read_text().split()
        return flow_run_id, task_run_id

    def signal(self, number: int) -> None:
        os.kill(self.process.pid, number)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


@pytest.fixture
def child_factory(tmp_path: Path) -> Iterator[Callable[[str, float], Child]]:
    made: list[Child] = []

    def make(url: str, seconds: float) -> Child:
        made.append(Child(url, tmp_path, seconds))
        return made[-1]

    yield make
    for child in made:
        child.stop()


@pytest.fixture
def sqlite_audit_db(tmp_path: Path) -> Iterator[str]:
    """An audit database on SQLite only (these tests exercise processes, not the backend)."""
    url = f"sqlite:///{tmp_path / 'failtrack.db'}"
    use_database(url)
    yield url
    os.environ.pop("PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL", None)


def wait_until(
    check: Callable[[], Any], timeout: float, what: str, child: Child | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if child is not None:
            assert child.process.poll() is None, f"the flow process ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def runs(url: str) -> dict[str, StuckRun]:
    """``failtrack stuck`` as of now, by run id."""
    report = build_stuck(get_engine(url), **LIMITS)
    return {run.run_id: run for run in report.stuck_runs}


def status_of(url: str, *run_ids: str) -> tuple[str | None, ...]:
    found = runs(url)
    return tuple(found[r].status if r in found else None for r in run_ids)


def beating_with_progress(url: str, run_id: str) -> bool:
    with Session(get_engine(url)) as session:
        row = session.exec(
            select(heartbeats.c.progress).where(heartbeats.c.run_id == run_id)
        ).first()
    return row is not None and bool(row[0])


def beating(child: Child) -> tuple[Child, str, str]:
    """The child, once its task runs and a heartbeat carried its progress; its run ids."""
    flow_run_id, task_run_id = child.ids()
    wait_until(
        lambda: beating_with_progress(child.url, task_run_id),
        30,
        "a heartbeat with progress",
        child,
    )
    return child, flow_run_id, task_run_id


def test_slow_while_it_beats_stuck_while_paused_slow_again_once_resumed(
    sqlite_audit_db: str, child_factory: Callable[[str, float], Child]
) -> None:
    url = sqlite_audit_db
    child, flow_run_id, task_run_id = beating(child_factory(url, 120))
    time.sleep(LIMITS["stuck_after"].total_seconds() + 0.5)  # past the stuck limit

    # A task sleeping past the stuck limit, with a live heartbeat: slow, not stuck.
    found = runs(url)
    task = found[task_run_id]
    assert (task.status, found[flow_run_id].status) == ("slow", "slow")
    assert task.liveness is not None and task.liveness.process == "alive"
    assert task.liveness.progress is not None and task.liveness.progress.rows >= 1000
    assert task.liveness.progress.message.startswith("batch ")
    with get_engine(url).connect() as connection:  # the rule without heartbeats says stuck
        scope = Scope.of(get_engine(url), timedelta(hours=1), None)
        plain = stuck_runs(connection, scope, stuck_after=LIMITS["stuck_after"])
    assert task_run_id in {run.run_id for run in plain}

    # Paused: no beat for longer than the stale limit, the process still there: stuck.
    child.signal(signal.SIGSTOP)
    try:
        wait_until(
            lambda: status_of(url, task_run_id, flow_run_id) == ("stuck", "stuck"),
            30,
            "the paused process's runs to turn stuck",
        )
        task = runs(url)[task_run_id]
        assert task.liveness is not None and task.liveness.process == "stopped"
        assert "no heartbeat for" in task.liveness.reason
    finally:
        child.signal(signal.SIGCONT)

    # Resumed: it beats again, and is slow again.
    wait_until(
        lambda: status_of(url, task_run_id, flow_run_id) == ("slow", "slow"),
        30,
        "the resumed process's runs to turn slow again",
        child,
    )


@pytest.mark.usefixtures("audit_db")
def test_sigkill_turns_the_runs_lost_and_reconcile_closes_them(
    audit_db: str, child_factory: Callable[[str, float], Child], capsys: pytest.CaptureFixture[str]
) -> None:
    url = audit_db
    child, flow_run_id, task_run_id = beating(child_factory(url, 600))
    killed_at = time.monotonic()
    child.signal(signal.SIGKILL)
    child.process.wait(timeout=30)

    # This machine sees the pid gone: lost at once, well within the lost limit.
    wait_until(
        lambda: status_of(url, task_run_id, flow_run_id) == ("lost", "lost"),
        30,
        "the killed process's runs to turn lost",
    )
    assert time.monotonic() - killed_at < LIMITS["lost_after"].total_seconds()
    task = runs(url)[task_run_id]
    assert task.liveness is not None and task.liveness.process == "gone"
    assert f"pid {child.process.pid}" in task.liveness.reason
    code = main(["stuck", "--after", "2s", "--stale-after", "2s", "--url", url, "--json"])
    listed = {r["run_id"]: r for r in json.loads(capsys.readouterr().out)["stuck_runs"]}
    assert code == 0 and listed[task_run_id]["status"] == "lost"
    assert listed[task_run_id]["liveness"]["progress"]["rows"] >= 1000
    timeline = build_timeline(get_engine(url), flow_run_id)
    assert {(b.run_id, b.status) for b in timeline.heartbeats} == {
        (flow_run_id, "lost"),
        (task_run_id, "lost"),
    }

    # Reconcile: Prefect shows nothing of them since the silence: a Crashed row each.
    result = reconcile(flow_run_ids=[flow_run_id], url=url)
    assert result.lost_closed == 2
    with Session(get_engine(url)) as session:
        last = {
            run_id: session.exec(
                select(Transition)
                .where(Transition.run_id == run_id)
                .order_by(Transition.occurred_at.desc())  # type: ignore[union-attr]
            ).first()[0]
            for run_id in (flow_run_id, task_run_id)
        }
        left = session.exec(select(heartbeats.c.run_id)).all()
    for row in last.values():
        assert (row.to_state, row.to_state_type) == ("Crashed", "CRASHED")
        assert row.error_message.startswith("failtrack: lost — ")
        assert f"pid {child.process.pid}" in row.error_message
        assert row.meta["source"] == "reconcile" and row.meta["liveness"]["process"] == "gone"
    assert "last progress: " in last[task_run_id].error_message
    assert left == []
    assert status_of(url, task_run_id, flow_run_id) == (None, None)  # no longer listed
    again = reconcile(flow_run_ids=[flow_run_id], url=url)
    assert (again.lost_closed, again.inserted) == (0, 0)
