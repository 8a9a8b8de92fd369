"""sigkill: a tracked flow's process is killed with SIGKILL in the middle of a task; reconcile
then fills the audit table from Prefect's state history.

Each kill runs ``tests/integration/killed_flow.py`` in a child process (its own failtrack
home, the drill's PostgreSQL database, this run's Prefect server). The child writes its
flow run id once its second task runs; the drill waits a little (a different delay for
each kill, so that the kill lands at different moments of the recorder's batching) and
sends SIGKILL. Whatever the child's recorder held in memory dies with it.

``expected`` is the number of states Prefect's API knows for the killed flow runs and
their task runs; ``missing_after_reconcile`` how many of those the table lacks once
reconcile has run (compared per run, state name by state name). Also reported:
``rows_before_reconcile`` (what the hooks got into the table before the kill),
``inserted`` (what reconcile added), ``reinserted`` (what a second reconcile added:
it must be 0) and ``extra`` (rows the table has beyond the API's history: the
``Crashed`` rows with which reconcile closed the killed runs it found lost, as many as
``lost_closed``; liveness, ``docs/liveness.md``), and ``reclosed`` (lost runs a second
reconcile closed: it must be 0).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL

from prefect_failtrack.reconcile import _task_runs, reconcile
from tests.drills._common import column, log, postgres_database, scalar

NEEDS_PREFECT = True
MUST_BE_ZERO = ("reinserted", "reclosed")
KILLED_FLOW = Path(__file__).resolve().parents[1] / "integration" / "killed_flow.py"
DELAYS_S = (1.0, 0.1, 2.0, 0.5, 3.0)
"""Seconds between the second task starting and the SIGKILL, one per kill."""


def kill_mid_task(url: str, folder: Path, delay: float) -> str:
    """Run killed_flow.py in a child, SIGKILL it `delay` s into its second task; its flow run id."""
    marker = folder / "flow_run_id"
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL": url,
        "PREFECT_INTEGRATIONS_FAILTRACK_HOME": str(folder / "home"),
    }
    child = subprocess.Popen(
        [sys.executable, str(KILLED_FLOW), str(marker)], env=env, stdout=sys.stderr.fileno()
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                raise RuntimeError(f"the flow process ended ({child.returncode}) before the kill")
            if time.monotonic() > deadline:
                raise RuntimeError("the flow never reached its second task")
            time.sleep(0.05)
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None and child.returncode is None:
            child.kill()
        child.wait(timeout=30)
    if child.returncode != -signal.SIGKILL:
        raise RuntimeError(f"the flow process ended with {child.returncode}, not by SIGKILL")
    return marker.read_text().strip()


def api_states(flow_run_id: str) -> dict[str, list[str]]:
    """run id -> state names in order, for a flow run and its task runs, as the API has them."""
    with get_client(sync_client=True) as client:
        states = {flow_run_id: client.read_flow_run_states(flow_run_id)}
        for task_run in _task_runs(client, flow_run_id):
            states[str(task_run.id)] = client.read_task_run_states(task_run.id)
    return {
        run_id: [s.name for s in sorted(history, key=lambda s: s.timestamp)]
        for run_id, history in states.items()
    }


def table_states(url: str, run_ids: list[str]) -> Counter[tuple[str, str]]:
    rows = column(
        url,
        "SELECT run_id || ' ' || to_state FROM failtrack_transitions WHERE run_id = ANY(:ids)",
        ids=run_ids,
    )
    return Counter(tuple(r.split(" ", 1)) for r in rows)  # type: ignore[misc]


def compare(url: str, flow_run_ids: list[str]) -> tuple[int, int, int]:
    """(states the API knows, of those missing from the table, rows beyond the API's history)."""
    api: Counter[tuple[str, str]] = Counter()
    for flow_run_id in flow_run_ids:
        for run_id, names in api_states(flow_run_id).items():
            api.update((run_id, name) for name in names)
    table = table_states(url, sorted({run_id for run_id, _ in api}))
    return sum(api.values()), sum((api - table).values()), sum((table - api).values())


def run(quick: bool) -> dict[str, Any]:
    delays = DELAYS_S[:1] if quick else DELAYS_S
    flow_run_ids: list[str] = []
    with postgres_database("sigkill") as url, tempfile.TemporaryDirectory() as scratch:
        for k, delay in enumerate(delays):
            folder = Path(scratch) / f"kill-{k}"
            folder.mkdir()
            flow_run_ids.append(kill_mid_task(url, folder, delay))
            log("kill %d: flow run %s killed %.1f s into its second task",
                k + 1, flow_run_ids[-1], delay)
        rows_before = scalar(url, "SELECT count(*) FROM failtrack_transitions")

        # Prefect's client sends some states as events: give the API a moment to have them all.
        inserted = closed = 0
        deadline = time.monotonic() + 60
        while True:
            result = reconcile(flow_run_ids=flow_run_ids, url=url)
            inserted, closed = inserted + result.inserted, closed + result.lost_closed
            expected, missing, extra = compare(url, flow_run_ids)
            if missing == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        again = reconcile(flow_run_ids=flow_run_ids, url=url)
        reinserted, reclosed = again.inserted, again.lost_closed
        flows_still_running = scalar(
            url,
            "SELECT count(DISTINCT flow_run_id) FROM failtrack_transitions "
            "WHERE run_kind = 'flow' AND to_state = 'Running' AND flow_run_id = ANY(:ids)",
            ids=flow_run_ids,
        )
    return {
        "kills": len(delays),
        "expected": expected,
        "missing_after_reconcile": missing,
        "rows_before_reconcile": rows_before,
        "inserted": inserted,
        "reinserted": reinserted,
        "extra": extra,
        "lost_closed": closed,
        "reclosed": reclosed,
        "flows_seen_running": flows_still_running,
    }
