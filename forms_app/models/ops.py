"""Operating through trouble: announcements, deadline extensions, problem reports, evidence."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow
from forms_app.models.form import Form, enum_column


class AnnouncementLevel(enum.StrEnum):
    INFO = "info"
    DEGRADED = "degraded"  # the service works, with trouble
    UNAVAILABLE = "unavailable"


class Announcement(Base):
    """A banner shown on public pages and in e-mails between its start and end times."""

    __tablename__ = "announcement"
    __table_args__ = (Index("ix_announcement_window", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[AnnouncementLevel] = mapped_column(enum_column(AnnouncementLevel))
    message: Mapped[str] = mapped_column(Text)
    # None: every page; otherwise the pages (and e-mails) of one form.
    form_id: Mapped[int | None] = mapped_column(ForeignKey("form.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until ended
    # Set when the banner announces a granted deadline extension.
    extension_id: Mapped[int | None] = mapped_column(
        ForeignKey("deadline_extension.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    form: Mapped[Form | None] = relationship()
    created_by: Mapped["User | None"] = relationship()  # noqa: F821

    def is_active(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


class ExtensionStatus(enum.StrEnum):
    PROPOSED = "proposed"  # by the platform, from a detected outage window
    GRANTED = "granted"
    DECLINED = "declined"


class DeadlineExtension(Base):
    """A later closing date for a form, or for one applicant's drafts (force majeure)."""

    __tablename__ = "deadline_extension"
    __table_args__ = (Index("ix_deadline_extension_form_status", "form_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id", ondelete="CASCADE"))
    status: Mapped[ExtensionStatus] = mapped_column(enum_column(ExtensionStatus))
    # Set for an individual extension: it applies to this applicant's drafts only.
    applicant_email: Mapped[str | None] = mapped_column(String(254))
    previous_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    # The detected outage window a proposal comes from.
    outage_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outage_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None for the platform's own proposals.
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Applicants e-mailed about it (distinct draft holders).
    notified_count: Mapped[int] = mapped_column(default=0, server_default="0")

    form: Mapped[Form] = relationship()
    proposed_by: Mapped["User | None"] = relationship(foreign_keys=[proposed_by_id])  # noqa: F821
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])  # noqa: F821


class ReportStatus(enum.StrEnum):
    NEW = "new"
    ANSWERED = "answered"
    CLOSED = "closed"


class ProblemReport(Base):
    """What a visitor reported through "Signaler un problème"."""

    __tablename__ = "problem_report"
    __table_args__ = (Index("ix_problem_report_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("form.id", ondelete="SET NULL"))
    page: Mapped[str] = mapped_column(String(500))  # the path the visitor came from
    description: Mapped[str] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus), default=ReportStatus.NEW
    )
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    form: Mapped[Form | None] = relationship()
    answered_by: Mapped["User | None"] = relationship()  # noqa: F821


class Heartbeat(Base):
    """One beat of a worker process (one a minute): gaps are evidence of trouble."""

    __tablename__ = "heartbeat"
    __table_args__ = (Index("ix_heartbeat_beat_at", "beat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))  # host:pid
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpsCounter(Base):
    """A count per 15-minute bucket (UTC start) and name: requests, 5xx answers, failures."""

    __tablename__ = "ops_counter"

    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
