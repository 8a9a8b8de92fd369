"""task_overhead: per-task wall time in a flow of plain ``@task`` vs ``tracked_task``.

One Prefect test server for the whole bench; the audit trail goes to a SQLite file in
a temporary folder. One ``tracked_flow`` calls a plain ``@task``, a ``tracked_task``
and the floor (below) in turn, each first, second and last as often as the others,
each call timed on its own: the whole of Prefect's task engine, hooks and their log
lines included. The figures are medians over all calls of each kind; means are given
too.

The reference is the plain task: same process, same flow, same server, interleaved
call by call, so that the load of the machine (shared, busy) falls on both alike.
What that hides, the recorder's writer thread, which writes the rows in the
background and takes CPU (and the GIL) from whichever call is running, is measured on
its own: its CPU time over the run, per tracked task (``writer_cpu_ms_per_task``),
and ``ratio_with_writer`` charges all of it to the tracked calls (an upper bound: part
of it runs on the other core, in SQLite, without the GIL). The main thread's CPU time
per call is given as well (``*_cpu_ms``): steadier than wall time on a loaded machine.

The floor, in the same flow: a plain ``@task`` with one hook that does nothing (named
like failtrack's, so its two log lines are dropped the same way). A tracked task that
succeeds calls one failtrack hook, ``on_running`` (Completed is noticed without one,
see ``capture/watch.py``), so ``floor_ratio`` is what Prefect 3.8 charges any
integration that must know when a task starts, before it does any work of its own.

(One flow rather than alternating flows: after each flow of hundreds of tasks,
Prefect's SQLite test server is busy recording their events for a while, and the next
flow's creation waits out HTTP 503 retries of up to 30 s.)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="failtrack-bench-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_INTEGRATIONS_FAILTRACK_HOME"] = str(_HOME)
os.environ["PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL"] = f"sqlite:///{_HOME / 'audit.db'}"

from _common import load_average, log, prefect_api  # noqa: E402
from prefect import task  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from prefect_failtrack import tracked_flow, tracked_task  # noqa: E402
from prefect_failtrack.capture.hooklog import named_hook  # noqa: E402
from prefect_failtrack.store import get_recorder  # noqa: E402
from prefect_failtrack.store.database import get_engine, resolve_database_url  # noqa: E402
from prefect_failtrack.store.models import transitions  # noqa: E402


@task
def plain_step(i: int) -> int:
    return i + 1


@tracked_task
def tracked_step(i: int) -> int:
    return i + 1


def _nothing(task: object, task_run: object, state: object) -> None:
    """A hook that does nothing: the floor."""


@task(on_running=[named_hook(_nothing, "nothing")])
def floor_step(i: int) -> int:
    return i + 1


STEPS = {"plain": plain_step, "floor": floor_step, "tracked": tracked_step}


@tracked_flow
def pipeline(n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {f"{name}{kind}": [] for name in STEPS for kind in ("", "_cpu")}
    names = list(STEPS)
    for i in range(n):
        turn = names[i % 3:] + names[:i % 3]  # each first, second and third in turn
        for name in turn if i % 2 == 0 else reversed(turn):
            step = STEPS[name]
            cpu, start = time.thread_time(), time.perf_counter()
            step(i)
            times[name].append(time.perf_counter() - start)
            times[f"{name}_cpu"].append(time.thread_time() - cpu)
    return times


def _writer_cpu_s() -> float:
    """CPU time (user + system) of the recorder's writer thread so far (Linux ``/proc``)."""
    get_recorder()
    for thread in threading.enumerate():
        if thread.name == "failtrack-recorder" and thread.native_id is not None:
            with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    raise RuntimeError("no recorder thread")


def _count_rows() -> int:
    with get_engine(resolve_database_url()).connect() as connection:
        return connection.execute(select(func.count()).select_from(transitions)).scalar_one()


def run(quick: bool) -> dict:
    n = 100 if quick else 1500  # calls of each kind, in one flow of 3 n tasks
    with prefect_api(90):
        log("server up; warming up")
        pipeline(10)
        get_recorder().flush(timeout=60)
        writer_before = _writer_cpu_s()
        start = time.perf_counter()
        times = pipeline(n)
        log("flow of %d tasks: %.1f s", 3 * n, time.perf_counter() - start)
        get_recorder().flush(timeout=60)
        writer_cpu_ms = (_writer_cpu_s() - writer_before) * 1e3 / n
        rows = _count_rows()
    expected = 2 * (n + 10) + 4  # Running + Completed per tracked task, 2 per flow
    if rows < expected:
        raise RuntimeError(f"only {rows} audit rows written, expected {expected}: not tracking?")

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1e3

    plain_ms, tracked_ms, floor_ms = ms(times["plain"]), ms(times["tracked"]), ms(times["floor"])
    return {
        "bench": "task_overhead",
        "plain_ms": round(plain_ms, 3),
        "tracked_ms": round(tracked_ms, 3),
        "ratio": round(tracked_ms / plain_ms, 3),
        "writer_cpu_ms_per_task": round(writer_cpu_ms, 3),
        "ratio_with_writer": round((tracked_ms + writer_cpu_ms) / plain_ms, 3),
        "plain_cpu_ms": round(ms(times["plain_cpu"]), 3),
        "tracked_cpu_ms": round(ms(times["tracked_cpu"]), 3),
        "cpu_ratio": round(ms(times["tracked_cpu"]) / ms(times["plain_cpu"]), 3),
        "plain_mean_ms": round(statistics.fmean(times["plain"]) * 1e3, 3),
        "tracked_mean_ms": round(statistics.fmean(times["tracked"]) * 1e3, 3),
        "floor_ms": round(floor_ms, 3),
        "floor_ratio": round(floor_ms / plain_ms, 3),
        "floor_cpu_ratio": round(ms(times["floor_cpu"]) / ms(times["plain_cpu"]), 3),
        "tasks_each": n,
        "rows": rows,
        "load": load_average(),
    }
