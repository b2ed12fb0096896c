"""The thread between an applicant and the agents about one submission."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow
from forms_app.models.form import enum_column


class MessageAuthor(enum.StrEnum):
    """Who wrote a message: the applicant (no account) or a staff member."""

    APPLICANT = "applicant"
    AGENT = "agent"


class Message(Base):
    """One message of a submission's thread, with the files sent along with it."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[MessageAuthor] = mapped_column(enum_column(MessageAuthor))
    # The staff member who wrote it (None for the applicant, or once that account is gone).
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the other side first saw it.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped["Submission"] = relationship()  # noqa: F821
    author_user: Mapped["User | None"] = relationship()  # noqa: F821
    attachments: Mapped[list["Attachment"]] = relationship(  # noqa: F821
        back_populates="message", order_by="Attachment.id"
    )
