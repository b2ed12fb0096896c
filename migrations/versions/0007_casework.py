"""Casework: assignee, revision, proposals, duplicate keys; flags, approvals, notes.

Revision ID: 6210c513da98
Revises: 3f8b2d6c1a47
Create Date: 2026-12-01 14:30:19.273171
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forms_app.db

revision: str = "6210c513da98"
down_revision: str | None = "3f8b2d6c1a47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("bank_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", forms_app.db.UTCDateTime(), nullable=False),
        sa.Column("voided_at", forms_app.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["user.id"], name=op.f("fk_approval_approver_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_approval_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval")),
    )
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("other_submission_id", sa.Integer(), nullable=True),
        sa.Column("created_at", forms_app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["other_submission_id"],
            ["submission.id"],
            name=op.f("fk_flag_other_submission_id_submission"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_flag_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag")),
        sa.UniqueConstraint("submission_id", "kind", "key", name=op.f("uq_flag_submission_id")),
    )
    with op.batch_alter_table("flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_flag_submission_id"), ["submission_id"], unique=False)

    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", forms_app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_note_author_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_note_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
    )
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_submission_id"), ["submission_id"], unique=False)

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("proposal", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("proposed_amount", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_amount", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("proposed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("last_activity_at", forms_app.db.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("reminded_at", forms_app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("dup_rid", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("dup_iban", sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column("dup_identity", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch_op.create_index("ix_submission_assignee_id", ["assignee_id"], unique=False)
        batch_op.create_index("ix_submission_dup_iban", ["dup_iban"], unique=False)
        batch_op.create_index(
            "ix_submission_dup_identity", ["form_id", "dup_identity"], unique=False
        )
        batch_op.create_index("ix_submission_dup_rid", ["form_id", "dup_rid"], unique=False)
        batch_op.create_index(
            "ix_submission_inbox",
            ["form_id", "state", "priority", "submitted_at", "id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_submission_proposed_by_id_user"),
            "user",
            ["proposed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_submission_assignee_id_user"),
            "user",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_submission_assignee_id_user"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_submission_proposed_by_id_user"), type_="foreignkey"
        )
        batch_op.drop_index("ix_submission_inbox")
        batch_op.drop_index("ix_submission_dup_rid")
        batch_op.drop_index("ix_submission_dup_identity")
        batch_op.drop_index("ix_submission_dup_iban")
        batch_op.drop_index("ix_submission_assignee_id")
        batch_op.drop_column("search_text")
        batch_op.drop_column("dup_identity")
        batch_op.drop_column("dup_iban")
        batch_op.drop_column("dup_rid")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("last_activity_at")
        batch_op.drop_column("proposed_by_id")
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("approved_amount")
        batch_op.drop_column("proposed_amount")
        batch_op.drop_column("proposal")
        batch_op.drop_column("revision")
        batch_op.drop_column("assignee_id")

    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_submission_id"))

    op.drop_table("note")
    with op.batch_alter_table("flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_submission_id"))
        batch_op.drop_index(batch_op.f("ix_flag_kind"))

    op.drop_table("flag")
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_submission_id"))

    op.drop_table("approval")
