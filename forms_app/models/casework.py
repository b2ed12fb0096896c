"""What staff add to a request while working it: flags, approvals, private notes."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow


class Flag(Base):
    """A duplicate or fraud signal raised by the checks run on submission.

    `key` names what was compared (e.g. the RID, the IBAN), so the same signal is raised
    once per pair however often the checks run; `other_submission_id` links the other request.
    """

    __tablename__ = "flag"
    __table_args__ = (UniqueConstraint("submission_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30), index=True)
    key: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(String(300))
    other_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    other_submission: Mapped["Submission | None"] = relationship(  # noqa: F821
        foreign_keys=[other_submission_id]
    )


class Approval(Base):
    """One approver's approval of a proposal; voided when the bank details change after it."""

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    approver_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    # SHA-256 of the normalised bank details approved; a different one voids the approval.
    bank_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    approver: Mapped["User"] = relationship()  # noqa: F821


class Note(Base):
    """A private note agents leave on a request; never shown to the applicant."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped["User | None"] = relationship()  # noqa: F821
