"""isolation: failtrack broken on purpose, flows unaffected.

The same flows run once as if failtrack were not there (plain ``@flow``/``@task``, and
``record_metrics`` a no-op: the baseline), then once per breakage with failtrack's
decorators and failtrack broken in one way:

- ``url_unparsable``, ``url_unsupported``, ``url_prefect_own``: an audit database URL
  that cannot be parsed, of a backend failtrack does not support, or Prefect's own;
- ``nothing_writable``: the database refuses connections, and failtrack's home (the
  spool's folder, and the default SQLite file's) cannot be created: rows are dropped;
- ``database_hangs``: the database accepts connections and never answers;
- ``settings_invalid``: failtrack settings that do not validate;
- ``redaction_invalid``: a redaction pattern that does not compile;
- ``rules_raise``: the decorators' and the global classification rules raise or
  answer nonsense;
- ``metrics_garbage``: ``record_metrics`` given NaN, infinities, a 400-digit integer,
  strings, ``None``, objects whose ``repr`` raises, a number whose ``float`` raises;
- ``schema_drift``: an audit database whose table lost a column (rows are spooled, the
  problem reported once);
- ``circuit_store_down``: the circuit breaker cannot reach its tables (the database
  refuses connections) while one failure would open a circuit;
- ``circuit_tables_broken``: the audit database works, but the breaker's and the
  requeue ledger's tables are gone (dropped after the migration), with requeue on close;
- ``circuit_settings_invalid``: circuit settings that do not validate (a negative
  threshold, per-dependency settings that are not JSON);
- ``dependency_raises``: the tasks' ``dependency=`` function raises;
- ``circuit_opens``: nothing broken: the breaker works, and one failure opens a circuit
  (open for half a second), so runs wait for it and probe it; outcomes must not change.

The tracked tasks name a dependency (one per pass), so that the breaker takes part.

Then user code that misbehaves, timed with and without failtrack (``misbehaving``):
async tasks whose async retry condition takes a second, and exceptions whose ``str()``
takes a second; the ratios of wall time (tracked / plain) and failtrack's own ``str()``
calls per failure are printed.

The flows: one that completes, one whose transient errors are retried and then
complete, one that fails on a permanent error, one that completes with a failed task
inside (partial success), one that raises itself. Each flow's final state type and its
result (value, or exception type and message) are compared with the baseline's.
``flows`` counts the broken runs compared, ``outcome_changed`` those that differ;
``hook_errors`` how often failtrack caught its own failure, ``slowest_flow_s`` and
``baseline_slowest_s`` what the breakage cost in time.
"""

from __future__ import annotations

import math
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from numbers import Real
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.context import TaskRunContext
from prefect.futures import wait
from prefect.settings import get_current_settings

from prefect_failtrack import (
    ErrorType,
    RetryPolicy,
    add_rules,
    record_metrics,
    tracked_flow,
    tracked_task,
)
from prefect_failtrack.capture import COUNTERS
from prefect_failtrack.classification.engine import clear_rules
from prefect_failtrack.redaction import get_redactor
from prefect_failtrack.resilience.safety import ERRORS as RESILIENCE_ERRORS
from tests.drills._common import environment, log

NEEDS_PREFECT = True
FAST = RetryPolicy.default().override(ErrorType.TRANSIENT, initial_delay=0, jitter=0)
PREFIX = "PREFECT_INTEGRATIONS_FAILTRACK_"


class Boom(Exception):
    pass


class Unprintable:
    def __repr__(self) -> str:
        raise Boom("repr")

    __str__ = __repr__


class LyingNumber(Real):  # type: ignore[misc]
    """A Real whose every conversion raises."""

    def __float__(self) -> float:
        raise Boom("float")

    def __repr__(self) -> str:
        raise Boom("repr")

    def __getattr__(self, name: str) -> Any:
        raise Boom(name)


# Abstract methods of Real, all raising: the class is instantiable, the number is useless.
for _name in LyingNumber.__abstractmethods__:
    setattr(LyingNumber, _name, lambda self, *args: (_ for _ in ()).throw(Boom("math")))
LyingNumber.__abstractmethods__ = frozenset()


def garbage_metrics() -> dict[str, Any]:
    return {
        "nan": float("nan"), "inf": float("inf"), "minus_inf": -math.inf, "huge": 10**400,
        "text": "12", "none": None, "obj": object(), "unprintable": Unprintable(),
        "lying": LyingNumber(), "flag": True, "ok": 1,
    }  # fmt: skip


def raising_rule(exc: BaseException) -> Any:
    raise Boom("a user's rule")


def nonsense_rule(exc: BaseException) -> Any:
    return "NOT A CLASS"


def make_flows(
    task_decorator: Callable[..., Any],
    flow_decorator: Callable[..., Any],
    metrics: Callable[..., None],
    suffix: str,
) -> dict[str, Any]:
    """The drill's flows, built with the given decorators and metrics function."""

    @task_decorator(retries=2, retry_delay_seconds=0)
    def add(x: int, y: int) -> int:
        metrics(**{"rows": x + y})
        return x + y

    @task_decorator(retries=2, retry_delay_seconds=0)
    def flaky(x: int) -> int:
        if TaskRunContext.get().task_run.run_count == 1:
            raise ConnectionResetError(f"connection reset (item {x})")
        metrics(**{"rows": x})
        return x

    @task_decorator(retries=2, retry_delay_seconds=0)
    def forbidden(x: int) -> int:
        raise PermissionError(f"no access to bucket-{x}")

    @flow_decorator(name=f"isolation-completes-{suffix}")
    def completes(n: int) -> int:
        metrics(**{"flow": n})
        return sum(add(i, i) for i in range(n))

    @flow_decorator(name=f"isolation-retried-{suffix}")
    def retried(n: int) -> list[int]:
        return [f.result() for f in flaky.map(range(n))]

    @flow_decorator(name=f"isolation-fails-{suffix}")
    def fails(n: int) -> str:
        add(1, 2)
        forbidden(n)
        return "not reached"

    @flow_decorator(name=f"isolation-partial-{suffix}")
    def partial(n: int) -> list[str]:
        futures = [forbidden.submit(0), *(add.submit(i, 1) for i in range(n))]
        wait(futures)
        return [f.state.type.value for f in futures]

    @flow_decorator(name=f"isolation-raises-{suffix}")
    def raises(n: int) -> None:
        metrics(**{"flow": n})
        raise ValueError(f"invalid parameter n={n}")

    return {"completes": completes, "retried": retried, "fails": fails, "partial": partial,
            "raises": raises}  # fmt: skip


def _plain_task(**options: Any) -> Callable[..., Any]:
    return lambda fn: task(fn, **options)


def _plain_flow(**options: Any) -> Callable[..., Any]:
    return lambda fn: flow(fn, **options)


def raising_dependency(parameters: dict[str, Any]) -> str:
    raise Boom("a user's dependency function")


def _tracked(rules: list[Any], dependency: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def task_decorator(**options: Any) -> Callable[..., Any]:
        options.pop("retry_delay_seconds")  # the policy chooses the delays
        return tracked_task(policy=FAST, rules=rules, dependency=dependency, **options)

    def flow_decorator(**options: Any) -> Callable[..., Any]:
        return tracked_flow(rules=rules, **options)

    return task_decorator, flow_decorator


def outcome(state: Any) -> tuple[str, str]:
    """A flow run's final state type and its result (a value, or an exception's type and text)."""
    try:
        result = state.result(raise_on_failure=False)
    except Exception as exc:  # noqa: BLE001  (the result could not be had: that is the outcome)
        result = exc
    if isinstance(result, BaseException):
        return state.type.value, f"{type(result).__name__}: {result}"
    return state.type.value, repr(result)


def run_all(flows: dict[str, Any], n: int) -> dict[str, tuple[tuple[str, str], float]]:
    """Every flow once, concurrently (one thread each): name -> (outcome, seconds)."""

    def one(name: str) -> tuple[tuple[str, str], float]:
        t0 = time.monotonic()
        state = flows[name](n, return_state=True)
        return outcome(state), time.monotonic() - t0

    with ThreadPoolExecutor(max_workers=len(flows)) as pool:
        futures = {name: pool.submit(one, name) for name in flows}
        return {name: future.result() for name, future in futures.items()}


@contextmanager
def blackhole() -> Iterator[str]:
    """A TCP server that accepts connections and never says a word: a database that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{server.getsockname()[1]}/hangs"
    finally:
        stop.set()
        server.close()
        for connection in accepted:
            connection.close()


@contextmanager
def breakage(names: tuple[str, ...], scratch: Path) -> Iterator[list[Any]]:
    """Break failtrack in these ways at once; yields the rules the decorators get."""
    home = str(scratch / "-".join(names))
    blocker = scratch / "not-a-folder"
    blocker.write_text("a file where failtrack's home should be")
    refused = "postgresql+psycopg://postgres@127.0.0.1:1/refused"
    prefect_db = get_current_settings().server.database.connection_url
    env: dict[str, str | None] = {f"{PREFIX}HOME": home, f"{PREFIX}DATABASE_URL": None}
    one_failure_opens = {f"{PREFIX}CIRCUIT_THRESHOLD": "1", f"{PREFIX}CIRCUIT_OPEN_SECONDS": "0.5"}
    rules: list[Any] = []
    with ExitStack() as stack:
        for name in names:
            if name == "url_unparsable":
                env[f"{PREFIX}DATABASE_URL"] = "not a URL ::: at all"
            elif name == "url_unsupported":
                env[f"{PREFIX}DATABASE_URL"] = "mysql+pymysql://etl@127.0.0.1:3306/audit"
            elif name == "url_prefect_own":
                env[f"{PREFIX}DATABASE_URL"] = prefect_db.get_secret_value() if prefect_db else None
            elif name == "nothing_writable":
                env[f"{PREFIX}HOME"] = str(blocker / "home")
                env[f"{PREFIX}DATABASE_URL"] = refused
            elif name == "database_hangs":
                env[f"{PREFIX}DATABASE_URL"] = stack.enter_context(blackhole())
            elif name == "settings_invalid":
                env.update({f"{PREFIX}BATCH_SIZE": "lots", f"{PREFIX}MESSAGE_LIMIT": "-5",
                            f"{PREFIX}ENABLED": "perhaps"})  # fmt: skip
            elif name == "redaction_invalid":
                env[f"{PREFIX}REDACTION_PATTERNS"] = '["(unclosed", "[z-a]"]'
            elif name == "schema_drift":
                env[f"{PREFIX}DATABASE_URL"] = drifted_database(scratch / "drifted.db")
            elif name == "rules_raise":
                rules = [raising_rule, nonsense_rule, lambda exc: Unprintable()]
                add_rules(raising_rule, nonsense_rule)
            elif name == "circuit_store_down":
                env[f"{PREFIX}DATABASE_URL"] = refused
                env.update(one_failure_opens)
            elif name == "circuit_tables_broken":
                env[f"{PREFIX}DATABASE_URL"] = tables_dropped(Path(f"{home}-audit.db"))
                env.update({**one_failure_opens, f"{PREFIX}REQUEUE_ON_CLOSE": "true"})
            elif name == "circuit_settings_invalid":
                env.update({f"{PREFIX}CIRCUIT_THRESHOLD": "-1", f"{PREFIX}CIRCUITS": "{not json",
                            f"{PREFIX}CIRCUIT_OPEN_SECONDS": "soon"})  # fmt: skip
            elif name == "circuit_opens":
                env.update(one_failure_opens)
        get_redactor.cache_clear()
        try:
            with environment(**env):
                yield rules
        finally:
            clear_rules()
            get_redactor.cache_clear()


def tables_dropped(path: Path) -> str:
    """A SQLite audit database at head whose breaker and requeue tables were dropped."""
    from sqlalchemy import text

    from prefect_failtrack.store.database import get_engine, upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    with get_engine(url).begin() as connection:
        for table in ("failtrack_circuits", "failtrack_circuit_failures", "failtrack_requeues"):
            connection.execute(text(f"DROP TABLE {table}"))
    return url


BREAKAGES = [("url_unparsable",), ("url_unsupported",), ("url_prefect_own",),
             ("nothing_writable",), ("database_hangs",), ("settings_invalid",),
             ("redaction_invalid",), ("rules_raise",), ("metrics_garbage",),
             ("schema_drift",), ("circuit_store_down",), ("circuit_tables_broken",),
             ("circuit_settings_invalid",), ("dependency_raises",), ("circuit_opens",)]  # fmt: skip
QUICK = [("url_unparsable", "rules_raise"), ("nothing_writable", "metrics_garbage"),
         ("settings_invalid", "redaction_invalid"), ("schema_drift", "circuit_tables_broken"),
         ("circuit_settings_invalid", "dependency_raises"), ("circuit_opens",)]  # fmt: skip
"""Breakages run together, one pass each: every one alone in the full run, in pairs with
``--quick`` (where the database that hangs, the slowest, is left out)."""


def drifted_database(path: Path) -> str:
    """A SQLite audit database at failtrack's revision whose transitions lost a column."""
    from prefect_failtrack.store.database import dispose_engines, get_engine, upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    with get_engine(url).begin() as connection:
        connection.exec_driver_sql("ALTER TABLE failtrack_transitions DROP COLUMN origin")
    dispose_engines()
    return url


# ------------------------------------------------------------ user code that misbehaves

SLOW_S = 1.0
str_calls: list[str] = []


class SlowToPrint(Exception):
    """An exception whose message takes `SLOW_S` to format; it notes who asked for it."""

    def __str__(self) -> str:
        import traceback

        caller = traceback.extract_stack()[-2].filename
        str_calls.append("failtrack" if "prefect_failtrack" in caller else "other")
        time.sleep(SLOW_S)
        return "slow to print"


async def slow_condition(task: Any, task_run: Any, state: Any) -> bool:
    import asyncio

    await asyncio.sleep(SLOW_S)
    return False


def misbehaving(quick: bool) -> dict[str, Any]:
    """Wall time of the same misbehaving flows plain and tracked (see the module's docs)."""
    import asyncio

    tasks = 5 if quick else 20
    failures = 2 if quick else 5
    figures: dict[str, Any] = {}
    for label, task_decorator, flow_decorator in (
        ("plain", task, flow),
        ("tracked", tracked_task, tracked_flow),
    ):
        # Plain: Prefect awaits the async condition in the engine's loop; so must failtrack.
        @task_decorator(retries=1, retry_condition_fn=slow_condition)
        async def flaky(i: int) -> None:
            raise ConnectionResetError(f"reset {i}")

        @flow_decorator(name=f"isolation-async-conditions-{label}")
        async def conditions() -> None:
            await asyncio.gather(*(flaky(i) for i in range(tasks)), return_exceptions=True)

        @task_decorator()
        def slow(i: int) -> None:
            raise SlowToPrint(i)

        @flow_decorator(name=f"isolation-slow-str-{label}")
        def slow_strs() -> None:
            wait([slow.submit(i) for i in range(failures)])

        t0 = time.monotonic()
        asyncio.run(conditions(return_state=True))
        figures[f"async_conditions_{label}_s"] = round(time.monotonic() - t0, 2)
        str_calls.clear()
        t0 = time.monotonic()
        slow_strs(return_state=True)
        figures[f"slow_str_{label}_s"] = round(time.monotonic() - t0, 2)
        figures[f"str_calls_{label}"] = dict(failtrack=str_calls.count("failtrack"),
                                             other=str_calls.count("other"))
    figures["async_conditions_ratio"] = round(
        figures["async_conditions_tracked_s"] / figures["async_conditions_plain_s"], 2
    )
    figures["slow_str_ratio"] = round(figures["slow_str_tracked_s"] / figures["slow_str_plain_s"], 2)
    figures["failtrack_str_calls_per_failure"] = figures["str_calls_tracked"]["failtrack"] / failures
    log("misbehaving user code: %s", figures)
    return figures


def run(quick: bool) -> dict[str, Any]:
    n = 3
    breakages = QUICK if quick else BREAKAGES
    with environment(**{f"{PREFIX}ENABLED": "false"}):
        baseline = run_all(make_flows(_plain_task, _plain_flow, lambda **m: None, "base"), n)
    for name, (result, seconds) in baseline.items():
        log("baseline %s: %s (%.1f s)", name, result, seconds)
    compared = changed = 0
    slowest = 0.0
    errors_before = COUNTERS.hook_errors
    breaker_before = RESILIENCE_ERRORS.hook_errors
    with tempfile.TemporaryDirectory() as scratch:
        for names in breakages:
            label = "+".join(names)
            with breakage(names, Path(scratch)) as rules:
                dependency = (raising_dependency if "dependency_raises" in names
                              else f"drill-dependency-{label}")  # fmt: skip
                task_decorator, flow_decorator = _tracked(rules, dependency)
                if "metrics_garbage" in names:
                    metrics: Callable[..., None] = lambda **m: record_metrics(**garbage_metrics())
                else:
                    metrics = record_metrics
                flows = make_flows(task_decorator, flow_decorator, metrics, "-".join(names))
                results = run_all(flows, n)
            for name, (result, seconds) in results.items():
                compared += 1
                slowest = max(slowest, seconds)
                if result != baseline[name][0]:
                    changed += 1
                    log("CHANGED %s / %s: %s, but without failtrack %s",
                        label, name, result, baseline[name][0])
            log("%s: %d flow(s), slowest %.1f s, %d hook error(s) caught so far", label,
                len(results), max(s for _, s in results.values()),
                COUNTERS.hook_errors - errors_before)
    os.environ.pop(f"{PREFIX}DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as scratch, environment(
        **{f"{PREFIX}DATABASE_URL": f"sqlite:///{Path(scratch) / 'misbehaving.db'}"}
    ):
        user_code = misbehaving(quick)
    return {
        "flows": compared,
        "outcome_changed": changed,
        "breakages": sum(len(names) for names in breakages),
        "passes": len(breakages),
        "hook_errors": COUNTERS.hook_errors - errors_before,
        "breaker_errors": RESILIENCE_ERRORS.hook_errors - breaker_before,
        "slowest_flow_s": round(slowest, 1),
        "baseline_slowest_s": round(max(s for _, s in baseline.values()), 1),
        "misbehaving_user_code": user_code,
    }
