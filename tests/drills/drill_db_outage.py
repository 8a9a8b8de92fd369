"""db_outage: the audit database goes away while tracked flows run, then comes back.

PostgreSQL sits behind a local TCP proxy (`TcpProxy`) that the drill stops
(connections refused, open ones cut) and starts again. Two phases:

A. one recorder throughout: a flow of three waves of tasks; the database is down
   for the first wave, back for the second, down again for the third and at the
   flow's end; then it comes back and the same recorder replays its spool.
B. the next recorder: a flow runs entirely during the outage, its recorder is
   closed while the database is still down (as a process that exits), the
   database comes back and a new recorder replays the spool it left.
C. a database that hangs: the proxy takes connections and lets nothing through
   (a network partition), the flow runs, its recorder is closed while its writer
   is stuck (as at process exit), then the connections are cut, the database is
   back and a new recorder replays the spool.

D. a full disk under the spool: a process whose database is down spools its rows until
   the disk refuses more (``RLIMIT_FSIZE``: the kernel writes part of an entry, then
   fails the rest, as a full disk does); the spool must hold only whole entries, as
   many as the recorder says it spooled, and the rest be counted as dropped; then the
   database is back and the next recorder replays exactly those.

Every third task fails once with a connection reset (TRANSIENT, retried at once),
so a task makes 2 or 4 transitions (Running, [AwaitingRetry, Retrying,] Completed).
``transitions_seen`` counts the rows the hooks handed to the recorders (by id);
``rows_after_replay`` the rows in the table afterwards; ``lost`` the seen rows
(and flow run summaries) that never reached it. Also reported: ``dropped`` (rows
not even the spool took), ``hooks_missed`` (transitions the flows made by design
that no hook handed over) and ``claims_left`` (spool files still claimed after the
closed recorder; they would wait 60 s for another process to adopt them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from prefect.context import TaskRunContext

from prefect_failtrack import ErrorType, RetryPolicy, tracked_flow, tracked_task
from prefect_failtrack.settings import get_settings
from prefect_failtrack.store.recorder import get_recorder, reset_recorder
from tests.drills._common import (
    SubmittedRows,
    TcpProxy,
    column,
    log,
    postgres_database,
    use_database,
    wait_until,
)

NEEDS_PREFECT = True
MUST_BE_ZERO = ("dropped", "hooks_missed", "claims_left")
REPLAY_TIMEOUT_S = 75.0  # the recorder retries with a backoff capped at 30 s

FAST = RetryPolicy.default().override(ErrorType.TRANSIENT, initial_delay=0, jitter=0)
_proxy: TcpProxy | None = None


@tracked_task(policy=FAST)
def step(i: int) -> int:
    if TaskRunContext.get().task_run.run_count == 1 and i % 3 == 0:
        raise ConnectionResetError(f"connection reset by peer (step {i})")
    return i


@tracked_flow(name="drill-db-outage")
def waves(sizes: list[int], database: list[str]) -> int:
    """Tasks in waves; before each wave the database is made ``up``, ``down`` or ``hangs``."""
    assert _proxy is not None
    total, start = 0, 0
    for size, switch in zip(sizes, database, strict=True):
        get_recorder().flush(timeout=10)  # what the last wave made meets the database as it was
        if switch == "up":
            _proxy.start()
            # Let the recorder find the database back (its retry backoff is capped at 30 s),
            # so that this wave's rows go straight in while the spool is being replayed.
            recorder = get_recorder()
            wait_until(lambda: recorder.stats()["replayed"] > 0, timeout=35)
        elif switch == "down":
            _proxy.stop()
        elif switch == "hangs":
            _proxy.start()
            _proxy.freeze()
        futures = step.map(range(start, start + size))
        total += sum(f.result() for f in futures)
        start += size
    return total


def designed_transitions(tasks: int) -> int:
    """Rows a `waves` run makes: 2 per task, 2 more per task that fails once, 2 for the flow."""
    failing_once = len(range(0, tasks, 3))
    return 2 * tasks + 2 * failing_once + 2


def run(quick: bool) -> dict[str, Any]:
    global _proxy
    wave = 16 if quick else 160
    phases = {
        "A": ([wave, wave, wave], ["down", "up", "down"]),
        "B": ([2 * wave], ["down"]),
        "C": ([wave], ["hangs"]),
    }
    seen = SubmittedRows()
    recorders: list[Any] = []
    designed = 0
    outcome_changed = 0
    claims_left = 0
    flow_run_ids: list[str] = []
    flow_seconds: dict[str, float] = {}
    spool_dir = get_settings().spool_path().parent

    with postgres_database("db_outage") as direct_url:
        _proxy = TcpProxy()
        database = direct_url.rsplit("/", 1)[1]
        proxied_url = _proxy.url(database)
        try:
            for phase, (sizes, switches) in phases.items():
                _proxy.stop()
                use_database(proxied_url)
                recorder = seen.watch(get_recorder())
                recorders.append(recorder)
                tasks = sum(sizes)
                designed += designed_transitions(tasks)
                log("phase %s: %d tasks, database %s", phase, tasks, " -> ".join(switches))
                t0 = time.monotonic()
                state = waves(sizes, switches, return_state=True)
                flow_seconds[phase] = round(time.monotonic() - t0, 1)
                flow_run_ids.append(str(state.state_details.flow_run_id))
                result = state.result(raise_on_failure=False)
                if not state.is_completed() or result != sum(range(tasks)):
                    outcome_changed += 1
                    log("phase %s: the flow ended %s with %r", phase, state.type.value, result)
                if phase in ("B", "C"):
                    t0 = time.monotonic()
                    reset_recorder()  # closed while the database is unavailable, as at exit
                    claims = len(list(spool_dir.glob("*.replaying")))
                    claims_left += claims
                    log("phase %s: recorder closed in %.1f s; %d claim(s) left",
                        phase, time.monotonic() - t0, claims)
                    _proxy.stop()  # cuts what hangs, too
                    _proxy.start()
                    use_database(proxied_url)  # the next recorder replays what is left
                    recorders.append(seen.watch(get_recorder()))
                else:
                    _proxy.start()

                def replayed() -> bool:
                    stored = set(column(direct_url, "SELECT id FROM failtrack_transitions"))
                    return set(seen.transition_ids) <= stored

                t0 = time.monotonic()
                if not wait_until(replayed, REPLAY_TIMEOUT_S, interval=0.5):
                    log("phase %s: not everything arrived within %.0f s", phase, REPLAY_TIMEOUT_S)
                log("phase %s: flow %.1f s, then %.1f s until every row was stored",
                    phase, flow_seconds[phase], time.monotonic() - t0)
            get_recorder().flush(timeout=10)
            reset_recorder()
        finally:
            _proxy.stop()
            use_database(None)

        stored_ids = column(direct_url, "SELECT id FROM failtrack_transitions")
        summaries = set(column(direct_url, "SELECT flow_run_id FROM failtrack_flow_runs"))
        natural_keys = column(
            direct_url,
            "SELECT count(DISTINCT (run_id, to_state, run_count)) FROM failtrack_transitions",
        )[0]

        full_disk = full_disk_phase(direct_url, 200 if quick else 2000)

    stats = {name: sum(r.stats()[name] for r in recorders) for name in
             ("written", "spooled", "replayed", "dropped", "rejected")}  # fmt: skip
    seen_ids = set(seen.transition_ids)
    lost_rows = len(seen_ids - set(stored_ids))
    lost_summaries = len(set(flow_run_ids) - summaries)
    return {
        "transitions_seen": len(seen_ids),
        "rows_after_replay": len(stored_ids),
        "lost": lost_rows + lost_summaries + full_disk["lost"],
        "full_disk": full_disk,
        "lost_summaries": lost_summaries,
        "duplicates": len(stored_ids) - natural_keys,
        "designed": designed,
        "hooks_missed": designed - len(seen_ids),
        "outcome_changed": outcome_changed,
        "claims_left": claims_left,
        "flow_seconds": flow_seconds,
        **stats,
    }


FULL_DISK_CHILD = """
import json, resource, signal, sys, uuid
from datetime import UTC, datetime
from pathlib import Path
from prefect_failtrack.store.recorder import Recorder
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write is an error, not a signal
spool, rows, room = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (room, resource.RLIM_INFINITY))
recorder = Recorder("postgresql+psycopg://postgres@127.0.0.1:1/down", spool_path=spool,
                    batch_size=37, flush_interval=0.05)
ids = []
for i in range(rows):
    row_id = str(uuid.uuid4())
    ids.append(row_id)
    recorder.record_transition({
        "id": row_id, "run_kind": "task", "run_id": row_id, "name": "full-disk",
        "to_state": "Completed", "to_state_type": "COMPLETED", "run_count": 1,
        "occurred_at": datetime.now(UTC), "error_message": "x" * (i % 300),
    })
recorder.close()
print(json.dumps({"ids": ids, **recorder.stats()}))
"""


def full_disk_phase(url: str, rows: int) -> dict[str, Any]:
    """Phase D (see the module's documentation), in a child process of its own."""
    from prefect_failtrack.store import spool as spool_module

    with tempfile.TemporaryDirectory() as folder:
        spool_path = Path(folder) / "spool.jsonl"
        room = rows * 150  # bytes: room for about a third of the rows
        done = subprocess.run(
            [sys.executable, "-c", FULL_DISK_CHILD, str(spool_path), str(rows), str(room)],
            capture_output=True, text=True, check=True, timeout=300,
        )
        child = json.loads(done.stdout.strip().splitlines()[-1])
        lines = spool_path.read_text().splitlines() if spool_path.exists() else []
        whole = list(spool_module.read(spool_path))
        torn = len(lines) - len(whole)
        from prefect_failtrack.store.recorder import Recorder

        replaying = Recorder(url, spool_path=spool_path, flush_interval=0.05)  # the next process
        wait_until(lambda: not spool_path.exists(), 30, interval=0.2)
        replaying.close()
        stored = set(column(url, "SELECT id FROM failtrack_transitions WHERE name = 'full-disk'"))
    spooled_ids = {row["id"] for _, row in whole}
    result = {
        "rows": rows,
        "spooled": child["spooled"],
        "dropped": child["dropped"],
        "whole_entries": len(whole),
        "torn": torn,
        "replayed": len(stored & spooled_ids),
        # every row is either stored after replay or counted as dropped, and the spool
        # held exactly what the recorder says it spooled
        "lost": (rows - child["dropped"] - len(stored))
        + abs(child["spooled"] - len(whole)) + torn,
    }
    log("phase D (full disk): %s", result)
    return result
