"""concurrency: 8 processes write into one empty PostgreSQL database at once, with duplicates.

Each process has its own `Recorder` (as each worker of a deployment would) and they
share one failtrack home, so one spool. The rows of the drill are numbered 0 .. 8N-1;
row g is a transition with its own id and natural key (run, state, run count).
Process p submits its own N rows (p*N .. p*N+N-1) and, mixed in, deliberate duplicates:

- 10% of its own rows re-submitted, the same row again (same id);
- 5% of the next process's rows (shared rows: two processes submit the same row);
- 2% of its own rows again under a fresh id (same natural key, a different id);
- the summary rows of 20 flow runs that all processes update; the newest must win.

Half of the processes have a queue of 50 rows, so they overflow into the shared spool
and replay it while the others also claim it. They start together (a go file), after
racing to create the schema. Then the table must hold each of the 8N rows exactly once.
``rows`` is the table's row count, ``expected`` 8N, ``duplicates`` rows beyond the
distinct natural keys, ``missing`` drill rows absent, ``wrong_summaries`` summary rows
whose newest version did not win; ``dropped`` and ``rejected`` add up the processes'
recorder counts.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.drills._common import column, log, postgres_database, scalar

NEEDS_PREFECT = False
MUST_BE_ZERO = ("missing", "wrong_summaries", "dropped", "rejected", "workers_failed")
PROCESSES = 8
SHARED_FLOW_RUNS = 20
NAMESPACE = uuid.UUID("0b7d3c52-9a1e-4f3b-8d2c-5e6f7a8b9c0d")
STATES = ("Running", "AwaitingRetry", "Retrying", "Completed")
START = datetime(2026, 1, 1, tzinfo=UTC)


def drill_row(g: int, row_id: str | None = None) -> dict[str, Any]:
    """Transition g of the drill: 4 per task run, natural key (run g//4, state g%4, count 1)."""
    run_id = str(uuid.uuid5(NAMESPACE, f"run-{g // 4}"))
    failed = STATES[g % 4] == "AwaitingRetry"
    return {
        "id": row_id or str(uuid.uuid5(NAMESPACE, f"row-{g}")),
        "run_kind": "task",
        "run_id": run_id,
        "task_run_id": run_id,
        "flow_run_id": str(uuid.uuid5(NAMESPACE, f"flow-{g // 400}")),
        "name": f"load_{g % 17}",
        "flow_name": "drill-concurrency",
        "from_state": "Pending" if g % 4 == 0 else STATES[g % 4 - 1],
        "to_state": STATES[g % 4],
        "to_state_type": ("RUNNING", "SCHEDULED", "RUNNING", "COMPLETED")[g % 4],
        "occurred_at": START + timedelta(milliseconds=g),
        "duration_in_state_ms": g % 1000,
        "run_count": 1,
        "error_type": "TRANSIENT" if failed else None,
        "error_message": "connection reset by peer" if failed else None,
        "retryable": True if failed else None,
        "tags": ["drill"],
        "metadata": {"g": g},
    }


def submissions(p: int, n: int) -> list[tuple[str, int, bool]]:
    """What process p submits, in order: ("row", g, fresh_id) and ("summary", k, False)."""
    rng = random.Random(p)
    own = range(p * n, (p + 1) * n)
    nxt = range(((p + 1) % PROCESSES) * n, ((p + 1) % PROCESSES + 1) * n)
    items: list[tuple[str, int, bool]] = [("row", g, False) for g in own]
    extra = [("row", g, False) for g in rng.sample(own, n // 10)]
    extra += [("row", g, False) for g in rng.sample(nxt, n // 20)]
    extra += [("row", g, True) for g in rng.sample(own, n // 50)]
    extra += [("summary", k, False) for k in range(SHARED_FLOW_RUNS)]
    for item in extra:  # duplicates land anywhere, before or after their first submission
        items.insert(rng.randrange(len(items) + 1), item)
    return items


def summary_row(k: int, p: int) -> dict[str, Any]:
    """Summary k as process p writes it; process p's version is newer than p-1's."""
    return {
        "flow_run_id": str(uuid.uuid5(NAMESPACE, f"summary-{k}")),
        "flow_name": "drill-concurrency",
        "final_state": "Completed",
        "final_state_type": "COMPLETED",
        "tasks_total": p,
        "updated_at": START + timedelta(seconds=p),
    }


def worker(url: str, p: int, n: int, go: str, spool_path: str, result: str) -> None:
    """One process: wait for the go file, submit, flush, close; write its recorder's counts."""
    from prefect_failtrack.settings import FailtrackSettings
    from prefect_failtrack.store.recorder import Recorder

    defaults = FailtrackSettings()
    queue_size = 50 if p % 2 else defaults.queue_size
    recorder = Recorder(url, queue_size=queue_size, spool_path=spool_path,
                        batch_size=defaults.batch_size, flush_interval=defaults.flush_interval)
    items = submissions(p, n)
    Path(f"{go}.ready.{p}").touch()
    while not os.path.exists(go):
        time.sleep(0.01)
    for kind, number, fresh in items:
        if kind == "row":
            recorder.record_transition(drill_row(number, str(uuid.uuid4()) if fresh else None))
        else:
            recorder.record_summary(summary_row(number, p))
    flushed = recorder.flush(timeout=300)
    recorder.close(timeout=60)
    Path(result).write_text(json.dumps({"flushed": flushed, **recorder.stats()}))


def run(quick: bool) -> dict[str, Any]:
    n = 500 if quick else 5000
    expected = PROCESSES * n
    with postgres_database("concurrency") as url, tempfile.TemporaryDirectory() as scratch:
        go = Path(scratch) / "go"
        spool_path = Path(scratch) / "home" / "spool.jsonl"
        # Processes forked from a server that has imported failtrack once: they start in
        # milliseconds, not in the seconds each would take to import Prefect afresh.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(
            ["prefect_failtrack.store.recorder", "tests.drills.drill_concurrency"]
        )
        workers = [
            context.Process(
                target=worker,
                args=(url, p, n, str(go), str(spool_path), f"{scratch}/result.{p}"),
                name=f"failtrack-drill-worker-{p}",
            )
            for p in range(PROCESSES)
        ]
        for child in workers:
            child.start()
        ready = [Path(f"{go}.ready.{p}") for p in range(PROCESSES)]
        deadline = time.monotonic() + 300
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            if any(child.exitcode is not None for child in workers):
                break
            time.sleep(0.05)
        t0 = time.monotonic()
        go.touch()  # the workers poll for it: they start submitting together
        results = []
        failed = 0
        for p, child in enumerate(workers):
            child.join(timeout=900)
            result = Path(f"{scratch}/result.{p}")
            if child.exitcode != 0 or not result.exists():
                failed += 1
                log("worker %d ended with %s", p, child.exitcode)
                continue
            results.append(json.loads(result.read_text()))
        seconds = time.monotonic() - t0
        spool_left = sum(1 for _ in spool_path.parent.glob("spool.jsonl*"))

        rows = scalar(url, "SELECT count(*) FROM failtrack_transitions")
        keys = scalar(
            url, "SELECT count(DISTINCT (run_id, to_state, run_count)) FROM failtrack_transitions"
        )
        stored = set(column(url, "SELECT (metadata->>'g')::int FROM failtrack_transitions"))
        newest = column(
            url,
            "SELECT tasks_total FROM failtrack_flow_runs WHERE flow_name = 'drill-concurrency'",
        )
    log("%d processes x %d rows: %.1f s after the go, %d spool file(s) left",
        PROCESSES, n, seconds, spool_left)

    def total(name: str) -> int:
        return sum(r[name] for r in results)

    return {
        "processes": PROCESSES,
        "expected": expected,
        "rows": rows,
        "duplicates": rows - keys,
        "missing": len(set(range(expected)) - stored),
        "submitted": sum(len(submissions(p, n)) for p in range(PROCESSES)),
        "wrong_summaries": sum(1 for v in newest if v != PROCESSES - 1)
        + SHARED_FLOW_RUNS - len(newest),
        "written": total("written"),
        "spooled": total("spooled"),
        "replayed": total("replayed"),
        "dropped": total("dropped"),
        "rejected": total("rejected"),
        "workers_failed": failed + sum(1 for r in results if not r["flushed"]),
        "spool_files_left": spool_left,
        "rows_per_s": round(expected / seconds) if seconds else None,
    }
