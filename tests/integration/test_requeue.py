"""Dead letters and requeue through a real deployment: a flow served with ``flow.serve`` in a
process of its own (its runs in processes of theirs), a real HTTP dependency served by the test,
and the ``failtrack`` command.

One served deployment for the module; the audit database is a SQLite file they all share.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL
from sqlalchemy import select

from prefect_failtrack.capture import rows
from prefect_failtrack.cli import main
from prefect_failtrack.resilience.requeue import REQUEUE_LABEL
from prefect_failtrack.store import ensure_schema, get_engine, get_recorder
from prefect_failtrack.store.models import requeues

from .conftest import use_database
from .flaky_service import FlakyService
from .test_circuit_breaker import circuit_state

HERE = Path(__file__).parent
PREFIX = "PREFECT_INTEGRATIONS_FAILTRACK_"
DEPLOYMENT = "requeue-pull/served"


class Served:
    def __init__(self, service: FlakyService, db: str, process: subprocess.Popen[str]) -> None:
        self.service, self.db, self.process = service, db, process

    def run(self, day: str) -> UUID:
        flow_run = run_deployment(DEPLOYMENT, parameters={"day": day, "url": self.service.url},
                                  timeout=0, as_subflow=False)  # fmt: skip
        return flow_run.id


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    db = f"sqlite:///{folder / 'audit.db'}"
    ensure_schema(db)
    service = FlakyService()
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        f"{PREFIX}DATABASE_URL": db,
        f"{PREFIX}HOME": str(folder / "home"),
        f"{PREFIX}CIRCUIT_THRESHOLD": "1",
        f"{PREFIX}CIRCUIT_OPEN_SECONDS": "1",
        f"{PREFIX}CIRCUIT_WAITS": "2",
    }
    process = subprocess.Popen([sys.executable, str(HERE / "requeue_served.py")], env=env,
                               cwd=HERE, stdout=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the served process ended"
            try:
                with get_client(sync_client=True) as client:
                    client.read_deployment_by_name(DEPLOYMENT)
                break
            except Exception:
                assert time.monotonic() < deadline, "the deployment never appeared"
                time.sleep(1)
        yield Served(service, db, process)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        service.close()


@pytest.fixture
def on_served_db(served: Served) -> Iterator[str]:
    use_database(served.db)
    yield served.db
    get_recorder().flush(timeout=10)
    os.environ.pop(f"{PREFIX}DATABASE_URL", None)
    os.environ.pop(f"{PREFIX}REQUEUE_ON_CLOSE", None)
    rows.settings.cache_clear()


def final_states(ids: list[UUID], timeout: float = 180) -> dict[UUID, Any]:
    deadline = time.monotonic() + timeout
    while True:
        with get_client(sync_client=True) as client:
            runs = {i: client.read_flow_run(i) for i in ids}
        if all(r.state is not None and r.state.is_final() for r in runs.values()):
            return runs
        assert time.monotonic() < deadline, {i: r.state_name for i, r in runs.items()}
        time.sleep(1)


def failtrack(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_dead_letters_are_listed_and_requeued_once_through_the_deployment(
    served: Served, on_served_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from .requeue_served import requeue_pull

    service = served.service
    service.down("503")
    originals = [served.run(day) for day in ("d1", "d2")]
    assert requeue_pull("d0", service.url, return_state=True).is_failed()  # no deployment
    assert {r.state.type.value for r in final_states(originals).values()} == {"FAILED"}
    get_recorder().flush(timeout=10)

    listed = json.loads(failtrack(capsys, "dead-letters", "--since", "1h", "--json"))
    letters = {d["flow_run_id"]: d for d in listed["dead_letters"]}
    assert set(map(str, originals)) <= set(letters) and len(letters) == 3
    for flow_run_id in map(str, originals):
        letter = letters[flow_run_id]
        assert letter["deployment_id"] and letter["requeue"]["possible"]
        assert letter["dependency"] == service.url
        assert letter["error_type"] in ("TRANSIENT", "DEPENDENCY")
        assert letter["parameters"]["url"] == service.url
        assert letter["parameters"]["day"] in ("d1", "d2")
    [orphan] = [d for d in letters.values() if d["deployment_id"] is None]
    assert not orphan["requeue"]["possible"] and "no deployment" in orphan["requeue"]["reason"]
    assert listed["cannot_requeue"] == 1

    service.up()
    dry = failtrack(capsys, "requeue", "--since", "1h", "--dry-run")
    assert dry.count("Would requeue") == 2 and "no deployment" in dry

    done = json.loads(failtrack(capsys, "requeue", "--since", "1h", "--json"))
    new = {o["flow_run_id"]: o["new_flow_run_id"] for o in done["outcomes"] if o["action"] == "requeued"}
    assert set(new) == set(map(str, originals)) and done["requeued"] == 2
    runs = final_states([UUID(i) for i in new.values()])
    assert {r.state.type.value for r in runs.values()} == {"COMPLETED"}
    with get_client(sync_client=True) as client:
        for original, replacement in new.items():
            run, before = client.read_flow_run(UUID(replacement)), client.read_flow_run(UUID(original))
            assert run.labels[REQUEUE_LABEL] == original
            assert run.parameters == before.parameters
            assert run.deployment_id == before.deployment_id

    again = json.loads(failtrack(capsys, "requeue", "--since", "1h", "--json"))
    assert again["requeued"] == 0
    everything = json.loads(failtrack(capsys, "dead-letters", "--since", "1h", "--all", "--json"))
    linked = {d["flow_run_id"]: d["requeue"]["requeued_as"] for d in everything["dead_letters"]}
    assert {k: linked[k] for k in new} == new
    waiting = json.loads(failtrack(capsys, "dead-letters", "--since", "1h", "--json"))
    assert [d["flow_run_id"] for d in waiting["dead_letters"]] == [orphan["flow_run_id"]]


def test_a_closing_circuit_requeues_its_dead_letters_when_asked(
    served: Served, on_served_db: str
) -> None:
    """requeue_on_close: the process whose run closes the circuit requeues that dependency's
    dead letters (here the test's own process, through a probe of an in-process flow)."""
    from .requeue_served import requeue_pull

    service = served.service
    service.down("503")
    [original] = [served.run("d9")]
    assert final_states([original])[original].state.is_failed()
    assert circuit_state(served.db, service.url) == "open"

    service.up()
    os.environ[f"{PREFIX}REQUEUE_ON_CLOSE"] = "true"
    os.environ[f"{PREFIX}CIRCUIT_OPEN_SECONDS"] = "1"
    rows.settings.cache_clear()
    try:
        assert requeue_pull("probe", service.url, return_state=True).is_completed()
    finally:
        os.environ.pop(f"{PREFIX}CIRCUIT_OPEN_SECONDS", None)
    assert circuit_state(served.db, service.url) == "closed"

    deadline = time.monotonic() + 60
    while True:
        with get_engine(served.db).connect() as connection:
            found = connection.execute(
                select(requeues).where(requeues.c.flow_run_id == str(original))
            ).first()
        if found is not None and found.status == "created" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found is not None and found.status == "created", found
    assert found.requested_by == f"circuit of {service.url} closed"
    replacement = UUID(found.requeued_as)
    assert final_states([replacement])[replacement].state.is_completed()
