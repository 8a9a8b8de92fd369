"""No secret from the corpus survives in any stored column, through real tracked flows."""

from __future__ import annotations

import json

from prefect.futures import wait
from sqlmodel import Session, select

from prefect_failtrack import PermanentError, tracked_flow, tracked_task
from prefect_failtrack.store import Transition, get_engine, get_recorder
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
