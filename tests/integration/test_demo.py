"""The demo says where its audit trail is, and the commands it prints show it: the CLI's
``runs`` and ``timeline``, and SQL through ``sqlite3``, each run here as printed."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_the_demo_prints_where_its_data_is_and_commands_that_show_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),  # the session's test server
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_INTEGRATIONS_FAILTRACK_HOME": str(tmp_path / "failtrack"),
        "TMPDIR": str(tmp_path),  # where the demo makes its audit database
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "COLUMNS": "200",
    }
    demo = subprocess.run(
        [sys.executable, "flows/demo.py", "--use-configured-api"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-4000:]
    said = demo.stdout
    url = re.search(r"^The audit trail of this run is in (sqlite:///\S+)\.$", said, re.M)
    assert url, said
    database = Path(url[1].removeprefix("sqlite:///"))
    assert database.is_file() and database.is_relative_to(tmp_path)
    commands = [line.strip() for line in said.splitlines() if line.startswith("    ")]
    commands = [c for c in commands if c.startswith(("failtrack ", "sqlite3 "))]
    assert [c.split()[0:2] for c in commands] == [
        ["failtrack", "runs"], ["failtrack", "timeline"], ["failtrack", "report"],
        ["sqlite3", str(database)],
    ], said  # fmt: skip
    flow_run_id = commands[1].split()[2]

    def run(command: str) -> str:
        if command.startswith("sqlite3") and shutil.which("sqlite3") is None:
            pytest.skip("the sqlite3 shell is not installed (apt-get install -y sqlite3)")
        done = subprocess.run(
            shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    runs = run(commands[0])
    assert runs.startswith(f"Audit database: {url[1]}\n1 flow run(s) ended ")
    line = next(line for line in runs.splitlines() if flow_run_id in line)
    assert "failtrack-demo" in line and "Failed" in line and "PERMANENT 1" in line

    timeline = run(commands[1])
    assert "deciding rule" in timeline and "AwaitingRetry" in timeline
    assert "type PermissionError" in timeline and "load_warehouse" in timeline

    assert "Failure report" in run(commands[2])

    rows = [row.split("|") for row in run(commands[3]).splitlines()]
    assert ["load_warehouse", "Failed", "PERMANENT", "type PermissionError"] in rows
