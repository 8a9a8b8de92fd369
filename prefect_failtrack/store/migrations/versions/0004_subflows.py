"""Subflows and summaries derived from the rows.

Flow rows of a subflow name the flow run that called it (``parent_flow_run_id``) and
the task run that stands for it there (``parent_task_run_id``); a partial index finds a
flow run's subflows. Summaries gain the same links, the task runs that never ran
because an upstream failed (``tasks_not_ready``, counted as DEPENDENCY) and the
subflows counted.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "failtrack_transitions"
RUNS = "failtrack_flow_runs"
PARENT_INDEX = "ix_failtrack_transitions_parent_flow_run_id"
WHERE = "parent_flow_run_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as table:
        table.add_column(sa.Column("parent_flow_run_id", sa.String(), nullable=True))
        table.add_column(sa.Column("parent_task_run_id", sa.String(), nullable=True))
    op.create_index(
        PARENT_INDEX, TABLE, ["parent_flow_run_id", "run_id"],
        sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE),
    )
    with op.batch_alter_table(RUNS) as runs:
        for name in ("tasks_not_ready", "subflows_total", "subflows_failed"):
            runs.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        runs.add_column(sa.Column("parent_flow_run_id", sa.String(), nullable=True))
        runs.add_column(sa.Column("parent_task_run_id", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(RUNS) as runs:
        for name in (
            "parent_task_run_id", "parent_flow_run_id", "subflows_failed", "subflows_total",
            "tasks_not_ready",
        ):
            runs.drop_column(name)
    op.drop_index(PARENT_INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE) as table:
        table.drop_column("parent_task_run_id")
        table.drop_column("parent_flow_run_id")
