"""The end of the chain: payment acts (mandats), the bordereaux that list them, their numbers.

An act is numbered once, in a gap-free annual series per budget, and never renumbered: a
cancelled act keeps its number. A bordereau lists acts of one budget and one year; its
signature is the order to pay (DOMAIN §1.4). Lines keep what each bordereau listed and how each
payment ended, so an act rejected by the bank and presented again has both stories.
"""

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow
from forms_app.models.form import JSONType


class NumberSeries(Base):
    """The last number handed out per kind ("mandat", "bordereau"), budget and year."""

    __tablename__ = "number_series"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    budget_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class ActState(enum.StrEnum):
    ISSUED = "issued"  # numbered and rendered; waits for a bordereau and its signature
    SIGNED = "signed"  # on a signed bordereau: payment ordered
    PAID = "paid"
    REJECTED = "rejected"  # the bank returned the transfer; finance presents it again or cancels
    CANCELLED = "cancelled"  # before payment, with a reason; the number stays used


class PaymentAct(Base):
    """A mandat de paiement: one beneficiary, one amount, a snapshot of what it was issued on."""

    __tablename__ = "payment_act"
    __table_args__ = (
        UniqueConstraint("budget_code", "year", "sequence"),
        Index("ix_payment_act_state_form_id", "state", "form_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))  # 2026-000001
    budget_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    sequence: Mapped[int]
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    # Equal to submission_id until the act is cancelled: one live act per request.
    live_submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), unique=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id"))
    state: Mapped[str] = mapped_column(String(20), default=ActState.ISSUED.value)
    amount: Mapped[int] = mapped_column(BigInteger)
    # Snapshots taken at issue: the act says what it said, whatever changes later.
    beneficiary: Mapped[dict[str, Any]] = mapped_column(JSONType)  # name, ridet, address, email
    bank: Mapped[dict[str, Any]] = mapped_column(JSONType)  # holder, iban, bic, domiciliation
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)  # every other printed field
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_key: Mapped[str | None] = mapped_column(String(200))
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The arrêté attributif rendered from the same snapshot, by the same job, once.
    decision_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    decision_pdf_key: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bordereau_id: Mapped[int | None] = mapped_column(ForeignKey("bordereau.id"), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped["Submission"] = relationship(foreign_keys=[submission_id])  # noqa: F821
    form: Mapped["Form"] = relationship()  # noqa: F821
    bordereau: Mapped["Bordereau | None"] = relationship(foreign_keys=[bordereau_id])
    cancelled_by: Mapped["User | None"] = relationship()  # noqa: F821


class BordereauState(enum.StrEnum):
    OPEN = "open"  # built, not signed: its PDF is rendered by a job, then it can be signed
    SIGNED = "signed"  # the order to pay
    PAID = "paid"  # every line settled (paid or rejected)
    CANCELLED = "cancelled"  # discarded before signature; its acts are free again


class Bordereau(Base):
    """A bordereau de mandats: the list finance signs; its signature orders the payments."""

    __tablename__ = "bordereau"
    __table_args__ = (UniqueConstraint("budget_code", "year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    budget_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    sequence: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default=BordereauState.OPEN.value, index=True)
    act_count: Mapped[int]
    total: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The unsigned document, rendered by a job; then the signed one, made from it.
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_key: Mapped[str | None] = mapped_column(String(200))
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_pdf_key: Mapped[str | None] = mapped_column(String(200))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_on: Mapped[date | None]
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    signer: Mapped["User | None"] = relationship(foreign_keys=[signer_id])  # noqa: F821
    lines: Mapped[list["BordereauLine"]] = relationship(
        back_populates="bordereau", order_by="BordereauLine.act_number"
    )


class LineStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REJECTED = "rejected"


class BordereauLine(Base):
    """One act on one bordereau, as listed (number, amount, PDF hash) and how it ended."""

    __tablename__ = "bordereau_line"

    bordereau_id: Mapped[int] = mapped_column(ForeignKey("bordereau.id"), primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("payment_act.id"), primary_key=True, index=True)
    act_number: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    act_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=LineStatus.PENDING.value)
    reason: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bordereau: Mapped[Bordereau] = relationship(back_populates="lines")
    act: Mapped[PaymentAct] = relationship()
