"""Forms and their immutable published versions."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow

JSONType = JSON().with_variant(JSONB(), "postgresql")


def enum_column(enum_class: type[enum.Enum]) -> Enum:
    """A portable enum column storing the values (not the names), checked by the app."""
    return Enum(
        enum_class, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class FormStatus(enum.StrEnum):
    DRAFT = "draft"  # never published
    PUBLISHED = "published"  # a version is live (open between opens_at and closes_at)
    CLOSED = "closed"  # no new submissions; existing ones are processed
    ARCHIVED = "archived"  # hidden from lists


class Form(Base):
    """A procedure: its working draft, its published versions, its opening window."""

    __tablename__ = "form"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[FormStatus] = mapped_column(enum_column(FormStatus), default=FormStatus.DRAFT)
    draft: Mapped[dict[str, Any]] = mapped_column(JSONType)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("form_version.id", use_alter=True, ondelete="SET NULL")
    )
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Retention (forms_app.retention): how long a draft lives after its last save, and how
    # long a request is kept once ended before it is anonymised; None: the platform's default.
    draft_lifetime_days: Mapped[int | None]
    retention_months: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    current_version: Mapped["FormVersion | None"] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    versions: Mapped[list["FormVersion"]] = relationship(
        back_populates="form",
        foreign_keys="FormVersion.form_id",
        order_by="FormVersion.number",
        cascade="all, delete-orphan",
    )

    @property
    def title(self) -> str:
        return self.draft.get("title", self.slug)

    def is_open(self, now: datetime) -> bool:
        """Whether applicants may submit right now."""
        return (
            self.status is FormStatus.PUBLISHED
            and self.current_version_id is not None
            and (self.opens_at is None or self.opens_at <= now)
            and (self.closes_at is None or now < self.closes_at)
        )


class FormVersion(Base):
    """A published definition; never changed once written. Submissions pin one."""

    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id", ondelete="CASCADE"))
    number: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    form: Mapped[Form] = relationship(back_populates="versions", foreign_keys=[form_id])
    published_by: Mapped["User | None"] = relationship()  # noqa: F821
