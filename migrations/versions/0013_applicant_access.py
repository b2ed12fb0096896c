"""Applicant access: the generation of an address's links and sessions, to close them all.

Revision ID: eff245f110ab
Revises: 7ed0cfb6a35d
Create Date: 2026-12-04 21:19:18.758858
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forms_app.db

revision: str = "eff245f110ab"
down_revision: str | None = "7ed0cfb6a35d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applicant_access",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("revoked_at", forms_app.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_applicant_access")),
    )


def downgrade() -> None:
    op.drop_table("applicant_access")
