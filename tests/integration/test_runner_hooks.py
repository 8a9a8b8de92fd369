"""Prefect's runner calls a flow's cancellation and crash hooks with keywords
(prefect/runner/_hook_runner.py: ``hook(flow=..., flow_run=..., state=...)``), in the
serving process; failtrack's hooks take them and record the run's end (issue 18).

A served tracked flow (``served_flow.py``, ``flow.serve``) runs against the session's
test server; one of its runs is cancelled, another's process is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.settings import get_current_settings
from prefect.states import Cancelling
from sqlalchemy import text

from prefect_failtrack.store.database import ensure_schema, get_engine

SERVED = Path(__file__).with_name("served_flow.py")
DEPLOYMENT = "failtrack-served-sleeper/served"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The served flow's process, writing to an audit database of its own (SQLite)."""
    folder = tmp_path_factory.mktemp("served")
    url = f"sqlite:///{folder / 'audit.db'}"
    env = {
        **os.environ,
        "PREFECT_API_URL": str(get_current_settings().api.url),
        "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL": url,
        "PREFECT_INTEGRATIONS_FAILTRACK_HOME": str(folder / "home"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }
    log = open(folder / "serve.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, str(SERVED)], env=env, stdout=log, stderr=subprocess.STDOUT,
        cwd=SERVED.parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with get_client(sync_client=True) as client:
                    client.read_deployment_by_name(DEPLOYMENT)
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the flow was not served: {(folder / 'serve.log').read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        print((folder / "serve.log").read_text()[-5000:])


def start(tmp_path: Path) -> tuple[Any, Path]:
    pid_file = tmp_path / "pid"
    flow_run = run_deployment(DEPLOYMENT, parameters={"pid_file": str(pid_file)}, timeout=0)
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the served run did not start"
        time.sleep(0.2)
    return flow_run.id, pid_file


def rows_of(url: str, flow_run_id: Any, until: Any, timeout: float = 30) -> dict[str, Any]:
    ensure_schema(url)
    deadline = time.monotonic() + timeout
    while True:
        with get_engine(url).connect() as connection:
            found = {
                row.to_state: row for row in connection.execute(
                    text("SELECT * FROM failtrack_transitions WHERE run_id = :id"),
                    {"id": str(flow_run_id)},
                )
            }
            summary = connection.execute(
                text("SELECT * FROM failtrack_flow_runs WHERE flow_run_id = :id"),
                {"id": str(flow_run_id)},
            ).first()
        if until(found) or time.monotonic() > deadline:
            return {"rows": found, "summary": summary}
        time.sleep(0.5)


def test_a_cancelled_served_run_records_its_cancelling_row_and_summary(
    served: str, tmp_path: Path
) -> None:
    flow_run_id, _ = start(tmp_path)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, Cancelling(message="stopped by the test"))

    seen = rows_of(served, flow_run_id, until=lambda rows: "Cancelling" in rows)

    assert {"Running", "Cancelling"} <= set(seen["rows"]), seen["rows"].keys()
    assert seen["rows"]["Cancelling"].name == "failtrack-served-sleeper"
    assert seen["summary"] is not None and seen["summary"].final_state == "Cancelling"


def test_a_crashed_served_run_records_its_crashed_row_classified(
    served: str, tmp_path: Path
) -> None:
    flow_run_id, pid_file = start(tmp_path)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)

    seen = rows_of(served, flow_run_id, until=lambda rows: "Crashed" in rows)

    crashed = seen["rows"].get("Crashed")
    assert crashed is not None, seen["rows"].keys()
    assert crashed.error_type is not None and crashed.flow_name == "failtrack-served-sleeper"
    assert seen["summary"] is not None and seen["summary"].final_state_type == "CRASHED"
