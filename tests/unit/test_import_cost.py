"""What a flow-run process loads for failtrack stays light (issue 18: every worker-launched
flow run is a fresh process, and pays for what failtrack imports)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from prefect_failtrack.store.database import ensure_schema

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "cyclopts", "prefect_failtrack.store.models",
         "prefect_failtrack.reports", "prefect_failtrack.cli", "prefect_failtrack.blocks")


def loaded_after(code: str) -> list[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=120)
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    return [name for name in HEAVY if name in modules]


def test_decorating_loads_no_database_library_and_no_cli() -> None:
    code = """
from prefect_failtrack import tracked_flow, tracked_task, RetryPolicy, classify

@tracked_task
def extract() -> int:
    return 1

@tracked_flow
def nightly() -> int:
    return extract()

classify(ConnectionResetError("reset"))
"""
    assert loaded_after(code) == []


def test_the_recorder_writes_and_reads_back_without_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    ensure_schema(url)  # created by Alembic once, as `failtrack db upgrade` does
    flow_run_id = str(uuid.uuid4())
    code = f"""
from datetime import datetime, UTC
from prefect_failtrack.store.recorder import Recorder
recorder = Recorder({url!r}, spool_path={str(tmp_path / 'spool.jsonl')!r})
for state, kind in (("Running", "RUNNING"), ("Completed", "COMPLETED")):
    recorder.record_transition({{"id": state, "run_kind": "flow", "run_id": {flow_run_id!r},
        "flow_run_id": {flow_run_id!r}, "name": "nightly", "to_state": state,
        "to_state_type": kind, "run_count": 1, "occurred_at": datetime.now(UTC)}})
view = recorder.view({flow_run_id!r})
assert view is not None and view.final_state == "Completed", view
assert recorder.stats()["written"] == 2, recorder.stats()
recorder.close()
"""
    assert loaded_after(code) == []  # and the child checked what it read back
