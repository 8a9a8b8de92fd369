"""Initial tables: failtrack_transitions and failtrack_flow_runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def _now() -> sa.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "failtrack_transitions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("run_kind", sa.String(), nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.Column("task_run_id", sa.String(), nullable=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_name", sa.String(), nullable=True),
        sa.Column("deployment_id", sa.String(), nullable=True),
        sa.Column("from_state", sa.String(), nullable=True),
        sa.Column("to_state", sa.String(), nullable=False),
        sa.Column("to_state_type", sa.String(), nullable=False),
        sa.Column("occurred_at", _timestamp(), nullable=False),
        sa.Column("duration_in_state_ms", sa.Integer(), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(), nullable=True),
        sa.Column("error_class", sa.String(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("stack_trace", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("retry_delay_s", sa.Float(), nullable=True),
        sa.Column("retries_left", sa.Integer(), nullable=True),
        sa.Column("scheduled_at", _timestamp(), nullable=True),
        sa.Column("origin", sa.String(), nullable=True),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("recorded_at", _timestamp(), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "run_id", "to_state", "run_count", name="uq_failtrack_transition_natural"
        ),
    )
    for name, columns in {
        "occurred_at": ["occurred_at"],
        "error_type_occurred_at": ["error_type", "occurred_at"],
        "fingerprint_occurred_at": ["fingerprint", "occurred_at"],
        "flow_run_id_occurred_at": ["flow_run_id", "occurred_at"],
        "run_id": ["run_id"],
        "to_state_occurred_at": ["to_state", "occurred_at"],
    }.items():
        op.create_index(f"ix_failtrack_transitions_{name}", "failtrack_transitions", columns)

    op.create_table(
        "failtrack_flow_runs",
        sa.Column("flow_run_id", sa.String(), nullable=False),
        sa.Column("flow_name", sa.String(), nullable=True),
        sa.Column("deployment_id", sa.String(), nullable=True),
        sa.Column("started_at", _timestamp(), nullable=True),
        sa.Column("ended_at", _timestamp(), nullable=True),
        sa.Column("final_state", sa.String(), nullable=True),
        sa.Column("final_state_type", sa.String(), nullable=True),
        sa.Column("tasks_total", sa.Integer(), nullable=False),
        sa.Column("tasks_completed", sa.Integer(), nullable=False),
        sa.Column("tasks_failed", sa.Integer(), nullable=False),
        sa.Column("failures_by_class", _json(), nullable=False),
        sa.Column("retries_spent", sa.Integer(), nullable=False),
        sa.Column("partial_success", sa.Boolean(), nullable=False),
        sa.Column("metrics", _json(), nullable=False),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("updated_at", _timestamp(), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("flow_run_id"),
    )
    op.create_index("ix_failtrack_flow_runs_ended_at", "failtrack_flow_runs", ["ended_at"])
    op.create_index("ix_failtrack_flow_runs_flow_name", "failtrack_flow_runs", ["flow_name"])


def downgrade() -> None:
    op.drop_table("failtrack_flow_runs")
    op.drop_table("failtrack_transitions")
