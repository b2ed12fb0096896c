"""The audit log's hash chain, and the triggers that keep the log append-only.

Revision ID: ccc00442f4d8
Revises: 3daea9a82f8b
Create Date: 2026-12-04 20:23:07.222651
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ccc00442f4d8"
down_revision: str | None = "3daea9a82f8b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As forms_app.models.event creates them for a new database (frozen here).
WRITTEN = [
    "id",
    "subject_type",
    "subject_id",
    "action",
    "from_state",
    "to_state",
    "actor_id",
    "details",
    "created_at",
]
REFUSAL = "the audit log is append-only"
OLD = ", ".join(f"OLD.{name}" for name in WRITTEN)
NEW = ", ".join(f"NEW.{name}" for name in WRITTEN)
CHANGED = " OR ".join(f"NEW.{name} IS NOT OLD.{name}" for name in WRITTEN)
POSTGRESQL = (
    "CREATE FUNCTION event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP = 'DELETE' OR OLD.chain_position IS NOT NULL OR ({OLD}) IS DISTINCT FROM "
    f"({NEW}) THEN RAISE EXCEPTION '{REFUSAL}'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
    "FOR EACH ROW EXECUTE FUNCTION event_append_only()",
)
SQLITE = (
    f"CREATE TRIGGER event_no_delete BEFORE DELETE ON event BEGIN SELECT RAISE(ABORT, "
    f"'{REFUSAL}'); END",
    "CREATE TRIGGER event_no_change BEFORE UPDATE ON event "
    f"WHEN OLD.chain_position IS NOT NULL OR {CHANGED} "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
)


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_position", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_event_chain_position"), ["chain_position"])
    for statement in POSTGRESQL if op.get_context().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER event_append_only ON event")
        op.execute("DROP FUNCTION event_append_only()")
    else:
        op.execute("DROP TRIGGER event_no_delete")
        op.execute("DROP TRIGGER event_no_change")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_event_chain_position"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("chain_position")
