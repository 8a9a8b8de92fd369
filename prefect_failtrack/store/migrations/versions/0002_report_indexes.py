"""Covering indexes for the reports.

Each report query reads one index only: a profile of the window (task rates, classes,
durations), each run's latest transition (stuck runs), fingerprints (patterns), and
the retries with their waits. The last three are partial: they hold only the rows
their query reads (and the column of their condition, without which SQLite would read
the table anyway). On the run summaries: rates per flow, and partial successes. The
four indexes that these make redundant are dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "failtrack_transitions"
PARTIAL = {
    "patterns": (
        ["fingerprint", "occurred_at", "run_kind", "name", "flow_name"],
        "fingerprint IS NOT NULL",
    ),
    "retries": (
        ["run_id", "error_type", "run_count", "occurred_at", "retry_delay_s", "to_state"],
        "to_state = 'AwaitingRetry'",
    ),
    "retry_waits": (
        ["run_id", "run_count", "from_state", "duration_in_state_ms"],
        "from_state = 'AwaitingRetry'",
    ),
}
REPLACED = {
    "run_id": ["run_id"],
    "fingerprint_occurred_at": ["fingerprint", "occurred_at"],
    "to_state_occurred_at": ["to_state", "occurred_at"],
}


RUNS = "failtrack_flow_runs"
PARTIAL_RUN_COLUMNS = [
    "ended_at", "flow_run_id", "flow_name", "tasks_completed", "tasks_failed", "partial_success",
]  # fmt: skip


def upgrade() -> None:
    op.create_index(
        "ix_failtrack_transitions_run_id_state", TABLE, ["run_id", "to_state_type", "occurred_at"]
    )
    op.create_index(
        "ix_failtrack_transitions_profile",
        TABLE,
        [
            "run_kind",
            "name",
            "from_state",
            "to_state_type",
            "error_type",
            "occurred_at",
            "duration_in_state_ms",
        ],
    )
    for name, (columns, where) in PARTIAL.items():
        op.create_index(
            f"ix_failtrack_transitions_{name}",
            TABLE,
            columns,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )
    for name in REPLACED:
        op.drop_index(f"ix_failtrack_transitions_{name}", table_name=TABLE)
    op.create_index(
        "ix_failtrack_flow_runs_rates", RUNS, ["flow_name", "ended_at", "final_state_type"]
    )
    op.create_index(
        "ix_failtrack_flow_runs_partial",
        RUNS,
        PARTIAL_RUN_COLUMNS,
        sqlite_where=sa.text("partial_success IS 1"),
        postgresql_where=sa.text("partial_success IS true"),
    )
    op.drop_index("ix_failtrack_flow_runs_flow_name", table_name=RUNS)


def downgrade() -> None:
    op.create_index("ix_failtrack_flow_runs_flow_name", RUNS, ["flow_name"])
    op.drop_index("ix_failtrack_flow_runs_partial", table_name=RUNS)
    op.drop_index("ix_failtrack_flow_runs_rates", table_name=RUNS)
    for name, columns in REPLACED.items():
        op.create_index(f"ix_failtrack_transitions_{name}", TABLE, columns)
    for name in [*PARTIAL, "profile", "run_id_state"]:
        op.drop_index(f"ix_failtrack_transitions_{name}", table_name=TABLE)
