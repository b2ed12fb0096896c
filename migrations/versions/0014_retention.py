"""Retention: per-form draft lifetime and retention period; when a request ended, and when
its personal data was erased. Requests already in a final state start their clock at their
last activity.

Revision ID: c0f37516a798
Revises: eff245f110ab
Create Date: 2026-12-04 23:18:00.062665
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forms_app.db

revision: str = "c0f37516a798"
down_revision: str | None = "eff245f110ab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# workflows.states.FINAL_STATES when this revision was written.
FINAL_STATES = ("cancelled", "closed", "paid", "rejected", "withdrawn")


def upgrade() -> None:
    with op.batch_alter_table("form", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_lifetime_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retention_months", sa.Integer(), nullable=True))

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", forms_app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", forms_app.db.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_submission_ended_at", ["ended_at"], unique=False)

    submission = sa.table(
        "submission",
        sa.column("state", sa.String),
        sa.column("ended_at", forms_app.db.UTCDateTime()),
        sa.column("last_activity_at", forms_app.db.UTCDateTime()),
        sa.column("updated_at", forms_app.db.UTCDateTime()),
        sa.column("created_at", forms_app.db.UTCDateTime()),
    )
    op.execute(
        submission.update()
        .where(submission.c.state.in_(FINAL_STATES))
        .values(
            ended_at=sa.func.coalesce(
                submission.c.last_activity_at, submission.c.updated_at, submission.c.created_at
            )
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_ended_at")
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("ended_at")

    with op.batch_alter_table("form", schema=None) as batch_op:
        batch_op.drop_column("retention_months")
        batch_op.drop_column("draft_lifetime_days")
