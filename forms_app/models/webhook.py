"""Signed webhooks: the subscriptions admins make for other systems, and each delivery to them."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow
from forms_app.models.form import JSONType, enum_column


class WebhookSubscription(Base):
    """Another system's URL that hears of events, on one form or every form (`form_id` None).

    The signing secret is kept as it was generated: signing needs it in clear. It is shown once,
    at creation, and never again (see docs/api.md, "Webhooks").
    """

    __tablename__ = "webhook_subscription"
    # The fan-out's one query: the active subscriptions of a form and those of every form.
    __table_args__ = (Index("ix_webhook_subscription_active_form_id", "active", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("form.id"))
    # Among forms_app.webhooks.EVENT_TYPES.
    event_types: Mapped[list[str]] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    form: Mapped["Form | None"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship()  # noqa: F821


class DeliveryStatus(enum.StrEnum):
    """Where a delivery is: waiting for its (next) attempt, received, or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"  # a 2xx answer: never sent again, unless an admin redelivers it
    FAILED = "failed"  # no 2xx after WEBHOOK_MAX_ATTEMPTS; an admin may redeliver it


class WebhookDelivery(Base):
    """One event for one subscription: the body as sent (and signed) at every attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # The delivery log: newest first, per subscription or per status.
        Index("ix_webhook_delivery_subscription_id_id", "subscription_id", "id"),
        Index("ix_webhook_delivery_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    # The audit event the delivery tells of.
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    # The JSON body, compact with sorted keys, exactly as sent: a redelivery sends these bytes.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_http_status: Mapped[int | None]
    # Why the last attempt failed: the status and at most a short, capped piece of the answer.
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscription: Mapped[WebhookSubscription] = relationship()
