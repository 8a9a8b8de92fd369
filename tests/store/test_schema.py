"""Migrations create the contracted schema, idempotently, on a private metadata."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, temporary_settings
from sqlalchemy import inspect
from sqlmodel import Field, SQLModel

from prefect_failtrack.settings import FailtrackSettings
from prefect_failtrack.store import database
from prefect_failtrack.store.database import (
    VERSION_TABLE,
    current_revision,
    ensure_schema,
    get_engine,
    head_revision,
    resolve_database_url,
    upgrade,
)
from prefect_failtrack.store.models import FailtrackModel, FlowRunSummary, Transition, metadata

TRANSITION_INDEXES = {
    "ix_failtrack_transitions_occurred_at": ["occurred_at"],
    "ix_failtrack_transitions_error_type_occurred_at": ["error_type", "occurred_at"],
    "ix_failtrack_transitions_flow_run_id_occurred_at": ["flow_run_id", "occurred_at"],
    # revision 0002: the reports' covering indexes (the last three partial)
    "ix_failtrack_transitions_run_id_state": ["run_id", "to_state_type", "occurred_at"],
    "ix_failtrack_transitions_profile": [
        "run_kind", "name", "from_state", "to_state_type", "error_type", "occurred_at",
        "duration_in_state_ms",
    ],
    "ix_failtrack_transitions_patterns": ["fingerprint", "occurred_at", "run_kind", "name", "flow_name"],
    "ix_failtrack_transitions_retries": [
        "run_id", "error_type", "run_count", "occurred_at", "retry_delay_s", "to_state",
    ],
    "ix_failtrack_transitions_retry_waits": [
        "run_id", "run_count", "from_state", "duration_in_state_ms",
    ],
    # revision 0003: a flow run's subflows (partial)
    "ix_failtrack_transitions_parent_flow_run_id": ["parent_flow_run_id", "run_id"],
    # revision 0005: observed rows, which tracked rows replace (partial)
    "ix_failtrack_transitions_observed": ["run_id", "to_state", "run_count", "capture"],
    # revision 0007 (both partial): failures by dependency, Failed rows (dead letters)
    "ix_failtrack_transitions_dependency": ["dependency", "occurred_at"],
    "ix_failtrack_transitions_failed": ["occurred_at", "run_kind", "flow_run_id", "to_state_type"],
}
RESILIENCE_TABLES = {"failtrack_circuits", "failtrack_circuit_failures", "failtrack_requeues"}
FLOW_RUN_INDEXES = {
    "ix_failtrack_flow_runs_ended_at": ["ended_at"],
    # revision 0002
    "ix_failtrack_flow_runs_rates": ["flow_name", "ended_at", "final_state_type"],
    "ix_failtrack_flow_runs_partial": [
        "ended_at", "flow_run_id", "flow_name", "tasks_completed", "tasks_failed", "partial_success",
    ],
}
LIVENESS = {"failtrack_processes", "failtrack_heartbeats"}
CONTRACT_COLUMNS = {
    "id",
    "run_kind",
    "flow_run_id",
    "task_run_id",
    "name",
    "from_state",
    "to_state",
    "to_state_type",
    "occurred_at",
    "duration_in_state_ms",
    "run_count",
    "error_type",
    "error_class",
    "error_message",
    "stack_trace",
    "fingerprint",
    "retryable",
    "origin",
    "metadata",
}


def schema(url: str) -> dict[str, Any]:
    """Everything a migration could change, in comparable form."""
    inspector = inspect(get_engine(url))
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]))
                for i in inspector.get_indexes(table)
                if not i.get("duplicates_constraint")  # PostgreSQL's index behind a UNIQUE
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
        }
        for table in sorted(inspector.get_table_names())
    }


def test_upgrade_from_empty_creates_the_contracted_schema(database_url: str) -> None:
    assert current_revision(database_url) is None

    upgrade(database_url)

    found = schema(database_url)
    assert set(found) == {
        "failtrack_transitions", "failtrack_flow_runs", VERSION_TABLE,
        "failtrack_collector_cursors", "failtrack_collector_outbox",
    } | LIVENESS | RESILIENCE_TABLES
    assert found["failtrack_circuits"]["pk"] == ["dependency"]
    assert found["failtrack_circuit_failures"]["pk"] == ["dependency", "run_id"]
    assert found["failtrack_requeues"]["pk"] == ["flow_run_id"]
    transitions = found["failtrack_transitions"]
    assert CONTRACT_COLUMNS <= {name for name, _, _ in transitions["columns"]}
    assert transitions["pk"] == ["id"]
    assert ("uq_failtrack_transition_natural", ("run_id", "to_state", "run_count")) in transitions[
        "unique"
    ]
    assert dict(transitions["indexes"]) == {k: tuple(v) for k, v in TRANSITION_INDEXES.items()}
    flow_runs = found["failtrack_flow_runs"]
    assert flow_runs["pk"] == ["flow_run_id"]
    assert dict(flow_runs["indexes"]) == {k: tuple(v) for k, v in FLOW_RUN_INDEXES.items()}
    # liveness (revision "liveness"): processes and the runs they hold
    assert found["failtrack_processes"]["pk"] == ["process_key"]
    assert found["failtrack_heartbeats"]["pk"] == ["run_id"]
    assert dict(found["failtrack_heartbeats"]["indexes"]) == {
        "ix_failtrack_heartbeats_process_key": ("process_key",),
        "ix_failtrack_heartbeats_flow_run_id": ("flow_run_id",),
    }
    assert current_revision(database_url) == head_revision()


def test_second_upgrade_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    before = (current_revision(database_url), schema(database_url))

    upgrade(database_url)

    assert (current_revision(database_url), schema(database_url)) == before


def test_migrations_match_the_models(database_url: str) -> None:
    upgrade(database_url)
    with get_engine(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, metadata) == []


def test_ensure_schema_upgrades_once_per_url(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(database, "upgrade", lambda url: (calls.append(url), upgrade(url)))

    ensure_schema(database_url)
    ensure_schema(database_url)

    assert calls == [database_url]
    assert current_revision(database_url) == head_revision()


def test_tables_stay_out_of_the_global_sqlmodel_metadata() -> None:
    class Unrelated(SQLModel, table=True):
        __tablename__ = "someone_elses_table"
        id: int | None = Field(default=None, primary_key=True)

    try:
        assert FailtrackModel.metadata is not SQLModel.metadata
        assert Transition.metadata is FlowRunSummary.metadata is metadata
        ours = {
            "failtrack_transitions", "failtrack_flow_runs", "failtrack_collector_cursors",
            "failtrack_collector_outbox",
        } | LIVENESS | RESILIENCE_TABLES
        assert set(metadata.tables) == ours
        assert not ours & set(SQLModel.metadata.tables)
        assert "someone_elses_table" not in metadata.tables
    finally:
        SQLModel.metadata.remove(Unrelated.__table__)


def test_metadata_column_is_mapped_to_meta() -> None:
    row = Transition(
        id="x",
        run_kind="flow",
        run_id="r",
        name="n",
        to_state="Running",
        to_state_type="RUNNING",
        occurred_at="2024-01-01T00:00:00Z",
        run_count=1,
        meta={"k": 1},
    )
    assert row.meta == {"k": 1}
    assert "metadata" in Transition.__table__.c


def test_url_comes_from_the_setting_else_the_default_file(tmp_path) -> None:
    assert (
        resolve_database_url(FailtrackSettings(database_url="sqlite:///x.db")) == "sqlite:///x.db"
    )
    assert (
        resolve_database_url(FailtrackSettings(home=tmp_path))
        == f"sqlite:///{tmp_path / 'failtrack.db'}"
    )


def test_prefects_own_database_is_refused(tmp_path) -> None:
    prefect_db = tmp_path / "prefect.db"
    with temporary_settings(
        {PREFECT_API_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{prefect_db}"}
    ):
        with pytest.raises(ValueError, match="Prefect's own database"):
            get_engine(f"sqlite:///{prefect_db}")
    with temporary_settings(
        {
            PREFECT_API_DATABASE_CONNECTION_URL: "postgresql+asyncpg://prefect:pw@db.example:5432/prefect"
        }
    ):
        with pytest.raises(ValueError, match="PREFECT_API_DATABASE_CONNECTION_URL"):
            get_engine("postgresql+psycopg://audit@db.example/prefect")
        assert get_engine("postgresql+psycopg://audit@db.example/audit") is not None


def test_other_backends_are_refused() -> None:
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        get_engine("mysql://u@localhost/audit")


def test_sqlite_engines_are_cached_and_tuned(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'folder' / 'audit.db'}"

    engine = get_engine(url)

    assert get_engine(url) is engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    assert (tmp_path / "new" / "folder" / "audit.db").exists()


def test_the_head_revision_constant_is_alembics_head() -> None:
    assert database.HEAD_REVISION == head_revision()


def test_a_database_at_head_is_checked_without_alembic(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(database_url)
    database.dispose_engines()
    monkeypatch.setattr(database, "upgrade", lambda url: pytest.fail("upgrade at head"))

    ensure_schema(database_url)  # one query of the version table, one per table's columns


@pytest.mark.parametrize(
    "drift",
    ["table made by hand", "old revision stamp", "column dropped", "revision from the future"],
)
def test_schema_drift_is_a_schema_problem_that_names_the_fix(database_url: str, drift: str) -> None:
    engine = get_engine(database_url)
    if drift == "table made by hand":
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE failtrack_transitions (id TEXT PRIMARY KEY)")
    else:
        upgrade(database_url)
        with engine.begin() as connection:
            if drift == "old revision stamp":
                connection.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '0001'")
            elif drift == "column dropped":
                connection.exec_driver_sql("ALTER TABLE failtrack_transitions DROP COLUMN origin")
            else:
                connection.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    database.dispose_engines()

    with pytest.raises(database.SchemaProblem) as problem:
        ensure_schema(database_url)

    message = str(problem.value)
    assert "does not match failtrack's schema" in message
    assert "failtrack db upgrade --url" in message
