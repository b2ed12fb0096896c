"""Amounts in francs CFP as 64-bit integers: a bordereau's total passes 2^31 F CFP.

Revision ID: 3daea9a82f8b
Revises: 591cba84287a
Create Date: 2026-12-04 17:24:48.741545
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3daea9a82f8b"
down_revision: str | None = "591cba84287a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, nullable) of every amount column.
AMOUNTS = (
    ("approval", "amount", True),
    ("bordereau", "total", False),
    ("bordereau_line", "amount", False),
    ("payment_act", "amount", False),
    ("submission", "computed_amount", True),
    ("submission", "proposed_amount", True),
    ("submission", "approved_amount", True),
)


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    for table in dict.fromkeys(table for table, _, _ in AMOUNTS):
        with op.batch_alter_table(table) as batch_op:
            for _, column, nullable in (a for a in AMOUNTS if a[0] == table):
                batch_op.alter_column(
                    column, existing_type=old, type_=new, existing_nullable=nullable
                )


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())
