"""The facts that decided a failure's class, kept with it.

``error_facts`` (nullable JSON, JSONB on PostgreSQL): what the exception that decided
stated about itself (HTTP status, SQLSTATE, errno, vendor code, the library's own
verdict, the delay it asked for), redacted like the other error columns. ``failtrack
classify --replay`` judges stored failures on these facts, not on their message only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "failtrack_transitions"


def upgrade() -> None:
    json_type = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    op.add_column(TABLE, sa.Column("error_facts", json_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:  # SQLite rebuilds the table to drop a column
        batch.drop_column("error_facts")
