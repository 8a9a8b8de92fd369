"""What the benches share: logging to stderr, medians, resident memory, realistic rows, databases.

Not a bench itself (no ``bench_`` prefix): `run.py` does not discover it.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect_failtrack.store.columns import TRACKED

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the benches run as scripts: `tests` importable from the root
    sys.path.append(str(ROOT))

from tests.scratch_db import scratch_database  # noqa: E402

SHARED_API = "FAILTRACK_BENCH_API_URL"
"""Set by ``run.py --quick``: the API of the one Prefect test server the benches share."""


@contextmanager
def prefect_api(startup_timeout: float = 90) -> Iterator[None]:
    """A Prefect API for the bench: its own test server (``prefect_test_harness``), or, in
    a ``--quick`` smoke run, the one `run.py` started for all the benches (its URL is in
    the environment, ``PREFECT_API_URL`` included: every thread and process finds it)."""
    from prefect.testing.utilities import prefect_test_harness

    if os.environ.get(SHARED_API):
        yield
        return
    with prefect_test_harness(server_startup_timeout=startup_timeout):
        yield


def log(message: str, *args: Any) -> None:
    """One line on stderr (stdout is for the JSON lines only)."""
    print(f"  [{time.strftime('%H:%M:%S')}] " + (message % args if args else message),
          file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def rss_mb() -> float:
    """Resident set size of this process, in MiB (Linux ``/proc``)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def load_average() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def interleaved(rounds: int, first: Callable[[], float], second: Callable[[], float]
                ) -> tuple[list[float], list[float]]:
    """Run two measurements alternately, ABBA-ordered so that drift falls on both alike."""
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        if i % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


# ---------------------------------------------------------------------------- rows

_STACK_FRAME = (
    '  File "/opt/pipelines/{module}.py", line {line}, in {func}\n'
    "    {code}\n"
)
_ERRORS = [
    ("TRANSIENT", "httpx.ConnectTimeout", "timed out connecting to api.example.com:443", True),
    ("TRANSIENT", "psycopg.errors.SerializationFailure",
     "could not serialize access due to concurrent update", True),
    ("PERMANENT", "httpx.HTTPStatusError",
     "Client error '404 Not Found' for url 'https://api.example.com/v2/orders/81723'", False),
    ("VALIDATION", "pydantic_core._pydantic_core.ValidationError",
     "1 validation error for Order\namount\n  Input should be a valid number [type=float_parsing]",
     False),
    ("TIMEOUT", "TimeoutError", "the export took longer than 300 s", True),
]


def _stack(rng: random.Random, error_class: str, message: str) -> str:
    frames = "".join(
        _STACK_FRAME.format(module=f"stage_{rng.randint(1, 40)}", line=rng.randint(10, 900),
                            func=f"step_{rng.randint(1, 99)}", code="result = client.send(request)")
        for _ in range(rng.randint(6, 14))
    )
    return f"Traceback (most recent call last):\n{frames}{error_class}: {message}\n"[:2000]


class RowMaker:
    """Transition rows shaped like the ones the hooks submit: mostly Running/Completed,
    about one in five a failure or an AwaitingRetry with message, stack and fingerprint."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.start = datetime(2026, 1, 1, tzinfo=UTC)
        self.flow_run_id = str(uuid.uuid4())
        self.stacks = [_stack(self.rng, e[1], e[2]) for e in _ERRORS for _ in range(4)]

    def row(self, i: int) -> dict[str, Any]:
        rng = self.rng
        if i % 500 == 0:
            self.flow_run_id = str(uuid.uuid4())
        run_id = str(uuid.uuid4())
        at = self.start + timedelta(milliseconds=37 * i)
        kind = rng.random()
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "run_kind": "task",
            "run_id": run_id,
            "flow_run_id": self.flow_run_id,
            "task_run_id": run_id,
            "name": f"load_table_{i % 37}",
            "flow_name": "nightly",
            "deployment_id": None,
            "from_state": "Pending" if kind < 0.4 else "Running",
            "to_state": "Running" if kind < 0.4 else "Completed",
            "to_state_type": "RUNNING" if kind < 0.4 else "COMPLETED",
            "occurred_at": at,
            "duration_in_state_ms": rng.randint(0, 60_000),
            "run_count": 1,
            "origin": "destination" if i % 3 else "source",
            "capture": TRACKED,  # as a tracked run's row (the raw paths give every column)
            "tags": ["nightly", "warehouse"],
            "metadata": {} if kind < 0.7 else {"metrics": {"rows_written": rng.randint(1, 10**6)}},
        }
        if kind >= 0.8:
            error_type, error_class, message, retryable = _ERRORS[i % len(_ERRORS)]
            retry = kind < 0.9 and retryable
            row.update(
                to_state="AwaitingRetry" if retry else "Failed",
                to_state_type="SCHEDULED" if retry else "FAILED",
                run_count=rng.randint(1, 3),
                error_type=error_type,
                error_class=error_class,
                error_message=message,
                stack_trace=self.stacks[(i * 7) % len(self.stacks)],
                fingerprint=f"{rng.getrandbits(64):016x}",
                retryable=retryable,
                reason=f"type {error_class}",
                retries_left=2 if retry else 0,
            )
            if retry:
                row.update(retry_delay_s=4.0, scheduled_at=at + timedelta(seconds=4),
                           metadata={"decision": f"{error_type} — retry in 4.0 s ({error_type} budget 1/3)"})
        return row

    def rows(self, n: int) -> list[dict[str, Any]]:
        return [self.row(i) for i in range(n)]


# ------------------------------------------------------------------------ databases

@contextmanager
def postgres_database(prefix: str = "failtrack_bench") -> Iterator[str]:
    """A fresh PostgreSQL database (SQLAlchemy URL), dropped afterwards (`tests/scratch_db.py`)."""
    with scratch_database(prefix) as url:
        yield url


def jsonable(value: Any) -> str:
    return json.dumps(value)
