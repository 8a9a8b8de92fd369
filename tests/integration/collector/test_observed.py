"""Audit without decorating: plain ``@task``/``@flow`` runs recorded and classified by the
collector alone, from Prefect's own state events; tracked rows win over observed ones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect import flow, task
from prefect.futures import wait
from sqlalchemy import select

from prefect_failtrack.reports import build_report
from prefect_failtrack.store.database import get_engine
from prefect_failtrack.store.models import flow_runs, transitions
from prefect_failtrack.store.recorder import get_recorder
from tests.integration.collector.conftest import collecting, wait_until
from tests.integration.conftest import use_database
from tests.integration.runners import workload


@task
def plain_ok() -> int:
    return 1


@task
def plain_bad_input() -> None:
    int("twelve")  # Prefect keeps "ValueError: invalid literal ..." of it


@task(retries=1, retry_delay_seconds=0)
def plain_flaky_network() -> None:
    raise ConnectionResetError(104, "Connection reset by peer")


@flow(name="plain-never-decorated")
def plain_flow() -> list:
    futures = [plain_ok.submit(), plain_bad_input.submit(), plain_flaky_network.submit()]
    wait(futures)
    return [f.state for f in futures]


def rows_of(url: str, flow_run_id: str) -> list[dict]:
    t = transitions.c
    with get_engine(url).connect() as connection:
        found = connection.execute(
            select(transitions).where(t.flow_run_id == flow_run_id).order_by(t.occurred_at)
        ).all()
    return [dict(r._mapping) for r in found]


def summary_of(url: str, flow_run_id: str) -> dict | None:
    with get_engine(url).connect() as connection:
        found = connection.execute(
            select(flow_runs).where(flow_runs.c.flow_run_id == flow_run_id)
        ).first()
    return dict(found._mapping) if found else None


def test_plain_runs_are_recorded_and_classified_by_the_collector_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'observed.db'}"
    with collecting(url, observe=True):
        state = plain_flow(return_state=True)
        flow_run_id = str(state.state_details.flow_run_id)
        summary = wait_until(lambda: summary_of(url, flow_run_id), timeout=60)
        wait_until(lambda: summary_of(url, flow_run_id)["tasks_total"] == 3, timeout=20)
    summary = summary_of(url, flow_run_id)
    assert summary is not None and summary["capture"] == "observed"
    assert summary["final_state"] == "Failed"
    assert summary["tasks_total"] == 3 and summary["tasks_failed"] == 2
    assert summary["failures_by_class"] == {"TRANSIENT": 1, "VALIDATION": 1}
    assert summary["partial_success"] is True and summary["retries_spent"] == 1

    found = rows_of(url, flow_run_id)
    assert found and {r["capture"] for r in found} == {"observed"}
    by_task: dict[str, list[dict]] = {}
    for row in found:
        if row["run_kind"] == "task":
            by_task.setdefault(row["name"], []).append(row)
    assert set(by_task) == {"plain_ok", "plain_bad_input", "plain_flaky_network"}
    bad = by_task["plain_bad_input"][-1]
    assert (bad["to_state"], bad["error_type"]) == ("Failed", "VALIDATION")
    assert bad["error_class"] == "ValueError"
    flaky = [
        (r["to_state"], r["run_count"], r["error_type"]) for r in by_task["plain_flaky_network"]
    ]
    # Prefect keeps no message of a failure it retried: the retry is counted, its class unknown.
    assert ("AwaitingRetry", 1, None) in flaky and flaky[-1] == ("Failed", 2, "TRANSIENT")
    flow_rows = [r for r in found if r["run_kind"] == "flow"]
    assert flow_rows[-1]["name"] == "plain-never-decorated"
    assert flow_rows[-1]["flow_name"] == "plain-never-decorated"

    engine = get_engine(url)
    # (The collector observed every run of the session's server in its last minute too.)
    name = "plain-never-decorated"
    observed = build_report(engine, since=timedelta(hours=1), capture="observed", flow=name)
    tracked = build_report(engine, since=timedelta(hours=1), capture="tracked", flow=name)
    assert observed.filters == {"flow": name, "capture": "observed"}
    assert (observed.runs, observed.failed_runs) == (1, 1)
    assert observed.by_class == {"TRANSIENT": 1, "VALIDATION": 1}
    assert (tracked.runs, tracked.by_class) == (0, {})


def test_a_tracked_runs_own_rows_win_over_observed_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'both.db'}"
    use_database(url)  # the hooks write directly; the collector observes the same runs
    with collecting(url, observe=True):
        state = workload.ends_right_after(return_state=True)
        assert get_recorder().flush(timeout=10)
        flow_run_id = str(state.state_details.flow_run_id)

        def observed_too() -> bool:  # Pending: a state only Prefect's events tell of
            return any(r["to_state"] == "Pending" for r in rows_of(url, flow_run_id))

        assert wait_until(observed_too, timeout=30)
        wait_until(lambda: False, timeout=2)  # the stream's stragglers
    found = rows_of(url, flow_run_id)
    keys = [(r["run_id"], r["to_state"], r["run_count"]) for r in found]
    assert len(keys) == len(set(keys))
    for row in found:
        if (row["run_kind"], row["to_state"]) in {
            ("task", "Running"),
            ("task", "Completed"),
            ("flow", "Running"),
            ("flow", "Completed"),
        }:
            assert row["capture"] == "tracked", row
    assert summary_of(url, flow_run_id)["capture"] == "tracked"
