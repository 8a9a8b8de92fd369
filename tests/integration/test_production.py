"""The production path, for real: ``prefect server start``, Prefect's own CLI (work pool,
``prefect deploy --all`` of flows/prefect.yaml, ``prefect deployment ls``), a process
worker that runs a deployment to Completed, Prefect's client reads with their default
arguments; then docs/how-to/production.md followed step by step, PostgreSQL and the alert
through a notification block included.

With fastapi 0.151-0.154, Prefect 3.8.8's server refuses the null request bodies its own
CLI and client send (DESIGN §5): ``prefect deploy --all`` stops after the first
deployment and ``prefect deployment ls`` fails. The pin in pyproject.toml keeps them whole.

Everything runs in subprocesses (a server on a free 127.0.0.1 port with a PREFECT_HOME of
its own, clients with another): the environment is set for them only, never for this
process, whose own Prefect (the session's test harness) is left alone.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.db_fixtures import PG_HOST, PG_PORT, drop_database, postgres_admin

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PAGE = ROOT / "docs" / "how-to" / "production.md"
STEP = re.compile(
    r"^<!--\s*production:\s*(?P<kind>run|dry-run|background|file)(?:\s+(?P<name>[\w.-]+))?\s*-->"
    r"[ \t]*\n```\w*\n(?P<code>.*?)^```",
    re.M | re.S,
)
DEPLOYMENTS = (  # every deployment of flows/prefect.yaml
    "failtrack-failure-report/daily",
    "failtrack-reconcile/every-15-minutes",
    "failtrack-collect/collector",
)
SERVER_START_S = 180

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any Prefect or failtrack setting, plus `settings`;
    the virtualenv's commands (prefect, failtrack, python) first on the PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    path = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env | {"PATH": path, "COLUMNS": "250", "PYTHONUNBUFFERED": "1"} | settings


def run(command: str, env: dict[str, str], cwd: Path, timeout: float = 300) -> str:
    """`command` through bash; its output (stdout and stderr), and exit status 0 asserted."""
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    said = done.stdout + done.stderr
    assert done.returncode == 0, f"$ {command}\n(exit {done.returncode})\n{said[-6000:]}"
    return said


@dataclass
class Service:
    """A long-running command in a process group of its own, its output in a file."""

    command: list[str]
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a worker whose server went first hangs on
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


@dataclass
class Services:
    """The server, and the worker once a test starts it; stopped worker first."""

    folder: Path
    server_port: int
    client_env: dict[str, str]
    running: dict[str, Service] = field(default_factory=dict)
    WORKER = ["prefect", "worker", "start", "--pool", "failtrack"]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/api"

    def start(self, name: str, command: list[str], env: dict[str, str], cwd: Path) -> Service:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        service = self.running[name] = Service(command, process, log)
        return service

    def worker(self) -> Service:
        """``prefect worker start --pool failtrack``, started once, polling the server."""
        if "worker" not in self.running:
            worker = self.start("worker", self.WORKER, self.client_env, ROOT)
            deadline = time.monotonic() + 60
            while "started!" not in worker.output():
                assert worker.process.poll() is None, worker.output()
                assert time.monotonic() < deadline, f"no worker after 60 s:\n{worker.output()}"
                time.sleep(0.5)
        return self.running["worker"]

    def stop(self) -> None:
        for name in ("worker", "server"):
            if name in self.running:
                self.running[name].stop()


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """``prefect server start`` on a free port with a home of its own; torn down after."""
    folder = tmp_path_factory.mktemp("production")
    port = free_port()
    client_env = environment(
        PREFECT_HOME=str(folder / "client-home"),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_INTEGRATIONS_FAILTRACK_HOME=str(folder / "failtrack-home"),
        PREFECT_WORKER_QUERY_SECONDS="2",  # the worker polls every 2 s, not 10 (the default)
    )
    found = Services(folder, port, client_env)
    server_env = environment(
        PREFECT_HOME=str(folder / "server-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",  # no telemetry heartbeat: no internet here
        PREFECT_UI_ENABLED="false",
    )
    command = ["prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = found.start("server", command, server_env, folder)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            assert server.process.poll() is None, f"the server exited:\n{server.output()}"
            try:
                if httpx.get(f"{found.api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"no server after {SERVER_START_S} s"
            time.sleep(0.5)
        yield found
    finally:
        found.stop()


def test_prefect_deploy_all_deployment_ls_and_a_worker_run_with_failtracks_pins(
    services: Services,
) -> None:
    env = services.client_env
    run("prefect work-pool create failtrack --type process --overwrite", env, ROOT)
    deployed = run("prefect deploy --prefect-file flows/prefect.yaml --all", env, ROOT)
    for name in DEPLOYMENTS:
        assert f"prefect deployment run '{name}'" in deployed, deployed
    listed = run("prefect deployment ls", env, ROOT)
    for name in DEPLOYMENTS:
        assert name in listed, listed

    services.worker()
    ran = run(
        "prefect deployment run failtrack-reconcile/every-15-minutes --watch --watch-timeout 240",
        env, ROOT,
    )  # fmt: skip
    assert "Flow run finished successfully in 'Completed'." in ran, ran

    # Prefect's client with its default arguments (null limits, offsets, sorts and filters).
    reads = (
        "from prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as client:\n"
        "    found = [client.read_flow_runs(), client.read_task_runs(), client.read_logs(),\n"
        "             client.read_artifacts(), client.read_work_pools(),\n"
        "             client.read_deployments()]\n"
        "print(*(len(f) for f in found))\n"
    )
    counts = run(f"python -c {shlex.quote(reads)}", env, ROOT).split()[-6:]
    flow_runs, _, logs, _, pools, deployments = map(int, counts)
    assert flow_runs >= 1 and logs >= 1 and pools >= 1 and deployments == len(DEPLOYMENTS)


class Webhook:
    """A local HTTP endpoint that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/failtrack"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Step:
    kind: str  # run, dry-run (pip install --dry-run), background or file
    name: str | None
    code: str


def steps(text: str) -> list[Step]:
    return [Step(m["kind"], m["name"], m["code"]) for m in STEP.finditer(text)]


def test_the_production_page_works_when_followed(services: Services, tmp_path: Path) -> None:
    admin = postgres_admin()
    database = f"failtrack_audit_{uuid.uuid4().hex[:10]}"
    url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{database}"
    webhook = Webhook()
    # The page's names for things, and this test's.
    ours = {
        "/path/to/prefect-failtrack": str(ROOT),
        "https://alerts.example.com/failtrack": webhook.url,
        "--port 4200": f"--port {services.server_port}",
        "127.0.0.1:4200": f"127.0.0.1:{services.server_port}",
        "--host db.internal --username etl": f"--host {PG_HOST} --port {PG_PORT} -U postgres",
        "etl@db.internal:5432": f"postgres@{PG_HOST}:{PG_PORT}",
        "failtrack_audit": database,
    }

    def localised(text: str) -> str:
        for theirs, mine in ours.items():
            text = text.replace(theirs, mine)
        return text

    project = tmp_path / "project"
    project.mkdir()
    env = environment(  # a fresh profile: the page's `prefect config set` points it at the server
        PREFECT_HOME=str(tmp_path / "home"),
        PREFECT_INTEGRATIONS_FAILTRACK_HOME=str(tmp_path / "failtrack-home"),
    )
    page = steps(PAGE.read_text(encoding="utf-8"))
    assert [s.kind for s in page].count("background") == 2, "the server and the worker"
    said: dict[str, str] = {}
    try:
        for step in page:
            if step.kind == "file":
                (project / str(step.name)).write_text(localised(step.code), encoding="utf-8")
                continue
            for line in step.code.splitlines():
                if not line or line.startswith("#"):
                    continue
                command = localised(line)
                if step.kind == "run":
                    said[line] = run(command, env, project)
                elif step.kind == "dry-run":
                    assert command.startswith("pip install ")
                    dry = command.replace("pip install ", "pip install --dry-run --no-color ", 1)
                    said[line] = run(dry, env, project)
                elif command.startswith("prefect server start"):  # the fixture's server
                    assert shlex.split(command) == services.running["server"].command
                else:
                    assert shlex.split(command) == services.WORKER
                    services.worker()
    finally:
        webhook.close()
        with admin:
            drop_database(admin, database)

    installed = next(text for line, text in said.items() if line.startswith("pip install"))
    assert "Would install prefect-failtrack-" in installed, installed
    upgraded = next(text for line, text in said.items() if line.startswith("failtrack db upgrade"))
    assert f"Upgraded audit schema at {url} from None to " in upgraded, upgraded
    runs = said["failtrack runs --since 1h"]
    assert runs.startswith(f"Audit database: {url}\n1 flow run(s) ended "), runs
    line = next(line for line in runs.splitlines() if " nightly " in line)
    assert "Failed" in line and "PERMANENT 1" in line and "1 of 1" in line
    listed = said["prefect deployment ls"]
    assert all(name in listed for name in DEPLOYMENTS), listed
    reported = next(text for line, text in said.items() if "failure-report/daily --watch" in line)
    assert "Flow run finished successfully in 'Completed'." in reported, reported
    (alert,) = webhook.received  # one message, through custom-webhook/oncall
    assert alert["subject"].startswith("failtrack: 2 threshold(s) crossed, "), alert
    body = alert["body"]
    assert "- failure rate 100% (1 of 1 flow runs) is above 25%" in body, body
    assert "new failure pattern(s) (more than 0)" in body, body
    assert "PermissionError (new): permission denied for schema analytics" in body, body
