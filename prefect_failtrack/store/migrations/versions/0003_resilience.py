"""Resilience: the dependency of each failure, circuits per dependency, the requeue ledger.

- ``failtrack_transitions.dependency``: what a failure hit (a name, or ``scheme://host:port``),
  with a partial index of the rows that have one, and a partial index of Failed rows
  (dead letters are found from them);
- ``failtrack_circuits``: one row per dependency, the breaker's state;
- ``failtrack_circuit_failures``: per dependency and run, its latest TRANSIENT/TIMEOUT
  failure (the window the threshold counts);
- ``failtrack_requeues``: each dead letter requeued, and the flow run that replaces it.

Revision ID: resilience
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "resilience"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "failtrack_transitions"
PARTIAL = {
    "dependency": (["dependency", "occurred_at"], "dependency IS NOT NULL"),
    "failed": (["occurred_at", "run_kind", "flow_run_id", "to_state_type"], "to_state_type = 'FAILED'"),
}


def _timestamp(nullable: bool = True) -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def _now() -> sa.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:  # SQLite: a plain ADD COLUMN, no table copy
        batch.add_column(sa.Column("dependency", sa.String(), nullable=True))
    for name, (columns, where) in PARTIAL.items():
        op.create_index(
            f"ix_failtrack_transitions_{name}", TABLE, columns,
            sqlite_where=sa.text(where), postgresql_where=sa.text(where),
        )
    op.create_table(
        "failtrack_circuits",
        sa.Column("dependency", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("opened_at", _timestamp(), nullable=True),
        sa.Column("open_until", _timestamp(), nullable=True),
        sa.Column("probe_run_id", sa.String(), nullable=True),
        sa.Column("probe_until", _timestamp(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", _timestamp(), nullable=True),
        sa.Column("closed_at", _timestamp(), nullable=True),
        sa.Column("updated_at", _timestamp(), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("dependency"),
    )
    op.create_table(
        "failtrack_circuit_failures",
        sa.Column("dependency", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.Column("error_type", sa.String(), nullable=False),
        sa.Column("occurred_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("dependency", "run_id"),
    )
    op.create_index(
        "ix_failtrack_circuit_failures_window", "failtrack_circuit_failures",
        ["dependency", "occurred_at"],
    )
    op.create_table(
        "failtrack_requeues",
        sa.Column("flow_run_id", sa.String(), nullable=False),
        sa.Column("requeued_as", sa.String(), nullable=True),
        sa.Column("deployment_id", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("requeued_at", _timestamp(), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("flow_run_id"),
    )
    op.create_index("ix_failtrack_requeues_requeued_at", "failtrack_requeues", ["requeued_at"])


def downgrade() -> None:
    op.drop_table("failtrack_requeues")
    op.drop_table("failtrack_circuit_failures")
    op.drop_table("failtrack_circuits")
    for name in PARTIAL:
        op.drop_index(f"ix_failtrack_transitions_{name}", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("dependency")
