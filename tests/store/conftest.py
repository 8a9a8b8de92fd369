"""Fixtures for the store tests: databases, rows, recorders that clean up after themselves."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from prefect_failtrack.store import Recorder, reset_recorder
from prefect_failtrack.store.database import dispose_engines, ensure_schema, get_engine
from prefect_failtrack.store.models import transitions
from prefect_failtrack.store.recorder import logger as recorder_logger
from tests.db_fixtures import database_url, postgres_url  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _fresh_engines() -> Iterator[None]:
    yield
    reset_recorder()
    dispose_engines()


@pytest.fixture
def unreachable_url(database_url: str, tmp_path: Path) -> str:  # noqa: F811
    """A URL of the same backend as ``database_url`` that can never be reached."""
    if database_url.startswith("sqlite"):
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the database folder should be")
        return f"sqlite:///{blocker / 'db' / 'failtrack.db'}"
    return "postgresql+psycopg://postgres@127.0.0.1:1/test"


@pytest.fixture
def spool_path(tmp_path: Path) -> Path:
    return tmp_path / "spool" / "spool.jsonl"


@pytest.fixture
def make_recorder(spool_path: Path) -> Iterator[Callable[..., Recorder]]:
    """Build recorders (fast flush, the test's spool); all are closed at the end of the test."""
    made: list[Recorder] = []

    def make(url: str, cls: type[Recorder] = Recorder, **options: Any) -> Recorder:
        options.setdefault("spool_path", spool_path)
        options.setdefault("flush_interval", 0.05)
        recorder = cls(url, **options)
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.close()


def make_transition(**overrides: Any) -> dict[str, Any]:
    """A complete ``failtrack_transitions`` row, as the capture code submits it."""
    task_run_id = str(uuid.uuid4())
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "run_kind": "task",
        "flow_run_id": str(uuid.uuid4()),
        "task_run_id": task_run_id,
        "run_id": task_run_id,
        "name": "extract",
        "flow_name": "nightly",
        "deployment_id": None,
        "from_state": "Running",
        "to_state": "AwaitingRetry",
        "to_state_type": "SCHEDULED",
        "occurred_at": datetime.now(UTC),
        "duration_in_state_ms": 1234,
        "run_count": 1,
        "error_type": "TRANSIENT",
        "error_class": "builtins.ConnectionError",
        "error_message": "connection reset by peer",
        "stack_trace": "Traceback (most recent call last): ...",
        "fingerprint": "3f2a9c",
        "retryable": True,
        "reason": "type:ConnectionError",
        "retry_delay_s": 2.5,
        "retries_left": 2,
        "scheduled_at": datetime.now(UTC),
        "origin": "source",
        "tags": ["nightly", "source"],
        "metadata": {"rows_read": 10},
    }
    row.update(overrides)
    return row


def make_transitions(n: int) -> list[dict[str, Any]]:
    return [make_transition() for _ in range(n)]


@pytest.fixture
def transition() -> Callable[..., dict[str, Any]]:
    return make_transition


@pytest.fixture
def transitions_batch() -> Callable[[int], list[dict[str, Any]]]:
    return make_transitions


@pytest.fixture
def count_transitions() -> Callable[[str], int]:
    """Rows in ``failtrack_transitions`` of the database at a URL (created if need be)."""

    def count(url: str) -> int:
        ensure_schema(url)
        with get_engine(url).connect() as connection:
            return connection.execute(select(func.count()).select_from(transitions)).scalar_one()

    return count


@pytest.fixture
def wait_for() -> Callable[..., bool]:
    """Poll a condition until it holds or ``timeout`` seconds pass."""

    def wait(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    return wait


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


@pytest.fixture
def recorder_log() -> Iterator[_Records]:
    """What the recorder logged during the test."""
    handler = _Records()
    recorder_logger.addHandler(handler)
    yield handler
    recorder_logger.removeHandler(handler)
