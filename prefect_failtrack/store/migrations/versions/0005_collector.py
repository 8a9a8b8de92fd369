"""The collector: how rows were captured, where the collector is in the event stream, and
what it still has to publish.

- ``capture`` on transitions and summaries: ``'tracked'`` (failtrack's hooks wrote the row,
  directly or through the event transport) or ``'observed'`` (the collector made it from
  Prefect's own state events, for a run failtrack does not track). A partial index holds
  the observed rows only: a tracked row replaces an observed one of the same transition
  (`prefect_failtrack.store.writes`), and where nothing is observed the index stays empty
  and costs the direct writer nothing.
- ``failtrack_collector_cursors``: per collector, the position of the last event it stored
  (the event's ``occurred`` time and id), so a restarted collector catches up from there.
- ``failtrack_collector_outbox``: failed flow runs whose failure summary (artifact, tags,
  event) the collector still has to publish, written in the same transaction as their final
  row, so a collector killed in between publishes it after its restart.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from prefect_failtrack.store.models import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "failtrack_transitions"
RUNS = "failtrack_flow_runs"
CURSORS = "failtrack_collector_cursors"
OUTBOX = "failtrack_collector_outbox"
OBSERVED_INDEX = "ix_failtrack_transitions_observed"
OBSERVED = "capture = 'observed'"


def upgrade() -> None:
    for table in (TABLE, RUNS):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("capture", sa.String(), nullable=False, server_default="tracked")
            )
    op.create_index(
        OBSERVED_INDEX,
        TABLE,
        ["run_id", "to_state", "run_count", "capture"],
        sqlite_where=sa.text(OBSERVED),
        postgresql_where=sa.text(OBSERVED),
    )
    op.create_table(
        CURSORS,
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("position", UTCDateTime(), nullable=True),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.Column("events", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column(
            "updated_at", UTCDateTime(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")
        ),
    )
    op.create_table(
        OUTBOX,
        sa.Column("flow_run_id", sa.String(), primary_key=True),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table(OUTBOX)
    op.drop_table(CURSORS)
    op.drop_index(OBSERVED_INDEX, table_name=TABLE)
    for table in (RUNS, TABLE):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("capture")
