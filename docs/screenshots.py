"""Screenshots of the Prefect UI showing failtrack, taken by headless Chromium.

    python docs/screenshots.py [--out docs/images]

Starts a local Prefect server with its UI (its own PREFECT_HOME and audit database
in a temporary folder), runs the demo (``flows/demo.py --use-configured-api``) and
the failure report flow (``flows/failure_report.py``) against it, finds the runs and
artifacts through Prefect's client, and saves four pictures (1400x900 unless said):

- ``flow-runs-class-tags.png`` (1600x900): the runs list filtered by Prefect's tag filter
  on ``failtrack:PERMANENT`` over the past 7 days: the failed demo run, with one
  ``failtrack:<CLASS>`` tag per class that failed it;
- ``flow-run-failure-summary.png``: the failure-summary artifact of the failed demo run;
- ``task-run-awaiting-retry.png``: the logs of a task run that went to AwaitingRetry,
  with failtrack's decision line for each retry and the one that declines the next;
- ``report-artifact.png``: the markdown artifact of the failure report flow.

Needs Debian's ``chromium`` (``apt-get install -y chromium``). The test
``tests/docs/test_screenshots.py`` uses the same functions and checks the pages' text.

UI routes relied on (Prefect 3.8.8). The server mounts two UI bundles and sends a
browser with no saved preference to the V2 one, under ``/v2`` (``create_ui_app``,
``UI_VERSION_PATH_SEGMENT = "v2"`` and ``server.ui.v2_enabled`` defaulting to true, in
prefect/server/api/server.py and prefect/settings/models/server/ui.py). The V2 bundle's
router (prefect/server/ui-v2/assets/index-*.js) declares
``createFileRoute(`/runs/flow-run/$id`)`` (search ``tab``: Logs, TaskRuns, SubflowRuns,
Artifacts, Details, Parameters, JobVariables), ``/runs/task-run/$id`` (``tab``: Logs,
Artifacts, TaskInputs, Details), ``/artifacts/artifact/$id`` (the rendered artifact,
with its flow run beside it) and ``/runs/`` (the runs list; its search, ``Nb`` in the
bundle, has ``tab`` (flow-runs, task-runs), ``tags`` (comma-separated; the flow runs
filter becomes ``tags: {any_: [...]}``), ``range`` (past-hour, past-24-hours,
past-7-days, past-30-days, today), ``state``, ``flows``, ``deployments``, ``work-pools``,
``flow-run-search``, ``sort``, ``page``). At 1400 px the list folds a run's sixth tag
into "+1" and the tag filter shows its chip as "+1"; at 1600 px both show in full.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "docs" / "images"
DEMO_FLOW = "failtrack-demo"
WINDOW = (1400, 900)
#: The tag the runs list picture filters on: the demo's flow run fails PERMANENT itself.
CLASS_FILTER = "failtrack:PERMANENT"
#: Chromium's flags that this machine requires, whatever else is asked of it.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Virtual time (ms) a page gets to fetch and render; the longer ones only if it was not enough.
BUDGETS_MS = (8_000, 20_000, 40_000)
PNG_LIMIT = 400_000


def find_chromium() -> str | None:
    """Debian's chromium, or None."""
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the server


@dataclass
class UIServer:
    """A running ``prefect server start`` and the environment its clients need."""

    url: str  # http://127.0.0.1:<port>
    env: dict[str, str]  # for child processes: this server, this audit database
    workdir: Path

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def child_env(workdir: Path, api_url: str) -> dict[str, str]:
    """The parent's environment without any PREFECT_* variable (so a test session's own
    Prefect settings and failtrack home never leak in), then this server's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(workdir / "prefect-home"),
        PREFECT_API_URL=api_url,
        PREFECT_UI_ENABLED="true",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT="false",  # no "Upgrade" box in the pictures
        PREFECT_INTEGRATIONS_FAILTRACK_HOME=str(workdir / "failtrack"),
        PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL=f"sqlite:///{workdir / 'failtrack.db'}",
    )
    return env


@contextmanager
def prefect_ui_server(workdir: Path, startup_timeout: float = 90) -> Iterator[UIServer]:
    """``prefect server start`` on a free port, in its own process group; stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = child_env(workdir, f"{url}/api")
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited ({proc.returncode}):\n{_tail(log_path)}")
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server not healthy after {startup_timeout} s:\n"
                                   f"{_tail(log_path)}")
            time.sleep(0.5)
        yield UIServer(url=url, env=env, workdir=workdir)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the server and whatever it started (its process group, which we created)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ------------------------------------------------------------------ what to show


def run_examples(server: UIServer, timeout: float = 180) -> None:
    """The demo pipeline, then the failure report flow, against `server`."""
    for name, args in (
        ("demo", [str(REPO / "flows" / "demo.py"), "--use-configured-api"]),
        ("failure-report", [str(REPO / "flows" / "failure_report.py")]),
    ):
        log_path = server.workdir / f"{name}.log"
        with open(log_path, "wb") as log:
            done = subprocess.run([sys.executable, *args], env=server.env, cwd=REPO,
                                  stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{name} exited {done.returncode}:\n{_tail(log_path)}")


@dataclass
class Targets:
    flow_run_id: UUID
    flow_run_name: str
    flow_run_tags: list[str]  # its failtrack:<CLASS> tags
    summary_artifact_id: UUID
    task_run_id: UUID
    task_run_name: str
    report_artifact_id: UUID


def find_targets(api_url: str, timeout: float = 30) -> Targets:
    """Through Prefect's client: the failed demo run (with its ``failtrack:`` tags) and its
    failure summary, the task run with the most AwaitingRetry states in its history, the
    latest failure report.

    Task states reach the API through events, so this polls until all are there."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from prefect_failtrack.capture.flow_end import TAG_PREFIX
    from prefect_failtrack.capture.summary import artifact_key
    from prefect_failtrack.reports.publish import REPORT_KEY

    deadline = time.monotonic() + timeout
    problem = "nothing read yet"
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            # the newest failed demo run
            failed = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[DEMO_FLOW])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.FAILED]))),
                sort=FlowRunSort.START_TIME_DESC, limit=1,
            )
            summaries = failed and latest_artifact(
                client, artifact_key(DEMO_FLOW), flow_run_id=failed[0].id)
            reports = latest_artifact(client, REPORT_KEY)
            tags = [t for t in (failed[0].tags if failed else []) if t.startswith(TAG_PREFIX)]
            retried: list[tuple[int, str, UUID]] = []
            if failed:
                for task_run in client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[failed[0].id])),
                    sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=200,
                ):
                    states = client.read_task_run_states(task_run.id)
                    waits = sum(1 for s in states if s.name == "AwaitingRetry")
                    if waits:
                        retried.append((waits, task_run.name, task_run.id))
            if failed and summaries and reports and retried and CLASS_FILTER in tags:
                _, task_name, task_id = max(retried)
                return Targets(
                    flow_run_id=failed[0].id, flow_run_name=failed[0].name, flow_run_tags=tags,
                    summary_artifact_id=summaries[0].id,
                    task_run_id=task_id, task_run_name=task_name,
                    report_artifact_id=reports[0].id,
                )
            problem = (f"failed demo runs: {len(failed)}, its tags: {tags}, "
                       f"summaries: {len(summaries or [])}, reports: {len(reports)}, "
                       f"task runs with AwaitingRetry: {len(retried)}")
            time.sleep(0.5)
    raise RuntimeError(f"the UI has not got what the pictures show ({problem})")


def latest_artifact(client: Any, key: str, flow_run_id: UUID | None = None) -> list[Any]:
    """The newest artifact with `key` (of `flow_run_id`), as a list of at most one."""
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    artifact_filter = ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
    if flow_run_id is not None:
        artifact_filter.flow_run_id = ArtifactFilterFlowRunId(any_=[flow_run_id])
    return client.read_artifacts(
        artifact_filter=artifact_filter, sort=ArtifactSort.CREATED_DESC, limit=1
    )


@dataclass
class Page:
    """One UI page: where it is, which file it becomes, what text shows it is rendered."""

    filename: str
    route: str  # below the UI's root, e.g. /v2/runs/task-run/<id>
    expect: Sequence[str] = field(default_factory=tuple)
    window: tuple[int, int] = WINDOW


def pages(t: Targets) -> list[Page]:
    runs_search = urlencode({"tags": CLASS_FILTER, "range": "past-7-days"})
    return [
        Page(
            "flow-runs-class-tags.png",
            f"/v2/runs/?{runs_search}",
            # the filter (only the failed demo run passes it), the run, each of its class tags
            ("Past 7 days", "1 Flow run", t.flow_run_name, "Failed", *t.flow_run_tags),
            window=(1600, 900),
        ),
        Page(
            "flow-run-failure-summary.png",
            f"/v2/artifacts/artifact/{t.summary_artifact_id}",
            (f"Flow run '{t.flow_run_name}' ended Failed",
             "1 never ran because an upstream run failed (DEPENDENCY)", "What went wrong",
             "TRANSIENT, a temporary problem", "retries exhausted", "PERMANENT",
             "Details for debugging"),
        ),
        Page(
            "task-run-awaiting-retry.png",
            f"/v2/runs/task-run/{t.task_run_id}?tab=Logs",
            # failtrack's decision line, then Prefect's own retry scheduling (AwaitingRetry);
            # at the end failtrack's refusal, with the traceback
            (t.task_run_name, f"failtrack: {t.task_run_name} — TRANSIENT", "retry in",
             "(TRANSIENT budget 1/", "Retry 1/", "will start",
             "not retried: TRANSIENT budget spent", "Traceback (most recent call last)"),
        ),
        Page(
            "report-artifact.png",
            f"/v2/artifacts/artifact/{t.report_artifact_id}",
            ("Failure report,", "flow runs failed", "Thresholds crossed",
             "Failed task runs by class"),
        ),
    ]


# ------------------------------------------------------------------ the browser


def load(url: str, screenshot: Path | None = None, budget_ms: int = BUDGETS_MS[0],
         window: tuple[int, int] = WINDOW) -> str:
    """The page's DOM after `budget_ms` of virtual time (and its picture, if asked)."""
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="failtrack-chromium-") as profile:
        args = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                f"--window-size={window[0]},{window[1]}", "--hide-scrollbars",
                f"--virtual-time-budget={budget_ms}", "--dump-dom"]
        if screenshot is not None:
            args.append(f"--screenshot={screenshot}")
        done = subprocess.run([*args, url], capture_output=True, timeout=budget_ms / 1000 + 60)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return done.stdout.decode("utf-8", errors="replace")


def page_text(dom: str) -> str:
    """What a reader sees of `dom`: no scripts or styles, no tags, entities decoded."""
    dom = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", dom)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


def capture(base_url: str, page: Page, out_dir: Path | None = None) -> str:
    """Load `page` until all its expected text shows (longer budgets if need be); save its
    picture in `out_dir` if given. Returns the page's text."""
    target = out_dir / page.filename if out_dir is not None else None
    missing: list[str] = []
    for budget in BUDGETS_MS:
        text = page_text(load(base_url + page.route, target, budget, page.window))
        missing = [e for e in page.expect if e not in text]
        if not missing:
            return text
    raise AssertionError(f"{page.route} never showed {missing}; it shows: {text[:1500]}")


# ------------------------------------------------------------------ the command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the PNG files (default: {DEFAULT_OUT.relative_to(REPO)})")
    args = parser.parse_args(argv)
    if find_chromium() is None:
        print("chromium is not installed: apt-get install -y chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def say(what: str) -> None:
        print(f"[{time.monotonic() - started:5.1f} s] {what}", file=sys.stderr)

    workdir = Path(tempfile.mkdtemp(prefix="failtrack-screenshots-"))
    try:
        say(f"starting a Prefect server (home {workdir})")
        with prefect_ui_server(workdir) as server:
            say(f"server up at {server.url}; running the demo and the failure report")
            run_examples(server)
            targets = find_targets(server.api_url)
            say(f"flow run {targets.flow_run_name}, task run {targets.task_run_name}")
            for page in pages(targets):
                capture(server.url, page, args.out)
                path = args.out / page.filename
                size = path.stat().st_size
                note = "" if size <= PNG_LIMIT else f" (over {PNG_LIMIT // 1000} kB)"
                say(f"{path} {size // 1000} kB{note}  <- {server.url}{page.route}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    say("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
