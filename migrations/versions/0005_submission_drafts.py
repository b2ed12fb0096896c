"""Drafts are submissions in state draft: no reference yet, typed data, resume link, expiry.

Revision ID: 5d1a7c3e9b20
Revises: 87f9f9377e86
Create Date: 2026-12-01 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from forms_app.db import UTCDateTime

JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "5d1a7c3e9b20"
down_revision: str | None = "87f9f9377e86"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.String(length=30), nullable=True)
        batch_op.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("draft_data", JSONType, nullable=True))
        batch_op.add_column(sa.Column("resume_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("expiry_warned_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("close_reminded_at", UTCDateTime(), nullable=True))
        batch_op.create_index(
            "ix_submission_state_expires_at", ["state", "expires_at"], unique=False
        )
        batch_op.create_index("ix_submission_applicant_email", ["applicant_email"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM submission WHERE reference IS NULL")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_applicant_email")
        batch_op.drop_index("ix_submission_state_expires_at")
        batch_op.drop_column("close_reminded_at")
        batch_op.drop_column("expiry_warned_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("resume_token_hash")
        batch_op.drop_column("draft_data")
        batch_op.drop_column("updated_at")
        batch_op.alter_column("reference", existing_type=sa.String(length=30), nullable=False)
