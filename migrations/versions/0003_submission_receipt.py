"""Submissions keep their receipt PDF (hash and storage key).

Revision ID: fcd1b7484a76
Revises: b5b63632cca7
Create Date: 2026-11-22 09:35:35.951027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fcd1b7484a76"
down_revision: str | None = "b5b63632cca7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("receipt_key", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("receipt_key")
        batch_op.drop_column("receipt_sha256")
