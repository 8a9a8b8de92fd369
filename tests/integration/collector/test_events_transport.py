"""Rows sent as Prefect events and stored by the collector are what the direct mode stores:
rows per task run, summary, the flow's own class, the failure-summary artifact (issue 15)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from prefect_failtrack.collector import position
from prefect_failtrack.store.database import get_engine
from prefect_failtrack.store.models import flow_runs, outbox, transitions
from prefect_failtrack.store.recorder import get_recorder
from tests.integration.collector.conftest import collecting, wait_until
from tests.integration.conftest import use_database
from tests.integration.runners import workload
from tests.integration.runners.outcome import outcome


def published(url: str, flow_run_id: str) -> bool:
    with get_engine(url).connect() as connection:
        summary = connection.execute(
            select(flow_runs.c.flow_run_id).where(flow_runs.c.flow_run_id == flow_run_id)
        ).first()
        waiting = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
    return summary is not None and waiting == 0


def test_rows_sent_as_events_are_stored_and_published_as_the_direct_mode_does(
    tmp_path: Path, request
) -> None:
    direct = f"sqlite:///{tmp_path / 'direct.db'}"
    use_database(direct)
    state = workload.mixed(return_state=True)
    assert get_recorder().flush(timeout=10)
    reference = outcome(direct, str(state.state_details.flow_run_id))

    request.getfixturevalue("sending_events")
    collected = f"sqlite:///{tmp_path / 'collected.db'}"
    with collecting(collected) as collector:
        state = workload.mixed(return_state=True)
        assert get_recorder().flush(timeout=10)
        assert get_recorder().stats()["written"] > 0
        flow_run_id = str(state.state_details.flow_run_id)
        assert wait_until(lambda: published(collected, flow_run_id), timeout=60)
    seen = outcome(collected, flow_run_id)
    assert seen.task_rows == reference.task_rows
    assert seen.flow_rows == reference.flow_rows
    assert seen.summary == reference.summary
    assert seen.artifact == reference.artifact
    assert collector.stats.published == 1

    with get_engine(collected).connect() as connection:
        stored = connection.execute(select(func.count()).select_from(transitions)).scalar_one()
        kept = position.read(connection, "default")
    assert kept.occurred is not None and kept.events >= stored
