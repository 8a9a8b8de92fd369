"""No secret from the corpus survives in any stored column, through real tracked flows."""

from __future__ import annotations

import json
import time

from prefect import get_client, tags
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.futures import wait
from sqlmodel import Session, select

from prefect_failtrack import ErrorType, PermanentError, tracked_flow, tracked_task
from prefect_failtrack.classification import Verdict
from prefect_failtrack.store import FlowRunSummary, Transition, get_engine, get_recorder
from tests.unit.test_redaction import CORPUS


class DriverError(Exception):
    pass


@tracked_task(retries=0)
def leaky(case: str) -> None:
    text = CORPUS[case].text
    try:
        raise DriverError(f"inner: {text}")  # in the chain, so in the stack trace
    except DriverError as inner:
        raise PermanentError(f"load failed: {text}") from inner


@tracked_flow(name="redaction-corpus")
def leaky_flow(cases: list[str]) -> None:
    futures = leaky.map(cases)
    wait(futures)


def test_no_secret_survives_in_any_stored_column(audit_db: str) -> None:
    cases = sorted(CORPUS)
    state = leaky_flow(cases, return_state=True)
    assert get_recorder().flush(timeout=10)
    flow_run_id = str(state.state_details.flow_run_id)
    with Session(get_engine(audit_db)) as session:
        rows = list(session.exec(select(Transition).where(Transition.flow_run_id == flow_run_id)))

    failed = [r for r in rows if r.run_kind == "task" and r.to_state == "Failed"]
    assert len(failed) == len(cases)
    assert all("inner:" in r.stack_trace and "load failed:" in r.error_message for r in failed)
    stored = "\n".join(
        json.dumps(row.model_dump(mode="json"), ensure_ascii=False) for row in rows
    )
    leaked = {
        name: secret
        for name, case in CORPUS.items()
        for secret in case.secrets
        if secret in stored or json.dumps(secret)[1:-1] in stored
    }
    assert leaked == {}
    for name in cases:  # the context that makes the error debuggable is still there
        for kept in CORPUS[name].kept[:1]:
            assert kept in stored or json.dumps(kept)[1:-1] in stored, name


SECRET = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


class VendorError(Exception):
    pass


def quoting_rule(exc: BaseException) -> Verdict | None:
    """A user's rule whose reason quotes the message, as people write them."""
    if isinstance(exc, VendorError):
        return Verdict(ErrorType.PERMANENT, f"vendor refused: {exc}")
    return None


@tracked_task(retries=0, rules=[quoting_rule])
def vendor_call() -> None:
    raise VendorError(f"clone of https://{SECRET}@github.com/acme/etl.git failed")


@tracked_flow(name="redaction-tags-and-logs")
def tagged_flow() -> None:
    vendor_call()


def test_flow_run_tags_and_the_decision_log_line_are_redacted(audit_db: str) -> None:
    with tags(f"repo=https://{SECRET}@github.com/acme/etl.git", "team=data"):
        state = tagged_flow(return_state=True)
    assert state.is_failed()
    assert get_recorder().flush(timeout=10)
    flow_run_id = state.state_details.flow_run_id
    with Session(get_engine(audit_db)) as session:
        summary = session.get(FlowRunSummary, str(flow_run_id))
    assert "team=data" in summary.tags
    assert not any(SECRET in tag for tag in summary.tags)
    assert any("github.com/acme/etl.git" in tag for tag in summary.tags)

    # failtrack's decision line goes to the run's logs, which Prefect stores (its API log
    # handler ships them in the background: prefect/logging/handlers.py APILogHandler).
    lines: list[str] = []
    deadline = time.monotonic() + 20
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            logs = client.read_logs(
                LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200
            )
            lines = [log.message for log in logs if log.message.startswith("failtrack:")]
            if any("vendor refused" in line for line in lines):
                break
            time.sleep(0.5)
    decision = [line for line in lines if "vendor refused" in line]
    assert decision, lines
    assert "PERMANENT" in decision[0] and "github.com/acme/etl.git" in decision[0]
    assert SECRET not in decision[0]
