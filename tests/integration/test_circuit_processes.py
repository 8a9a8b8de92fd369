"""The breaker shared by flows in separate processes, and surviving them: one audit database,
one test server, one real HTTP dependency served by this test.

Each flow runs in a process of its own (``circuit_flow.py``), started together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from prefect.settings import PREFECT_API_URL

from prefect_failtrack.resilience import circuit_store
from prefect_failtrack.store import ensure_schema, get_engine

from .flaky_service import FlakyService, flaky_service
from .test_circuit_breaker import circuit_events, task_rows, up_once_open

HERE = Path(__file__).parent
PREFIX = "PREFECT_INTEGRATIONS_FAILTRACK_"


def environment(audit_db: str, home: Path, **circuit: Any) -> dict[str, str]:
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        f"{PREFIX}DATABASE_URL": audit_db,
        f"{PREFIX}HOME": str(home),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.update({f"{PREFIX}{k.upper()}": str(v) for k, v in circuit.items()})
    return env


def run_flows(service: FlakyService, env: dict[str, str], n: int, timeout: float = 240) -> list[dict[str, Any]]:
    """`n` flows, one process each, running together once all have started (imported
    Prefect: seconds apart on a loaded machine); their JSON lines."""
    start = Path(tempfile.mkdtemp(prefix="circuit-start-"))
    env = {**env, "FAILTRACK_TEST_START": str(start)}
    children = [
        subprocess.Popen([sys.executable, str(HERE / "circuit_flow.py"), service.url, str(i)],
                         env=env, stdout=subprocess.PIPE, text=True)  # fmt: skip
        for i in range(n)
    ]
    deadline = time.monotonic() + 120
    while len(list(start.glob("ready-*"))) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    (start / "go").touch()
    results = []
    for child in children:
        out, _ = child.communicate(timeout=timeout)
        assert child.returncode == 0, out
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def circuit(url: str, dependency: str) -> circuit_store.CircuitRow | None:
    ensure_schema(url)
    with get_engine(url).connect() as connection:
        return circuit_store.read(connection, dependency)


def test_flows_in_separate_processes_share_one_circuit(audit_db: str, tmp_path: Path) -> None:
    with flaky_service() as service:
        service.down("503")
        env = environment(audit_db, tmp_path / "home", circuit_threshold=2,
                          circuit_open_seconds=2, circuit_window=120)  # fmt: skip
        up_once_open(service, audit_db, after=1.0, timeout=180)
        results = run_flows(service, env, 3)

    assert [r["state"] for r in results] == ["COMPLETED"] * 3, results
    row = circuit(audit_db, service.url)
    assert row is not None and row.state == "closed" and row.trips == 1
    # Down, it was called by the flows that opened it (a class retry or two each, at most) and
    # at most once by the third: then no one called until the probe.
    assert service.hits_down <= 2 * 3 + 1, (service.hits, service.hits_down)
    events = circuit_events(service.url, expected=2)
    assert [e.event for e in events] == ["failtrack.circuit.opened", "failtrack.circuit.closed"]
    fetched = task_rows(audit_db, "fetch")
    waited = {r.flow_run_id for r in fetched
              if r.to_state == "AwaitingRetry" and "circuit_wait" in r.metadata}  # fmt: skip
    assert len(waited) >= 2  # the circuit held back runs of several processes
    assert {r["result"]["flow_run_id"] for r in results} >= waited


def test_an_open_circuit_survives_the_process_that_opened_it(audit_db: str, tmp_path: Path) -> None:
    """A process opens the circuit and ends; a new process's task does not call the dependency:
    it fails fast (no circuit wait allowed here), as DEPENDENCY, "circuit open ... since"."""
    with flaky_service() as service:
        service.down("503")
        env = environment(audit_db, tmp_path / "home", circuit_threshold=1,
                          circuit_open_seconds=600, circuit_waits=0)  # fmt: skip
        [first] = run_flows(service, env, 1)
        hits = service.hits
        opened = circuit(audit_db, service.url)
        [second] = run_flows(service, env, 1)

    assert first["state"] == "FAILED" and opened is not None and opened.state == "open"
    assert second["state"] == "FAILED"
    assert second["result"] == (f"CircuitOpen: circuit open for {service.url} since "
                                f"{opened.opened_at:%Y-%m-%d %H:%M:%S} UTC")
    assert service.hits == hits  # the second process never called it
    failed = [r for r in task_rows(audit_db, "fetch") if r.to_state == "Failed"]
    assert [(r.error_type, r.dependency) for r in failed] == [("DEPENDENCY", service.url)] * 2
