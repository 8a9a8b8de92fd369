"""The demo pipeline: one task per error class, a task that recovers, a task downstream of a failure.

Failures are injected deterministically, by parameters (no randomness): each task
reads its attempt number from Prefect (``task_run.run_count``).

    python flows/demo.py            # a temporary local Prefect server, nothing to set up
    python flows/demo.py --use-configured-api   # against your PREFECT_API_URL

It prints, per task: class, deciding rule, attempts and final state, read back
from failtrack's audit table; then where that table is and the commands that show
it (``failtrack runs``, ``failtrack timeline``, SQL). Unless
PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL says otherwise, the audit database is a
new SQLite file in a temporary folder, kept after the demo.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shlex
import sys
import tempfile
import time
from typing import Any

import httpx
from prefect.context import TaskRunContext
from prefect.futures import wait

from prefect_failtrack import ErrorType, RetryPolicy, record_metrics, tracked_flow, tracked_task
from prefect_failtrack.reconcile import reconcile
from prefect_failtrack.reports.outcomes import print_run_outcomes

ALL_FAILURES = ["transient", "permanent", "timeout", "validation", "dependency", "unknown"]

# Short delays so that the demo finishes in seconds; the classes keep their budgets.
DEMO_POLICY = (
    RetryPolicy.default()
    .override(ErrorType.TRANSIENT, initial_delay=0.2, max_delay=1.0, jitter=0.1)
    .override(ErrorType.TIMEOUT, initial_delay=0.2)
)


def attempt() -> int:
    ctx = TaskRunContext.get()
    return ctx.task_run.run_count if ctx else 1


class FluxCapacitorError(Exception):
    """An error no rule knows: UNKNOWN, not retried."""


@tracked_task(origin="source", policy=DEMO_POLICY)
def extract_orders(fail_first: int) -> list[dict[str, Any]]:
    """TRANSIENT, then recovers: the connection drops `fail_first` times."""
    if attempt() <= fail_first:
        raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    rows = [{"id": i, "amount": 10 * i} for i in range(1, 4)]
    record_metrics(rows_read=len(rows))
    return rows


@tracked_task(origin="source", policy=DEMO_POLICY)
def fetch_exchange_rates(fail: bool) -> dict[str, float]:
    """TRANSIENT until retries are exhausted: the rates API answers 503."""
    status = 503 if fail else 200
    request = httpx.Request("GET", "https://rates.example.com/latest")
    response = httpx.Response(status, json={"EUR": 1.08}, request=request)
    response.raise_for_status()
    return response.json()


@tracked_task(origin="destination", policy=DEMO_POLICY)
def load_warehouse(rows: list[dict[str, Any]], fail: bool) -> int:
    """PERMANENT: no retry will grant the missing permission."""
    if fail:
        raise PermissionError(errno.EACCES, "permission denied for schema analytics")
    record_metrics(rows_written=len(rows))
    return len(rows)


@tracked_task(policy=DEMO_POLICY, timeout_seconds=0.5)
def build_report(fail: bool) -> str:
    """TIMEOUT: slower than its timeout, retried per the TIMEOUT budget."""
    if fail:
        time.sleep(3)
    return "report.html"


@tracked_task(policy=DEMO_POLICY)
def parse_upload(fail: bool) -> dict[str, Any]:
    """VALIDATION: the uploaded file is not JSON."""
    return json.loads("{'customer': 42,}" if fail else '{"customer": 42}')


@tracked_task(policy=DEMO_POLICY)
def reconcile_ledger(fail: bool) -> None:
    """UNKNOWN: nothing recognises this error."""
    if fail:
        raise FluxCapacitorError("the flux capacitor hiccupped")


@tracked_task(policy=DEMO_POLICY)
def publish(report: str) -> str:
    """DEPENDENCY when its upstream failed: Prefect never runs it."""
    return f"published {report}"


@tracked_flow(name="failtrack-demo", policy=DEMO_POLICY)
def nightly_demo(inject: list[str] = ALL_FAILURES, recover_after: int = 2) -> list[Any]:
    """Every task runs; failures are injected by name (see ALL_FAILURES)."""
    unknown = sorted(set(inject) - set(ALL_FAILURES))
    if unknown:
        raise ValueError(f"unknown failure names {unknown}; choose from {ALL_FAILURES}")
    orders = extract_orders.submit(recover_after)
    rates = fetch_exchange_rates.submit("transient" in inject)
    loaded = load_warehouse.submit(orders, "permanent" in inject)
    report = build_report.submit("timeout" in inject)
    upload = parse_upload.submit("validation" in inject)
    ledger = reconcile_ledger.submit("unknown" in inject)
    upstream = report if "dependency" in inject else orders
    published = publish.submit("report.html", wait_for=[upstream])
    futures = [orders, rates, loaded, report, upload, ledger, published]
    wait(futures)
    return [future.state for future in futures]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--use-configured-api", action="store_true",
                        help="run against PREFECT_API_URL instead of a temporary local server")
    parser.add_argument("--inject", nargs="*", default=ALL_FAILURES, choices=ALL_FAILURES,
                        help="failures to inject (default: all)")
    args = parser.parse_args(argv)
    # The temporary server's telemetry heartbeat logs an ERROR where there is no internet
    # (prefect/server/services/telemetry.py); this setting turns the heartbeat off.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    configured = "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL" in os.environ
    os.environ.setdefault(
        "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL",
        f"sqlite:///{tempfile.mkdtemp(prefix='failtrack-demo-')}/failtrack.db",
    )
    url = os.environ["PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL"]
    if args.use_configured_api:
        flow_run_id = run_and_report(args.inject)
    else:
        from prefect.testing.utilities import prefect_test_harness

        print("Starting a temporary local Prefect server (about 15 s)...", file=sys.stderr)
        with prefect_test_harness(server_startup_timeout=90):
            flow_run_id = run_and_report(args.inject)
    print(next_steps(url, flow_run_id, configured))
    return 0


def next_steps(url: str, flow_run_id: Any, configured: bool) -> str:
    """Where the audit trail is, and commands to copy that show it: the CLI, then SQL."""
    from sqlalchemy.engine import make_url

    from prefect_failtrack.store.database import safe_url

    # Given by the setting, the CLI finds the database by itself; the demo's own file needs --url.
    where = "" if configured else f" --url {shlex.quote(url)}"
    query = (  # in double quotes below: it holds single quotes, no $, ` or "
        "SELECT name, to_state, error_type, reason FROM failtrack_transitions "
        f"WHERE flow_run_id = '{flow_run_id}' ORDER BY occurred_at"
    )
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        sql = f'sqlite3 {shlex.quote(parsed.database or "")} "{query}"'
    else:
        libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=True)
        sql = f'psql {shlex.quote(libpq)} -c "{query}"'
    return "\n".join([
        "",
        f"The audit trail of this run is in {safe_url(url)}"
        + (" (PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL)." if configured else "."),
        "See it with:",
        "",
        f"    failtrack runs{where}",
        f"    failtrack timeline {flow_run_id}{where}",
        f"    failtrack report --since 1h{where}",
        f"    {sql}",
    ])


def run_and_report(inject: list[str]) -> Any:
    state = nightly_demo(inject=inject, return_state=True)
    flow_run_id = state.state_details.flow_run_id
    # The downstream task never ran, so no hook saw it: reconcile reads its NotReady state
    # from Prefect's API (task states arrive there through events, hence the short wait).
    expected_tasks = 7
    deadline = time.monotonic() + 15
    while reconcile(flow_run_ids=[flow_run_id]).task_runs < expected_tasks:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    reconcile(flow_run_ids=[flow_run_id])
    print_run_outcomes(flow_run_id)
    return flow_run_id


if __name__ == "__main__":
    raise SystemExit(main())
