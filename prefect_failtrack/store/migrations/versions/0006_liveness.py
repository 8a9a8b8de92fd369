"""Liveness: the processes that hold running runs, and the runs they hold.

``failtrack_processes``: one row per process, its identity (host, pid, boot id, pid
namespace, start time) and its last heartbeat, updated once per interval.
``failtrack_heartbeats``: one row per running run that a process holds, with its
progress; deleted when the process lets go of the run (``prefect_failtrack/liveness``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCESSES = "failtrack_processes"
HEARTBEATS = "failtrack_heartbeats"


def _timestamp() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        PROCESSES,
        sa.Column("process_key", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("boot_id", sa.String(), nullable=True),
        sa.Column("pid_namespace", sa.String(), nullable=True),
        sa.Column("process_started", sa.BigInteger(), nullable=True),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.Column("first_beat", _timestamp(), nullable=False),
        sa.Column("last_beat", _timestamp(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("process_key"),
    )
    op.create_table(
        HEARTBEATS,
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("run_kind", sa.String(), nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_name", sa.String(), nullable=True),
        sa.Column("process_key", sa.String(), nullable=False),
        sa.Column("since", _timestamp(), nullable=False),
        sa.Column("changed_at", _timestamp(), nullable=False),
        sa.Column(
            "progress", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("progress_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("ix_failtrack_heartbeats_process_key", HEARTBEATS, ["process_key"])
    op.create_index("ix_failtrack_heartbeats_flow_run_id", HEARTBEATS, ["flow_run_id"])


def downgrade() -> None:
    op.drop_index("ix_failtrack_heartbeats_flow_run_id", table_name=HEARTBEATS)
    op.drop_index("ix_failtrack_heartbeats_process_key", table_name=HEARTBEATS)
    op.drop_table(HEARTBEATS)
    op.drop_table(PROCESSES)
