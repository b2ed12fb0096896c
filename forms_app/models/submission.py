"""Submissions, pinned to the form version they were filled with, and their files."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow
from forms_app.models.form import Form, FormVersion, JSONType


class Submission(Base):
    """An applicant's request: answers, rule results, and the version that produced them."""

    __tablename__ = "submission"
    __table_args__ = (
        Index("ix_submission_form_id_state", "form_id", "state"),
        Index("ix_submission_state_expires_at", "state", "expires_at"),
        Index("ix_submission_applicant_email", "applicant_email"),
        # The inbox: per form and state, by priority then age.
        Index("ix_submission_inbox", "form_id", "state", "priority", "submitted_at", "id"),
        Index("ix_submission_assignee_id", "assignee_id"),
        Index("ix_submission_dup_rid", "form_id", "dup_rid"),
        Index("ix_submission_dup_iban", "dup_iban"),
        Index("ix_submission_dup_identity", "form_id", "dup_identity"),
        # Dashboards count requests per day over a period.
        Index("ix_submission_submitted_at", "submitted_at"),
        Index("ix_submission_created_at", "created_at"),
        # Retention: ended requests not yet anonymised, oldest first.
        Index("ix_submission_ended_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Handed out at submission: a draft has none, so "saved" never looks like "submitted".
    reference: Mapped[str | None] = mapped_column(String(30), unique=True)
    # One submission per filled page: a replayed POST carries the same token.
    submit_token: Mapped[str | None] = mapped_column(String(32), unique=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id"))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_version.id"))
    state: Mapped[str] = mapped_column(String(30), default="submitted")
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    rule_results: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    computed_amount: Mapped[int | None] = mapped_column(BigInteger)
    priority: Mapped[int | None]
    applicant_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    # Drafts: what was typed, as posted (field name -> values), so any page comes back as
    # it was left; the hash of the secret in the resume link; when the draft expires.
    draft_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    resume_token_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A draft may be finished until then even after its form closed (individual extension).
    extended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Casework: who works it; `revision` grows with every change staff make, so a form posted
    # from a stale page is refused instead of overwriting (optimistic concurrency).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    # The reviewer's proposal ("accept" or "reject"), its amount and reason; the decision.
    proposal: Mapped[str | None] = mapped_column(String(10))
    proposed_amount: Mapped[int | None] = mapped_column(BigInteger)
    approved_amount: Mapped[int | None] = mapped_column(BigInteger)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Normalised keys the duplicate checks compare (filled by the checks job): the 7-digit
    # RID of the company, the bank account (IBAN), the person (name + birth date).
    dup_rid: Mapped[str | None] = mapped_column(String(7))
    dup_iban: Mapped[str | None] = mapped_column(String(34))
    dup_identity: Mapped[str | None] = mapped_column(String(200))
    # Lower-case text the inbox search reads: reference, names, RIDET, e-mail.
    search_text: Mapped[str | None] = mapped_column(Text)
    # The receipt PDF, rendered once by a job; never changed afterwards.
    receipt_sha256: Mapped[str | None] = mapped_column(String(64))
    receipt_key: Mapped[str | None] = mapped_column(String(200))
    # Retention: when the request reached a final state (its clock starts), and when its
    # personal data was erased (forms_app.retention).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    form: Mapped[Form] = relationship()
    form_version: Mapped[FormVersion] = relationship()
    assignee: Mapped["User | None"] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    proposed_by: Mapped["User | None"] = relationship(foreign_keys=[proposed_by_id])  # noqa: F821
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="submission", order_by="Attachment.id"
    )

    def apply(
        self,
        session: Session,
        action: str,
        actor: "User | None" = None,  # noqa: F821
        *,
        by: str = "agent",
        reason: str | None = None,
        locked: bool = False,
        details: dict[str, Any] | None = None,
    ) -> "Event":  # noqa: F821
        """Take `action` ("agent" or "applicant" `by`): check the table, set the state, audit it.

        Raises workflows.states.TransitionError if the table forbids it. The caller commits.
        `locked`: the caller read this row FOR UPDATE in this transaction (no re-read).
        `details` go into the audit event.
        """
        from forms_app import transitions

        return transitions.apply(
            session, self, action, actor, by=by, reason=reason, locked=locked, details=details
        )


class Attachment(Base):
    """A file sent with a submission, stored once under its content hash."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    field_key: Mapped[str] = mapped_column(String(63))
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the file came with a message of the thread rather than with the form.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )

    submission: Mapped[Submission | None] = relationship(back_populates="attachments")
    message: Mapped["Message | None"] = relationship(back_populates="attachments")  # noqa: F821


# References are PREFIX-YEAR-NNNNNN: digits after a fixed prefix (no 0/O or 1/I ambiguity),
# at least this many.
REFERENCE_DIGITS = 6


class ReferenceCounter(Base):
    """The last reference number handed out per prefix and year (AIDE-2026-000123)."""

    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class ApplicantAccess(Base):
    """An applicant's doors, by e-mail address: links to their space and sessions opened with
    them carry the generation they were made in; closing every door ("se déconnecter de
    partout") moves to the next generation, and every earlier link and session stops working."""

    __tablename__ = "applicant_access"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
