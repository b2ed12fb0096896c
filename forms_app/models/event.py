"""The append-only audit log: who did what to which record, when."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow
from forms_app.models.form import JSONType


class Event(Base):
    """One audited action, written in the same transaction as the change it records."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_subject", "subject_type", "subject_id", "id"),
        Index("ix_event_created_at", "created_at"),  # dashboards: agents' throughput
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(50))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped["User | None"] = relationship()  # noqa: F821
