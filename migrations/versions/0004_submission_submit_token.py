"""One submission per filled page: a unique submission token.

Revision ID: 87f9f9377e86
Revises: fcd1b7484a76
Create Date: 2026-11-22 09:43:13.491389
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "87f9f9377e86"
down_revision: str | None = "fcd1b7484a76"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submit_token", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_submission_submit_token"), ["submit_token"]
        )


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_submission_submit_token"), type_="unique")
        batch_op.drop_column("submit_token")
