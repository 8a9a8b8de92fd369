"""The circuits in the audit database: thresholds over distinct runs, one opener, one probe."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from prefect_failtrack.resilience import circuit_store as store
from prefect_failtrack.resilience.circuit_settings import (
    CircuitConfig,
    CircuitSettings,
    Limits,
    resolve,
)
from prefect_failtrack.settings import FailtrackSettings

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DEFAULTS = Limits.of(FailtrackSettings.model_construct())
LIMITS = replace(DEFAULTS, threshold=3, window_seconds=60, open_seconds=30)
HALF_OPEN = T0 + timedelta(seconds=31)


def fail(engine: Engine, run: str, at: datetime, flow_run: str | None = None,
         limits: Limits = LIMITS, dependency: str = "api") -> store.Recorded:
    with engine.begin() as connection:
        return store.record_failure(connection, dependency, run, flow_run or f"flow-{run}",
                                    "TRANSIENT", at, limits)


def read(engine: Engine, dependency: str = "api") -> store.CircuitRow | None:
    with engine.connect() as connection:
        return store.read(connection, dependency)


def opened(engine: Engine) -> None:
    """Three runs fail at `T0`: the circuit opens, half-open at `HALF_OPEN` - 1 s."""
    for run in "abc":
        fail(engine, run, T0)


def claim(engine: Engine, run: str, at: datetime, timeout: float = 60) -> bool:
    with engine.begin() as connection:
        return store.claim_probe(connection, "api", run, at, timeout)


def test_settings_come_in_layers() -> None:
    block = CircuitConfig(threshold=5, open_seconds=90,
                          dependencies={"api": CircuitSettings(window_seconds=10)})
    assert resolve("db", DEFAULTS, block).threshold == 5
    assert resolve("db", DEFAULTS, block, {"threshold": 7}).threshold == 7  # a setting that is set
    limits = resolve("api", DEFAULTS, block, {"open_seconds": 20},
                     {"api": CircuitSettings(open_seconds=5, requeue_on_close=True)})
    assert (limits.threshold, limits.window_seconds, limits.open_seconds) == (5, 10, 5)
    assert limits.requeue_on_close and limits.waits == DEFAULTS.waits


def test_opens_when_distinct_runs_cross_the_threshold_within_the_window(engine: Engine) -> None:
    assert not fail(engine, "a", T0).opened
    assert not fail(engine, "a", T0 + timedelta(seconds=1)).opened  # the same run: counted once
    assert not fail(engine, "b", T0 + timedelta(seconds=2)).opened
    recorded = fail(engine, "c", T0 + timedelta(seconds=3))
    assert recorded.opened
    circuit = recorded.circuit
    assert (circuit.state, circuit.failures, circuit.trips) == ("open", 3, 1)
    assert circuit.opened_at == T0 + timedelta(seconds=3)
    assert circuit.open_until == T0 + timedelta(seconds=33)
    assert circuit.phase(T0 + timedelta(seconds=10)) == "open"
    assert circuit.phase(T0 + timedelta(seconds=40)) == "half-open"
    assert not fail(engine, "d", T0 + timedelta(seconds=4)).opened  # open already: no second event


def test_failures_older_than_the_window_do_not_count(engine: Engine) -> None:
    fail(engine, "a", T0)
    fail(engine, "b", T0 + timedelta(seconds=30))
    assert not fail(engine, "c", T0 + timedelta(seconds=61)).opened  # "a" is out of the window
    assert fail(engine, "d", T0 + timedelta(seconds=62)).opened


def test_distinct_flow_runs_by_default_task_runs_on_request(engine: Engine) -> None:
    for task_run in ("t1", "t2", "t3"):  # three task runs of one flow run: one client
        assert not fail(engine, task_run, T0, flow_run="one-flow").opened
    per_task = replace(LIMITS, distinct="task_run")
    assert fail(engine, "t4", T0, flow_run="one-flow", limits=per_task).opened


def test_one_probe_at_a_time_then_success_closes(engine: Engine) -> None:
    opened(engine)
    half_open = HALF_OPEN
    assert not claim(engine, "p1", T0 + timedelta(seconds=5))  # open, not half-open yet
    assert claim(engine, "p1", half_open)
    assert not claim(engine, "p2", half_open)
    assert claim(engine, "p1", half_open)  # its own, again
    with engine.begin() as connection:
        assert not store.close(connection, "api", "p2", half_open)  # not the probe
        assert store.close(connection, "api", "p1", half_open + timedelta(seconds=1))
        assert not store.close(connection, "api", "p1", half_open + timedelta(seconds=2))
    circuit = read(engine)
    assert circuit is not None and circuit.state == "closed" and circuit.probe_run_id is None
    assert circuit.closed_at == half_open + timedelta(seconds=1)
    # the failures before it closed are forgotten: the next ones count afresh
    assert not fail(engine, "x", half_open + timedelta(seconds=3)).opened


def test_a_probe_that_is_not_heard_of_goes_to_the_next_run(engine: Engine) -> None:
    opened(engine)
    assert claim(engine, "p1", HALF_OPEN, timeout=10)
    assert not claim(engine, "p2", HALF_OPEN + timedelta(seconds=9), timeout=10)
    assert claim(engine, "p2", HALF_OPEN + timedelta(seconds=11), timeout=10)


def test_the_probe_failing_opens_it_again_since_the_first_time(engine: Engine) -> None:
    opened(engine)
    assert claim(engine, "probe", HALF_OPEN)
    recorded = fail(engine, "probe", HALF_OPEN + timedelta(seconds=1))
    assert recorded.reopened and not recorded.opened
    assert recorded.circuit.open_until == HALF_OPEN + timedelta(seconds=31)
    assert recorded.circuit.opened_at == T0  # "since" is when it first opened
    assert recorded.circuit.probe_run_id is None and recorded.circuit.trips == 1


def test_release_gives_the_probe_back(engine: Engine) -> None:
    opened(engine)
    assert claim(engine, "p1", HALF_OPEN)
    with engine.begin() as connection:
        assert store.release_probe(connection, "api", "p1", HALF_OPEN)
    assert claim(engine, "p2", HALF_OPEN)


def test_an_operator_can_close_and_open_it(engine: Engine) -> None:
    with engine.begin() as connection:
        assert store.open_now(connection, "api", T0, LIMITS)
        assert not store.open_now(connection, "api", T0, LIMITS)
        assert store.close(connection, "api", None, T0 + timedelta(seconds=1))  # before half-open
    assert read(engine).state == "closed"


@pytest.mark.parametrize("threads", [12])
def test_of_many_writers_crossing_the_threshold_at_once_one_opens_it(
    engine: Engine, threads: int
) -> None:
    """Each thread has a connection of its own: the row lock (PostgreSQL) or the write lock
    (SQLite) orders them, and exactly one sees the circuit closed with the threshold crossed."""
    limits = replace(LIMITS, threshold=2)
    start = threading.Barrier(threads)
    opened: list[bool] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            opened.append(fail(engine, str(uuid.uuid4()), datetime.now(UTC), limits=limits).opened)
        except BaseException as exc:  # noqa: BLE001  (the test reports it)
            errors.append(exc)

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not errors, errors
    assert opened.count(True) == 1 and len(opened) == threads
    circuit = read(engine)
    assert circuit is not None and circuit.trips == 1
