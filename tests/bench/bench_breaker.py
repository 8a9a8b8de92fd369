"""breaker: N flows against a dependency that is down for T seconds, then back.

One Prefect test server, one real HTTP dependency on 127.0.0.1 (the tests' `FlakyService`:
down, it answers 503 and counts the request). Three modes, one after the other in one run,
each with the same N flows started together (a thread each, one task each, calling the
dependency) and the same outage from their start:

- ``plain``: ``@task(retries=3, retry_delay_seconds=[2, 4, 8])``, ``@flow``;
- ``failtrack``: `tracked_task` with the default policy (TRANSIENT: 3 retries, 2/4/8 s, ±20 %),
  the circuit breaker off (``circuit_enabled=false``);
- ``failtrack_breaker``: the same, with ``dependency=`` the service and the breaker on
  (threshold 3 distinct flow runs, window 60 s, open `OPEN_SECONDS`, the default 10 waits).

Each line: ``attempts`` (requests the dependency received; ``attempts_while_down`` of them
during the outage), ``time_to_last_final_s`` (from the start to the last flow's final state),
how many flows completed and failed.

A last line, ``breaker_overhead``: the cost of the breaker to a task that succeeds. One
tracked flow calls, in turn (each first as often as the others), a tracked task without a
dependency, one with ``dependency=`` (closed circuit: the guard reads it from the process's
cache, one row read a second), and one decorated with the breaker off (no guard): medians of
wall and CPU time per call. Prefect's own cost per task (several milliseconds here) and the
machine's load swamp a few microseconds, so the guard is also timed alone, inside one task
run: ``guard_us`` is the median cost of a call through the guard (dependency named, circuit
closed) over the same call without it, in microseconds.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

_HOME = Path(tempfile.mkdtemp(prefix="failtrack-bench-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_INTEGRATIONS_FAILTRACK_HOME"] = str(_HOME)
os.environ["PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL"] = f"sqlite:///{_HOME / 'audit.db'}"
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the tests' FlakyService

import httpx  # noqa: E402
from _common import load_average, log, prefect_api  # noqa: E402
from prefect import flow, task  # noqa: E402

from prefect_failtrack import tracked_flow, tracked_task  # noqa: E402
from prefect_failtrack.capture import rows  # noqa: E402
from prefect_failtrack.resilience.guard import guard  # noqa: E402
from prefect_failtrack.store import get_recorder  # noqa: E402
from tests.integration.flaky_service import FlakyService  # noqa: E402

PREFIX = "PREFECT_INTEGRATIONS_FAILTRACK_"
OPEN_SECONDS = 5.0


def _settings(**values: str | None) -> None:
    for key, value in values.items():
        name = f"{PREFIX}{key.upper()}"
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    rows.settings.cache_clear()


def _flows(mode: str, url: str) -> Any:
    """The flow of one mode (decorated now: the breaker's switch is read when decorating)."""

    def call(i: int) -> int:
        httpx.get(f"{url}/rows/{i}", timeout=10).raise_for_status()
        return i

    if mode == "plain":
        fetch = task(call, name="fetch", retries=3, retry_delay_seconds=[2, 4, 8])
        return flow(lambda i: fetch(i), name=f"breaker-bench-{mode}")
    dependency = url if mode == "failtrack_breaker" else None
    fetch = tracked_task(call, name="fetch", dependency=dependency) if dependency else \
        tracked_task(call, name="fetch")
    return tracked_flow(lambda i: fetch(i), name=f"breaker-bench-{mode}")


def _outage(mode: str, service: FlakyService, n: int, down_s: float) -> dict[str, Any]:
    pull = _flows(mode, service.url)
    service.down("503")
    with service.lock:
        service.hits = service.hits_down = 0
    started = time.monotonic()
    timer = service.up_after(down_s)
    finished: list[float] = []

    def one(i: int) -> str:
        state = pull(i, return_state=True)
        finished.append(time.monotonic() - started)
        return state.type.value

    with ThreadPoolExecutor(max_workers=n) as pool:
        states = list(pool.map(one, range(n)))
    timer.join()
    line = {
        "bench": "breaker", "mode": mode, "flows": n, "down_s": down_s,
        "attempts": service.hits, "attempts_while_down": service.hits_down,
        "time_to_last_final_s": round(max(finished), 1),
        "completed": states.count("COMPLETED"), "failed": states.count("FAILED"),
    }  # fmt: skip
    if mode == "failtrack_breaker":
        line["open_seconds"] = OPEN_SECONDS
    log("%s", line)
    return line


def _overhead(n: int) -> dict[str, Any]:
    @tracked_task
    def tracked_step(i: int) -> int:
        return i + 1

    @tracked_task(dependency="bench-warehouse")
    def guarded_step(i: int) -> int:
        return i + 1

    _settings(circuit_enabled="false")
    unguarded_step = tracked_task(lambda i: i + 1, name="unguarded_step")
    _settings(circuit_enabled=None)
    steps = {"tracked": tracked_step, "dependency": guarded_step, "breaker_off": unguarded_step}

    @tracked_flow(name="breaker-overhead")
    def pipeline(count: int) -> dict[str, list[float]]:
        times: dict[str, list[float]] = {f"{k}{s}": [] for k in steps for s in ("", "_cpu")}
        names = list(steps)
        for i in range(count):
            turn = names[i % 3:] + names[:i % 3]
            for name in turn if i % 2 == 0 else reversed(turn):
                cpu, start = time.thread_time(), time.perf_counter()
                steps[name](i)
                times[name].append(time.perf_counter() - start)
                times[f"{name}_cpu"].append(time.thread_time() - cpu)
        return times

    def plain_call(i: int) -> int:
        return i + 1

    guarded_call = guard(plain_call, "bench-warehouse")

    @tracked_task
    def guard_alone(rounds: int) -> float:
        """Per call, through the guard minus without it (µs), medians of 20 batches."""
        extra = []
        for _ in range(20):
            start = time.perf_counter()
            for i in range(rounds):
                guarded_call(i)
            through = time.perf_counter() - start
            start = time.perf_counter()
            for i in range(rounds):
                plain_call(i)
            extra.append((through - (time.perf_counter() - start)) / rounds * 1e6)
        return statistics.median(extra)

    @tracked_flow(name="breaker-guard-alone")
    def alone() -> float:
        return guard_alone(2000)

    pipeline(10)
    guard_us = alone()
    times = pipeline(n)
    get_recorder().flush(timeout=60)

    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1e3, 3)

    off, tracked, guarded = ms(times["breaker_off"]), ms(times["tracked"]), ms(times["dependency"])
    return {
        "bench": "breaker_overhead", "breaker_off_ms": off, "tracked_ms": tracked,
        "dependency_ms": guarded, "ratio_tracked": round(tracked / off, 3),
        "ratio_dependency": round(guarded / off, 3),
        "breaker_off_cpu_ms": ms(times["breaker_off_cpu"]),
        "tracked_cpu_ms": ms(times["tracked_cpu"]), "dependency_cpu_ms": ms(times["dependency_cpu"]),
        "guard_us": round(guard_us, 2), "tasks_each": n, "load": load_average(),
    }  # fmt: skip


def run(quick: bool) -> list[dict[str, Any]]:
    n, down_s, calls = (3, 4.0, 60) if quick else (12, 20.0, 600)
    service = FlakyService()
    lines = []
    try:
        with prefect_api(90):
            log("server up; %d flows, dependency down %.0f s", n, down_s)
            _settings(circuit_enabled="false")
            lines.append(_outage("plain", service, n, down_s))
            lines.append(_outage("failtrack", service, n, down_s))
            _settings(circuit_enabled=None, circuit_threshold="3", circuit_window="60",
                      circuit_open_seconds=str(OPEN_SECONDS))  # fmt: skip
            lines.append(_outage("failtrack_breaker", service, n, down_s))
            _settings(circuit_threshold=None, circuit_window=None, circuit_open_seconds=None)
            service.up()
            lines.append(_overhead(calls))
    finally:
        service.close()
    return lines
