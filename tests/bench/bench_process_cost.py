"""process_cost: what failtrack costs a flow run that is a process of its own.

Every flow run a worker launches is a fresh Python process. This bench runs a
one-task flow as a whole process against one running ``prefect server start``,
plain and tracked, interleaved (ABBA), and prints the median wall time (from spawn
to exit), CPU time and peak resident memory of each, and the ratios. The audit
database (SQLite) exists already: the cost of creating it is a first run's, once.

It also prints what importing ``prefect_failtrack`` adds after Prefect's own
``from prefect import flow, task`` (median of fresh processes).

The package is byte-compiled first (``compileall``), as ``pip install`` does for an
installed package (Prefect's own modules are): a checkout run with
``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile failtrack's source in every process.

Goal (issue 18): tracked ≤ 1.05 × plain in wall time, ≤ 10 MiB more peak memory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import SHARED_API, interleaved, load_average, log, median

PLAIN = """
from prefect import flow, task

@task
def one() -> int:
    return 1

@flow
def one_task() -> int:
    return one()

one_task()
"""

TRACKED = """
from prefect_failtrack import tracked_flow, tracked_task

@tracked_task
def one() -> int:
    return 1

@tracked_flow
def one_task() -> int:
    return one()

one_task()
"""

IMPORTS = {
    "prefect": "from prefect import flow, task",
    "prefect_failtrack": "from prefect import flow, task; import prefect_failtrack",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("prefect server start did not answer within 120 s")


def _process(script: Path, env: dict[str, str]) -> dict[str, float]:
    """Wall time, CPU time and peak RSS of one child process (``os.wait4``)."""
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, str(script)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{script.name} exited with {child.returncode}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}


def run(quick: bool) -> dict[str, Any]:
    import compileall

    import prefect_failtrack

    compileall.compile_dir(str(Path(prefect_failtrack.__file__).parent), quiet=1)
    rounds = 2 if quick else 8
    work = Path(tempfile.mkdtemp(prefix="failtrack-bench-process-"))
    shared = os.environ.get(SHARED_API)  # a --quick smoke run: the benches' one server
    server, api = (None, shared) if shared else _server(work / "prefect-home")
    try:
        env = {
            **os.environ,
            "PREFECT_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL": f"sqlite:///{work / 'audit.db'}",
            "PREFECT_INTEGRATIONS_FAILTRACK_HOME": str(work / "failtrack-home"),
        }
        plain, tracked = work / "plain.py", work / "tracked.py"
        plain.write_text(textwrap.dedent(PLAIN))
        tracked.write_text(textwrap.dedent(TRACKED))
        for script in (plain, tracked):  # the flows registered, the audit schema created
            _process(script, env)
        runs: dict[str, list[dict[str, float]]] = {"plain": [], "tracked": []}

        def one(name: str, script: Path) -> float:
            figures = _process(script, env)
            runs[name].append(figures)
            return figures["wall"]

        log("process_cost: %d rounds of a one-task flow process, plain and tracked", rounds)
        interleaved(rounds, lambda: one("plain", plain), lambda: one("tracked", tracked))
        imports = _import_costs(env, rounds)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    def med(name: str, key: str) -> float:
        return median([r[key] for r in runs[name]])

    result = {
        "bench": "process_cost",
        "rounds": rounds,
        "plain_s": round(med("plain", "wall"), 3),
        "tracked_s": round(med("tracked", "wall"), 3),
        "ratio": round(med("tracked", "wall") / med("plain", "wall"), 3),
        "plain_cpu_s": round(med("plain", "cpu"), 3),
        "tracked_cpu_s": round(med("tracked", "cpu"), 3),
        "plain_peak_mib": round(med("plain", "rss"), 1),
        "tracked_peak_mib": round(med("tracked", "rss"), 1),
        "extra_peak_mib": round(med("tracked", "rss") - med("plain", "rss"), 1),
        **imports,
        "goal": "ratio <= 1.05, extra_peak_mib <= 10",
        "load": load_average(),
    }
    log("process_cost: %s", result)
    return result


def _import_costs(env: dict[str, str], rounds: int) -> dict[str, float]:
    """Seconds of ``import prefect_failtrack`` after Prefect's own imports (fresh processes)."""
    timed = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
    costs: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(rounds):
        for name, statement in IMPORTS.items():
            done = subprocess.run([sys.executable, "-c", timed.format(statement)], env=env,
                                  capture_output=True, text=True, check=True)
            costs[name].append(float(done.stdout.strip().splitlines()[-1]))
    return {
        "import_prefect_s": round(median(costs["prefect"]), 3),
        "import_failtrack_extra_s": round(
            median(costs["prefect_failtrack"]) - median(costs["prefect"]), 3
        ),
    }
