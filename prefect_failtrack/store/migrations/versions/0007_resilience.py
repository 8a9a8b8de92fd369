"""Resilience: the dependency of each failure, circuits per dependency, the requeue ledger.

- ``failtrack_transitions.dependency``: what a failure hit (a name, or ``scheme://host:port``),
  with a partial index of the rows that have one, and a partial index of Failed rows
  (dead letters are found from them);
- ``failtrack_circuits``: one row per dependency, the breaker's state;
- ``failtrack_circuit_failures``: per dependency and run, its latest TRANSIENT/TIMEOUT
  failure (the window the threshold counts);
- ``failtrack_requeues``: each dead letter requeued, and the flow run that replaces it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRANSITIONS = "failtrack_transitions"
# The partial indexes: failures by dependency; Failed rows, which dead letters are found from.
DEPENDENCY_INDEX = ("ix_failtrack_transitions_dependency", ["dependency", "occurred_at"],
                    "dependency IS NOT NULL")
FAILED_INDEX = ("ix_failtrack_transitions_failed",
                ["occurred_at", "run_kind", "flow_run_id", "to_state_type"],
                "to_state_type = 'FAILED'")


def _when() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


NOW = sa.text("CURRENT_TIMESTAMP")
# name -> (type, nullable); "updated_at"/"requeued_at" default to now on the server.
CIRCUITS = {
    "dependency": (sa.String, False), "state": (sa.String, False), "opened_at": (_when, True),
    "open_until": (_when, True), "probe_run_id": (sa.String, True), "probe_until": (_when, True),
    "failures": (sa.Integer, False), "trips": (sa.Integer, False),
    "last_failure_at": (_when, True), "closed_at": (_when, True), "updated_at": (_when, False),
}  # fmt: skip
CIRCUIT_FAILURES = {
    "dependency": (sa.String, False), "run_id": (sa.String, False),
    "flow_run_id": (sa.String, True), "error_type": (sa.String, False),
    "occurred_at": (_when, False),
}  # fmt: skip
REQUEUES = {
    "flow_run_id": (sa.String, False), "requeued_as": (sa.String, True),
    "deployment_id": (sa.String, True), "status": (sa.String, False),
    "requested_by": (sa.String, True), "detail": (sa.Text, True), "requeued_at": (_when, False),
}  # fmt: skip
SERVER_NOW = {"updated_at", "requeued_at"}


def _columns(spec: dict[str, tuple[object, bool]]) -> list[sa.Column]:
    return [
        sa.Column(name, kind(), nullable=nullable,  # type: ignore[operator]
                  **({"server_default": NOW} if name in SERVER_NOW else {}))
        for name, (kind, nullable) in spec.items()
    ]


def upgrade() -> None:
    with op.batch_alter_table(TRANSITIONS) as batch:  # SQLite: a plain ADD COLUMN
        batch.add_column(sa.Column("dependency", sa.String(), nullable=True))
    for name, columns, where in (DEPENDENCY_INDEX, FAILED_INDEX):
        condition = sa.text(where)
        op.create_index(name, TRANSITIONS, columns, sqlite_where=condition,
                        postgresql_where=condition)  # fmt: skip
    op.create_table("failtrack_circuits", *_columns(CIRCUITS), sa.PrimaryKeyConstraint("dependency"))
    op.create_table("failtrack_circuit_failures", *_columns(CIRCUIT_FAILURES),
                    sa.PrimaryKeyConstraint("dependency", "run_id"))  # fmt: skip
    op.create_index("ix_failtrack_circuit_failures_window", "failtrack_circuit_failures",
                    ["dependency", "occurred_at"])  # fmt: skip
    op.create_table("failtrack_requeues", *_columns(REQUEUES), sa.PrimaryKeyConstraint("flow_run_id"))
    op.create_index("ix_failtrack_requeues_requeued_at", "failtrack_requeues", ["requeued_at"])


def downgrade() -> None:
    op.drop_table("failtrack_requeues")
    op.drop_table("failtrack_circuit_failures")
    op.drop_table("failtrack_circuits")
    for name, _, _ in (DEPENDENCY_INDEX, FAILED_INDEX):
        op.drop_index(name, table_name=TRANSITIONS)
    with op.batch_alter_table(TRANSITIONS) as batch:
        batch.drop_column("dependency")
