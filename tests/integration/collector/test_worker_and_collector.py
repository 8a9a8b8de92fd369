"""A real ``prefect server start``, a process work pool and ``prefect worker start``; the
audit database's URL is given to the collector only (issue 15, "Done when" 3).

Tracked runs on the worker send their rows as events. Every transition of the worker's
runs is stored, exactly once, and the collector killed (SIGKILL) and restarted while
runs go on loses and duplicates nothing: it catches up from Prefect's events API.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from prefect_failtrack.store.models import outbox, transitions
from tests.integration.collector.worker_flow import ROWS_PER_RUN

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
POOL = "failtrack-events-test"
RUNS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "PYTEST")) or k == "PREFECT_SERVER_ANALYTICS_ENABLED"
    }
    env.update(PREFECT_HOME=str(home), PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``prefect server start`` on a free 127.0.0.1 port, with a PREFECT_HOME of its own."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = clean_env(
        home,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL="1",
    )
    log = open(home / "server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(
                f"prefect server did not start: {(home / 'server.log').read_text()[-2000:]}"
            )
        time.sleep(0.5)
    try:
        yield {"api": api, "home": str(home)}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(30)


def deployment(api: str, home: str) -> str:
    """A deployment of `worker_flow` on a process work pool, through Prefect's client."""
    script = f"""
import sys
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
with get_client(sync_client=True) as c:
    c.create_work_pool(WorkPoolCreate(name={POOL!r}, type="process"), overwrite=True)
    flow_id = c.create_flow_from_name("worker-events")
    d = c.create_deployment(
        flow_id=flow_id, name="events", work_pool_name={POOL!r},
        entrypoint="tests/integration/collector/worker_flow.py:worker_events",
        path={str(ROOT)!r},
        pull_steps=[{{"prefect.deployments.steps.set_working_directory": {{"directory": {str(ROOT)!r}}}}}],
    )
    print(d)
"""
    env = clean_env(Path(home), PREFECT_API_URL=api)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def run_deployment(api: str, home: str, deployment_id: str) -> str:
    script = f"""
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as c:
    print(c.create_flow_run_from_deployment({deployment_id!r}).id)
"""
    env = clean_env(Path(home), PREFECT_API_URL=api)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def flow_run_state(api: str, flow_run_id: str) -> str | None:
    response = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=10)
    state = response.json().get("state") or {}
    return state.get("type")


def wait_for(condition, timeout: float, every: float = 0.5):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            return found
        time.sleep(every)
    return found


def test_only_the_collector_has_the_database(server: dict[str, str], tmp_path: Path) -> None:
    api, home = server["api"], server["home"]
    database = tmp_path / "audit.db"
    url = f"sqlite:///{database}"
    worker_home = tmp_path / "worker-failtrack-home"
    worker_env = clean_env(
        Path(home),
        PREFECT_API_URL=api,
        PREFECT_INTEGRATIONS_FAILTRACK_TRANSPORT="events",
        PREFECT_INTEGRATIONS_FAILTRACK_HOME=str(worker_home),
        PREFECT_WORKER_QUERY_SECONDS="2",  # prefect/settings/models/worker.py: 10 s by default
    )
    collector_env = clean_env(
        Path(home),
        PREFECT_API_URL=api,
        PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL=url,
        PREFECT_INTEGRATIONS_FAILTRACK_HOME=str(tmp_path / "collector-home"),
        PREFECT_INTEGRATIONS_FAILTRACK_PUBLISH_DELAY="1",
    )
    collect = [str(BIN / "failtrack"), "collect", "--name", "worker-test"]
    deployment_id = deployment(api, home)
    worker = start(
        [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process"],
        worker_env,
        tmp_path / "worker.log",
    )
    collector = start(collect, collector_env, tmp_path / "collector.log")
    engine = create_engine(url)
    try:
        runs = [run_deployment(api, home, deployment_id)]
        assert wait_for(lambda: flow_run_state(api, runs[0]) == "FAILED", 180), (
            tmp_path / "worker.log"
        ).read_text()[-3000:]
        # The second run starts; the collector is killed while it runs.
        runs.append(run_deployment(api, home, deployment_id))
        assert wait_for(lambda: flow_run_state(api, runs[1]) == "RUNNING", 120)
        stop(collector, signal.SIGKILL)
        runs.append(run_deployment(api, home, deployment_id))
        assert wait_for(lambda: all(flow_run_state(api, r) == "FAILED" for r in runs[1:]), 240)
        collector = start(collect, collector_env, tmp_path / "collector.log")

        def all_stored() -> bool:
            with engine.connect() as connection:
                counts = Counter(connection.execute(select(transitions.c.flow_run_id)).scalars())
                waiting = connection.execute(select(outbox.c.flow_run_id)).all()
            return all(counts[r] >= ROWS_PER_RUN for r in runs) and not waiting

        assert wait_for(all_stored, 120), (tmp_path / "collector.log").read_text()[-3000:]
    finally:
        stop(collector)
        stop(worker)
    with engine.connect() as connection:
        rows = connection.execute(select(transitions)).all()
    by_run = Counter(r.flow_run_id for r in rows)
    assert {r: by_run[r] for r in runs} == {r: ROWS_PER_RUN for r in runs}
    assert len({r.id for r in rows}) == len(rows)
    assert all(r.capture == "tracked" for r in rows)
    finals = {r.flow_run_id: r for r in rows if r.run_kind == "flow" and r.to_state == "Failed"}
    assert {finals[r].error_type for r in runs} == {"PERMANENT"}  # its class, by the collector
    assert not worker_home.joinpath("failtrack.db").exists()  # the worker never had a database
    log = (tmp_path / "collector.log").read_text()
    assert log.count("failtrack collect: storing Prefect events") == 2
