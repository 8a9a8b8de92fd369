"""The circuit breaker with real flows under the test harness, against a real HTTP dependency.

The dependency is `FlakyService`, served by the test on 127.0.0.1: down (503), then back.
Flows run side by side in threads of this process here; ``test_circuit_processes.py`` runs
them in separate processes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter, EventResourceFilter
from prefect.events.worker import EventsWorker
from sqlalchemy import select

from prefect_failtrack import ErrorType, RetryPolicy, tracked_flow, tracked_task
from prefect_failtrack.capture import rows
from prefect_failtrack.resilience import circuit_store
from prefect_failtrack.resilience.guard import CircuitGuard
from prefect_failtrack.store import ensure_schema, get_engine, get_recorder
from prefect_failtrack.store.models import transitions

from .flaky_service import FlakyService, flaky_service

PREFIX = "PREFECT_INTEGRATIONS_FAILTRACK_"
FAST = RetryPolicy.default().override(ErrorType.TRANSIENT, initial_delay=0.2, jitter=0, max_retries=3)
# Flows side by side start seconds apart under the test server: their class retries must span that.
SPREAD = RetryPolicy.default().override(ErrorType.TRANSIENT, initial_delay=1, factor=2, jitter=0,
                                        max_retries=3)


def circuit_state(url: str, dependency: str) -> str | None:
    ensure_schema(url)
    with get_engine(url).connect() as connection:
        row = circuit_store.read(connection, dependency)
    return row.state if row is not None else None


def up_once_open(service: FlakyService, url: str, after: float = 0.5, timeout: float = 60) -> threading.Thread:
    """Bring the service back `after` seconds once its circuit has opened (a thread)."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while circuit_state(url, service.url) != "open" and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(after)
        service.up()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def service() -> Iterator[FlakyService]:
    with flaky_service() as running:
        yield running


@pytest.fixture
def circuit_env(audit_db: str) -> Iterator[Callable[..., None]]:
    """Set circuit settings for what follows (settings are read afresh); undone afterwards."""
    set_names: list[str] = []

    def configure(**values: Any) -> None:
        for key, value in values.items():
            name = f"{PREFIX}{key.upper()}"
            os.environ[name] = str(value)
            set_names.append(name)
        rows.settings.cache_clear()

    yield configure
    for name in set_names:
        os.environ.pop(name, None)
    rows.settings.cache_clear()


def circuit_events(dependency: str, expected: int, timeout: float = 30) -> list[Any]:
    """failtrack's circuit events about `dependency`, read back from Prefect's events API."""
    EventsWorker.instance().wait_until_empty()
    deadline = time.monotonic() + timeout
    while True:
        event_filter = EventFilter(
            occurred=EventOccurredFilter(since=datetime.now(UTC) - timedelta(minutes=10),
                                         until=datetime.now(UTC) + timedelta(minutes=1)),
            event=EventNameFilter(prefix=["failtrack.circuit."]),
            resource=EventResourceFilter(id=[f"failtrack.circuit.{dependency}"]),
        )
        with get_client(sync_client=True) as client:
            events = client.read_events(filter=event_filter, limit=50).events
        if len(events) >= expected or time.monotonic() > deadline:
            return sorted(events, key=lambda e: e.occurred)
        time.sleep(0.5)


def task_rows(url: str, name: str) -> list[Any]:
    get_recorder().flush(timeout=10)
    t = transitions.c
    with get_engine(url).connect() as connection:
        return list(connection.execute(
            select(t.run_id, t.to_state, t.error_type, t.dependency, t.reason, t.scheduled_at,
                   t.metadata, t.flow_run_id).where(t.name == name).order_by(t.occurred_at)
        ))


def test_a_tracked_task_keeps_prefects_keys() -> None:
    def load(day: str) -> int:
        return len(day)

    from prefect import task

    tracked, plain = tracked_task(dependency="warehouse")(load), task(load)
    assert isinstance(tracked.fn, CircuitGuard)
    assert tracked.task_key == plain.task_key
    assert tracked.fn.__code__ is load.__code__  # what task_input_hash hashes
    assert tracked.with_options(name="again").task_key == plain.task_key


def test_breaker_opens_waits_and_closes_when_the_dependency_is_back(
    circuit_env: Callable[..., None], service: FlakyService, audit_db: str
) -> None:
    circuit_env(circuit_threshold=2, circuit_open_seconds=2, circuit_window=60)
    service.down("503")

    @tracked_task(policy=SPREAD, dependency=service.url)
    def fetch(i: int) -> int:
        httpx.get(f"{service.url}/rows/{i}", timeout=5).raise_for_status()
        return i

    @tracked_flow(name="circuit-pull")
    def pull(i: int) -> int:
        return fetch(i)

    up_once_open(service, audit_db)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        states = list(pool.map(lambda i: pull(i, return_state=True), range(4)))
    took = time.monotonic() - started

    assert [s.type.value for s in states] == ["COMPLETED"] * 4
    assert sorted(s.result() for s in states) == [0, 1, 2, 3]
    # Called while down: the calls before it opened (2 flows, the threshold, perhaps a class
    # retry each), then each later flow once at most (a call that started before it opened).
    assert service.hits_down <= 4 + 2, (service.hits, service.hits_down)
    with get_engine(audit_db).connect() as connection:
        circuit = circuit_store.read(connection, service.url)
    assert circuit is not None and circuit.state == "closed" and circuit.trips == 1
    assert circuit.closed_at is not None and circuit.opened_at is not None
    fetched = task_rows(audit_db, "fetch")
    waits = [r for r in fetched if r.to_state == "AwaitingRetry" and "circuit_wait" in r.metadata]
    assert waits, fetched
    assert {r.dependency for r in fetched if r.to_state == "AwaitingRetry"} == {service.url}
    assert all("circuit of" in r.metadata["decision"] for r in waits)
    assert took < 60

    events = circuit_events(service.url, expected=2)
    assert [e.event for e in events] == ["failtrack.circuit.opened", "failtrack.circuit.closed"]
    opened = events[0]
    assert opened.resource.name == service.url
    assert opened.payload["threshold"] == 2 and opened.payload["failures"] >= 2


def test_permanent_failures_never_open_a_circuit(
    circuit_env: Callable[..., None], service: FlakyService, audit_db: str
) -> None:
    circuit_env(circuit_threshold=1)

    @tracked_task(policy=FAST, dependency="ledger-api")
    def forbidden(i: int) -> int:
        raise PermissionError(f"no access to ledger {i}")

    @tracked_flow(name="circuit-permanent")
    def run(i: int) -> None:
        forbidden(i)

    for i in range(3):
        assert run(i, return_state=True).is_failed()
    with get_engine(audit_db).connect() as connection:
        assert circuit_store.read(connection, "ledger-api") is None
    failed = [r for r in task_rows(audit_db, "forbidden") if r.to_state == "Failed"]
    assert [(r.error_type, r.dependency) for r in failed] == [("PERMANENT", "ledger-api")] * 3


def test_a_dependency_learnt_from_the_exception_guards_the_runs_next_attempts(
    circuit_env: Callable[..., None], service: FlakyService, audit_db: str
) -> None:
    """No `dependency=`: the failure's own URL names it; the circuit opens after the first
    failure (threshold 1), and the retry waits for it instead of calling again at once."""
    circuit_env(circuit_threshold=1, circuit_open_seconds=1.5)
    service.down("refused")
    up_once_open(service, audit_db)

    @tracked_task(policy=FAST)
    def ping() -> int:
        return httpx.get(f"{service.url}/ping", timeout=5).status_code

    @tracked_flow(name="circuit-learnt")
    def check() -> int:
        return ping()

    state = check(return_state=True)
    assert state.is_completed() and state.result() == 200
    fetched = task_rows(audit_db, "ping")
    waits = [r for r in fetched if r.to_state == "AwaitingRetry"]
    assert waits and waits[0].dependency == service.url and "circuit_wait" in waits[0].metadata
    assert waits[0].error_type == "TRANSIENT"
    with get_engine(audit_db).connect() as connection:
        assert circuit_store.read(connection, service.url).state == "closed"


def test_waits_exhausted_fail_fast_as_dependency(
    circuit_env: Callable[..., None], service: FlakyService, audit_db: str
) -> None:
    circuit_env(circuit_threshold=1, circuit_open_seconds=0.5, circuit_waits=2)
    service.down("503")

    @tracked_task(policy=FAST, dependency="flaky-api")
    def call() -> None:
        httpx.get(f"{service.url}/x", timeout=5).raise_for_status()

    @tracked_flow(name="circuit-gives-up")
    def run() -> None:
        call()

    state = run(return_state=True)
    assert state.is_failed()
    fetched = task_rows(audit_db, "call")
    failed = [r for r in fetched if r.to_state == "Failed"]
    assert len(failed) == 1
    assert failed[0].error_type == "DEPENDENCY" and failed[0].dependency == "flaky-api"
    assert failed[0].reason.startswith("circuit open for flaky-api since ")
    waits = [r for r in fetched if r.to_state == "AwaitingRetry"]
    assert len(waits) == 2  # circuit_waits


def test_failtrack_circuits_lists_them_and_closes_one_by_hand(
    circuit_env: Callable[..., None], audit_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect_failtrack.cli import main
    from prefect_failtrack.resilience.circuit_settings import Limits
    from prefect_failtrack.settings import get_settings

    circuit_env(circuit_open_seconds=600)
    dependency = f"ledger-{time.time_ns()}"
    ensure_schema(audit_db)
    with get_engine(audit_db).begin() as connection:
        assert circuit_store.open_now(connection, dependency, datetime.now(UTC),
                                      Limits.of(get_settings()))  # fmt: skip
    capsys.readouterr()
    assert main(["circuits", "--json", "--dependency", dependency]) == 0
    [view] = json.loads(capsys.readouterr().out)["circuits"]
    assert (view["dependency"], view["state"], view["trips"]) == (dependency, "open", 1)
    assert main(["circuits"]) == 0
    assert dependency in capsys.readouterr().out

    assert main(["circuits", "--close", dependency]) == 0
    said = capsys.readouterr().out.strip().splitlines()  # which database, then what was done
    assert said[0].startswith("Audit database: ")
    assert said[-1] == f"Closed the circuit of {dependency!r}."
    assert circuit_state(audit_db, dependency) == "closed"
    assert main(["circuits", "--close", "no-such-dependency"]) == 2
    [closed] = circuit_events(dependency, expected=1)
    assert closed.event == "failtrack.circuit.closed" and closed.resource.name == dependency


def test_async_and_generator_tasks_behind_the_guard(
    circuit_env: Callable[..., None], audit_db: str
) -> None:
    """An async task waits for a circuit opened by hand, probes it when half-open, and its
    awaited success closes it; a generator task still yields through the guard."""
    import asyncio

    from prefect_failtrack.resilience.circuit_settings import Limits
    from prefect_failtrack.settings import get_settings

    circuit_env(circuit_open_seconds=1)
    dependency = f"async-api-{time.time_ns()}"
    ensure_schema(audit_db)
    with get_engine(audit_db).begin() as connection:
        circuit_store.open_now(connection, dependency, datetime.now(UTC), Limits.of(get_settings()))
        half_open = circuit_store.read(connection, dependency).open_until
    calls: list[datetime] = []

    @tracked_task(dependency=dependency)
    async def lookup(key: str) -> str:
        calls.append(datetime.now(UTC))
        await asyncio.sleep(0)
        return key.upper()

    @tracked_task(dependency=dependency)
    def chunks(n: int):  # noqa: ANN202  (a generator task)
        yield from range(n)

    @tracked_flow(name="circuit-async")
    async def run() -> tuple[str, list[int]]:
        return await lookup("k"), list(chunks(3))

    state = asyncio.run(run(return_state=True))
    assert state.is_completed() and state.result() == ("K", [0, 1, 2])
    assert len(calls) == 1 and calls[0] >= half_open  # it waited for the half-open time
    assert circuit_state(audit_db, dependency) == "closed"
