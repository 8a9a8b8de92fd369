"""``classify --replay`` judges stored failures on the facts stored with them (``error_facts``),
on SQLite and PostgreSQL: a stored 503 stays TRANSIENT, where its message alone would not say."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from prefect_failtrack import classify
from prefect_failtrack.capture import rows
from prefect_failtrack.cli import main
from prefect_failtrack.reports import replay
from prefect_failtrack.store.models import transitions
from tests.reports.history import History


class ApiError(Exception):
    """A client's error known only by its status: nothing in its message says 503."""

    __module__ = "vendorapi.errors"

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def test_error_columns_keep_the_facts_redacted():
    exc = ApiError("upstream failed", 503)
    exc.reason = "password=hunter2"  # no token: not read as a reason
    exc.error_code = "ServerBusy"
    columns = rows.error_columns(exc, classify(exc))
    assert columns["error_facts"] == {"status": 503, "reasons": ["ServerBusy"]}
    assert rows.error_columns(ValueError("x"), classify(ValueError("x")))["error_facts"] is None


def test_replay_judges_the_stored_facts(engine: Engine, database_url: str, capsys) -> None:
    now = datetime.now(UTC)
    h = History()
    flow = h.flow_run("F", "nightly", now - timedelta(hours=1))
    for i, facts in enumerate([{"status": 503}, {"status": 503}, None]):
        task = h.task(flow, f"call{i}").running(flow.at + timedelta(seconds=1))
        task.end(
            "Failed", flow.at + timedelta(seconds=2), error_type="TRANSIENT",
            error_class="vendorapi.errors.ApiError", error_message="upstream failed",
            fingerprint="fp", error_facts=facts,
        )
    h.write(engine)
    with engine.connect() as connection:
        stored = connection.execute(select(transitions.c.error_facts).where(
            transitions.c.error_class == "vendorapi.errors.ApiError")).scalars().all()
    assert sorted(stored, key=str) == [None, {"status": 503}, {"status": 503}]

    report = replay(engine, since=timedelta(days=1))
    changes = {(c.old, c.new): c.count for c in report.changes}
    # with its facts: still TRANSIENT; the row stored without them is judged on text only
    assert changes == {("TRANSIENT", "TRANSIENT"): 2, ("TRANSIENT", "UNKNOWN"): 1}
    assert main(["classify", "--replay", "--since", "1d", "--url", database_url, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert (found["failures"], found["changed"]) == (3, 1)
