"""The transactional outbox: jobs written with the change that causes them."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from forms_app.db import Base, UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    """Where an outbox message is on its way to being done exactly once."""

    PENDING = "pending"  # committed, not (or no longer) on the queue
    ENQUEUED = "enqueued"  # pushed to RQ
    RUNNING = "running"  # claimed by a worker
    DONE = "done"
    FAILED = "failed"  # gave up after OUTBOX_MAX_ATTEMPTS; an admin may retry it


class OutboxMessage(Base):
    """A job to run after the transaction that wrote it commits."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def rq_job_id(self) -> str:
        return f"outbox-{self.id}"
