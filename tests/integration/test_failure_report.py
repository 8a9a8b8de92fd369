"""The failure report flow, run from its deployment entry point against real tracked runs:
its artifacts in the API, an alert through a notification block past the thresholds (and
no request below them), and the deployment file that schedules it."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import yaml
from prefect import Flow
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
from prefect.flows import load_flow_from_entrypoint

from prefect_failtrack import PermanentError, RetryPolicy, tracked_flow, tracked_task
from prefect_failtrack.blocks import FailtrackConfig, ReportThresholds
from tests.integration.prefect_reads import read_artifacts

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = ROOT / "flows" / "prefect.yaml"
HOOK_URL = "https://hooks.example.com/services/failtrack"


@tracked_task(policy=RetryPolicy.never())
def load_orders(fail: bool) -> int:
    if fail:
        raise PermanentError("relation analytics.orders does not exist")
    return 3


@tracked_flow(name="report-nightly")
def nightly(fail: bool) -> int:
    return load_orders(fail)


@pytest.fixture(scope="module")
def failure_report() -> Flow:
    """The report flow as a worker would load it: from the deployment's entry point."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return load_flow_from_entrypoint(
            "flows/failure_report.py:failure_report", use_placeholder_flow=False
        )


@pytest.fixture
def one_of_two_failed(audit_db: str) -> str:
    """Two tracked runs of one flow in the audit database: one completed, one failed."""
    assert nightly(False) == 3
    assert nightly(True, return_state=True).is_failed()
    return audit_db


def config_with(thresholds: ReportThresholds) -> str:
    """A webhook notification block and a FailtrackConfig alerting through it; its name."""
    suffix = uuid.uuid4().hex[:10]
    CustomWebhookNotificationBlock(
        name="failtrack alerts", url=HOOK_URL, json_data={"text": "{{subject}}\n{{body}}"}
    ).save(f"alerts-{suffix}")
    FailtrackConfig(
        report_thresholds=thresholds, notify_block=f"custom-webhook/alerts-{suffix}"
    ).save(f"report-{suffix}")
    return f"report-{suffix}"


def run_report(failure_report: Flow, config: str) -> tuple[Any, Any, respx.Route]:
    """Run the report flow with the webhook mocked; Prefect's own API passes through."""
    with respx.mock(assert_all_called=False) as api:
        api.route(host="127.0.0.1").pass_through()
        hook = api.post(HOOK_URL).mock(return_value=httpx.Response(200))
        state = failure_report(config_block=config, return_state=True)
    assert state.is_completed(), state.message
    return state.state_details.flow_run_id, state.result(), hook


def test_report_alerts_past_the_thresholds(failure_report: Flow, one_of_two_failed: str) -> None:
    config = config_with(
        ReportThresholds(failure_rate=0.25, retries_exhausted=None, stuck_runs=None, new_patterns=0)
    )
    flow_run_id, published, hook = run_report(failure_report, config)

    assert (published.runs, published.failed_runs, published.failure_rate) == (2, 1, 0.5)
    assert [a.threshold for a in published.alerts] == ["failure_rate", "new_patterns"]
    assert published.notified

    (summary,) = read_artifacts(flow_run_id, key="failtrack-failure-report")
    assert summary.id == published.markdown_artifact_id
    assert "**1** of **2** flow runs failed (**50.0%**)." in summary.data
    assert "- failure rate 50% (1 of 2 flow runs) is above 25%" in summary.data
    assert "| report-nightly | 2 | 1 | 50% |" in summary.data
    (table,) = read_artifacts(flow_run_id, key="failtrack-failure-report-patterns", type="table")
    assert table.id == published.table_artifact_id
    rows = json.loads(table.data)
    assert {(r["error_type"], r["error_class"], r["message"], r["novelty"]) for r in rows} == {
        ("PERMANENT", "prefect_failtrack.classification.types.PermanentError",
         "relation analytics.orders does not exist", "new"),
    }
    assert all(r["flows"] == "report-nightly" for r in rows)
    new_patterns = len(rows)

    assert hook.call_count == 1
    request = hook.calls.last.request
    assert request.headers["user-agent"] == "Prefect Notifications"
    text = json.loads(request.content)["text"]
    subject, body = text.split("\n", 1)
    window = re.fullmatch(
        r"failtrack: 2 threshold\(s\) crossed, (\d{4}-\d\d-\d\d \d\d:\d\d to "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC)", subject
    )
    assert window, subject
    top = "\n".join(
        f"- {r['count']}x PERMANENT prefect_failtrack.classification.types.PermanentError (new): "
        "relation analytics.orders does not exist"
        for r in rows
    )
    assert body == (
        f"Failure report for {window.group(1)}:\n"
        "- failure rate 50% (1 of 2 flow runs) is above 25%\n"
        f"- {new_patterns} new failure pattern(s) (more than 0)\n"
        "Top failure patterns:\n"
        f"{top}"
    )


def test_no_notification_below_the_thresholds(failure_report: Flow, one_of_two_failed: str) -> None:
    config = config_with(ReportThresholds(failure_rate=0.5, new_patterns=5))
    flow_run_id, published, hook = run_report(failure_report, config)

    assert published.failure_rate == 0.5  # not above 0.5
    assert published.alerts == [] and not published.notified
    assert hook.call_count == 0
    (summary,) = read_artifacts(flow_run_id, key="failtrack-failure-report")
    assert "No threshold crossed." in summary.data


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_empty_audit_table_makes_a_quiet_report(failure_report: Flow, audit_db: str) -> None:
    state = failure_report(since_hours=1, filters={"flow": "nothing-like-this"}, return_state=True)
    assert state.is_completed(), state.message
    published = state.result()
    assert (published.runs, published.alerts, published.table_artifact_id) == (0, [], None)
    (summary,) = read_artifacts(state.state_details.flow_run_id, key="failtrack-failure-report")
    assert "Filters: `flow=nothing-like-this`" in summary.data


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_named_config_block_must_exist(failure_report: Flow, audit_db: str) -> None:
    state = failure_report(config_block=f"missing-{uuid.uuid4().hex[:8]}", return_state=True)
    assert state.is_failed()
    assert "Unable to find block document named missing-" in state.message


def test_the_deployment_file_schedules_both_flows() -> None:
    # The model `prefect deploy` validates prefect.yaml with (prefect/cli/deploy/_config.py,
    # _load_deploy_configs_and_actions); private, but the point is that the CLI accepts it.
    from prefect.cli.deploy._models import PrefectYamlModel

    raw = yaml.safe_load(DEPLOYMENTS.read_text())
    model = PrefectYamlModel.model_validate(raw)
    deployments = {d.name: d for d in model.deployments}
    assert set(deployments) == {"daily", "every-15-minutes", "collector"}

    report = deployments["daily"]
    assert report.entrypoint == "flows/failure_report.py:failure_report"
    (schedule,) = raw["deployments"][0]["schedules"]
    assert CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"]) == CronSchedule(
        cron="0 7 * * *", timezone="UTC"
    )
    reconcile = deployments["every-15-minutes"]
    assert reconcile.entrypoint == "flows/reconcile.py:reconcile_flow"
    (schedule,) = raw["deployments"][1]["schedules"]
    assert IntervalSchedule(interval=schedule["interval"]).interval.total_seconds() == 900
    collector = deployments["collector"]
    assert collector.entrypoint == "flows/collect.py:collect_flow"
    (schedule,) = raw["deployments"][2]["schedules"]
    assert IntervalSchedule(interval=schedule["interval"]).interval.total_seconds() == 86_400
    assert all(d.work_pool and d.work_pool.name == "failtrack" for d in model.deployments)


@pytest.mark.parametrize("deployment", [0, 1, 2])
def test_each_entry_point_resolves_to_a_flow_taking_its_parameters(
    deployment: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # entry points are relative to the repository root
    config = yaml.safe_load(DEPLOYMENTS.read_text())["deployments"][deployment]
    flow = load_flow_from_entrypoint(config["entrypoint"], use_placeholder_flow=False)
    assert isinstance(flow, Flow)
    assert flow.name in {"failtrack-failure-report", "failtrack-reconcile", "failtrack-collect"}
    validated = flow.validate_parameters(config["parameters"])
    assert {name: validated[name] for name in config["parameters"]} == config["parameters"]
