"""Access for other systems: API tokens and the answers kept for idempotency keys."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow
from forms_app.models.form import JSONType

# The forms a token may see (unless it sees them all).
api_token_form = Table(
    "api_token_form",
    Base.metadata,
    Column("token_id", ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True),
    Column("form_id", ForeignKey("form.id", ondelete="CASCADE"), primary_key=True),
)


class ApiToken(Base):
    """A bearer token an admin made for another system; it acts as one staff account.

    Only the SHA-256 of the secret is kept (the secret is shown once, at creation); `prefix`
    (the secret's first characters) names it in lists and logs. Its reach is the staff
    account's roles, narrowed to `forms` (unless `all_forms`) and to reading unless `write`.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    write: Mapped[bool] = mapped_column(default=False)
    all_forms: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    forms: Mapped[list["Form"]] = relationship(  # noqa: F821
        secondary=api_token_form, order_by="Form.slug"
    )


class IdempotentAnswer(Base):
    """What an action answered, kept under the client's Idempotency-Key for replays."""

    __tablename__ = "idempotent_answer"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    # The method, path and body the key was first used with: another request is refused.
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
