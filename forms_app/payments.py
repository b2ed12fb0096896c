"""How the transfers of a signed bordereau end: paid, or rejected by the bank.

Finance records the outcome three ways: every pending transfer paid on a date (`mark_paid`),
one transfer rejected with the bank's reason (`reject_act`), or the bank's return file
(`import_return`, format in docs/payment-files.md). Each runs in the caller's transaction,
the bordereau row locked first, with the requests moved through `submission.apply` (pay,
reject_payment) and audit events for the acts and the bordereau. A rejected act leaves the
bordereau: it is again among the acts finance can put on a new one (or cancel). Once no line
is pending, the bordereau is paid.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app import audit, bank_returns, webhooks
from forms_app.bank_returns import Row
from forms_app.db import utcnow
from forms_app.models import (
    ActState,
    Bordereau,
    BordereauLine,
    BordereauState,
    LineStatus,
    PaymentAct,
    User,
)
from forms_app.payment_files import NOUMEA, local_date
from workflows.states import Action, TransitionError


class PaymentError(Exception):
    """The bordereau or the act is not in a state that allows this (French message)."""


class PaymentInputError(PaymentError):
    """What finance entered cannot be right (a date, a reason); French message."""


@dataclass
class ImportResult:
    """What a bank return file did: counts, or every error (and then nothing changed)."""

    paid: int = 0
    rejected: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The flash message: "12 payés, 1 rejeté", and how many were already recorded."""
        parts = []
        if self.paid:
            parts.append(ngettext("%(num)s payé", "%(num)s payés", self.paid))
        if self.rejected:
            parts.append(ngettext("%(num)s rejeté", "%(num)s rejetés", self.rejected))
        if self.unchanged:
            parts.append(
                ngettext("%(num)s déjà enregistré", "%(num)s déjà enregistrés", self.unchanged)
            )
        return ", ".join(parts)


def mark_paid(session: Session, bordereau: Bordereau, user: User, paid_on: date) -> int:
    """Record every pending transfer of the bordereau as paid on `paid_on`; how many. No commit."""
    lines = _pending(session, bordereau)
    _check_date(bordereau, paid_on)
    now = utcnow()
    for line in lines:
        _pay(session, line, user, paid_on, now)
    _settle(session, bordereau, user, paid_on, now)
    return len(lines)


def reject_act(
    session: Session, bordereau: Bordereau, act: PaymentAct, user: User, reason: str
) -> None:
    """Record that the bank rejected this act's transfer; it goes back to finance. No commit."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise PaymentInputError(_("Indiquez le motif du rejet."))
    if len(reason) > bank_returns.REASON_MAX:
        raise PaymentInputError(_("Le motif ne doit pas dépasser 2 000 caractères."))
    lines = {line.act_id: line for line in _pending(session, bordereau, allow_none=True)}
    line = lines.get(act.id)
    if line is None:
        raise PaymentError(
            _(
                "Le mandat %(number)s n’est pas en attente de paiement sur ce bordereau.",
                number=act.number,
            )
        )
    today = datetime.now(NOUMEA).date()
    now = utcnow()
    _reject(session, line, user, reason, today, now)
    _settle(session, bordereau, user, today, now)


def import_return(
    session: Session, bordereau: Bordereau, user: User, csv_bytes: bytes
) -> ImportResult:
    """Apply a bank return file: all of it, or nothing and every error with its line number.

    Importing the same file again changes nothing: lines already settled the same way are
    counted as unchanged; a settled line the file settles otherwise is an error. No commit.
    """
    _lock(session, bordereau)
    result = ImportResult()
    if bordereau.state not in (BordereauState.SIGNED, BordereauState.PAID):
        result.errors.append(_("Ce bordereau n’est pas signé : aucun paiement n’a été ordonné."))
        return result
    rows, errors = bank_returns.parse(csv_bytes)
    lines = {line.act_number: line for line in _lines(session, bordereau)}
    todo: list[tuple[Row, BordereauLine]] = []
    for row in rows:
        line = lines.get(row.number)
        row_errors = _row_errors(session, bordereau, row, line)
        errors += [(row.line_no, error) for error in row_errors]
        if row_errors or line is None:
            continue
        if line.status == row.status:
            result.unchanged += 1
        else:
            todo.append((row, line))
    if errors:
        return ImportResult(
            errors=[message for _line, message in sorted(errors, key=itemgetter(0))]
        )
    now = utcnow()
    for row, line in todo:
        if row.status == LineStatus.PAID:
            _pay(session, line, user, row.on, now)
            result.paid += 1
        else:
            _reject(session, line, user, row.reason, row.on, now)
            result.rejected += 1
    if todo:
        dates = [row.on for row, _line in todo if row.status == LineStatus.PAID]
        _settle(session, bordereau, user, max(dates or [row.on for row, _line in todo]), now)
        audit.record(
            session,
            bordereau,
            "import_return",
            user,
            sha256=hashlib.sha256(csv_bytes).hexdigest(),
            paid=result.paid,
            rejected=result.rejected,
            unchanged=result.unchanged,
        )
    return result


def _row_errors(
    session: Session, bordereau: Bordereau, row: Row, line: BordereauLine | None
) -> list[str]:
    """What is wrong with a row of a return file, given the bordereau line it names."""
    where = bank_returns.at(row.line_no)
    errors = []
    if row.on > datetime.now(NOUMEA).date():
        errors.append(_("%(where)s : la date est dans le futur.", where=where))
    elif row.on < local_date(bordereau.signed_at):
        errors.append(_("%(where)s : la date précède la signature du bordereau.", where=where))
    if line is None:
        errors.append(_unknown(session, bordereau, row, where))
    elif line.status not in (LineStatus.PENDING, row.status):
        errors.append(
            _(
                "%(where)s : le mandat %(number)s est déjà enregistré comme %(status)s.",
                where=where,
                number=row.number,
                status=_("payé") if line.status == LineStatus.PAID else _("rejeté"),
            )
        )
    return errors


def _unknown(session: Session, bordereau: Bordereau, row: Row, where: str) -> str:
    found = session.scalar(
        select(PaymentAct.id).where(
            PaymentAct.number == row.number, PaymentAct.budget_code == bordereau.budget_code
        )
    )
    if found is None:
        return _("%(where)s : le mandat %(number)s est inconnu.", where=where, number=row.number)
    return _(
        "%(where)s : le mandat %(number)s n’est pas sur ce bordereau.",
        where=where,
        number=row.number,
    )


def _lock(session: Session, bordereau: Bordereau) -> None:
    """Re-read the bordereau under a row lock: concurrent recordings queue behind each other."""
    session.flush()
    session.refresh(bordereau, with_for_update=True)


def _lines(session: Session, bordereau: Bordereau) -> list[BordereauLine]:
    return list(
        session.scalars(
            select(BordereauLine)
            .where(BordereauLine.bordereau_id == bordereau.id)
            .order_by(BordereauLine.act_number)
            .execution_options(populate_existing=True)
        )
    )


def _pending(session: Session, bordereau: Bordereau, *, allow_none: bool = False) -> list:
    """The pending lines of a signed bordereau, locked; PaymentError if it is not signed."""
    _lock(session, bordereau)
    if bordereau.state == BordereauState.PAID:
        raise PaymentError(_("Ce bordereau est déjà payé : tous ses virements sont enregistrés."))
    if bordereau.state != BordereauState.SIGNED:
        raise PaymentError(_("Ce bordereau n’est pas signé : aucun paiement n’a été ordonné."))
    lines = [line for line in _lines(session, bordereau) if line.status == LineStatus.PENDING]
    if not lines and not allow_none:
        raise PaymentError(_("Aucun virement de ce bordereau n’est en attente."))
    return lines


def _check_date(bordereau: Bordereau, paid_on: date) -> None:
    if paid_on > datetime.now(NOUMEA).date():
        raise PaymentInputError(_("La date de paiement ne peut pas être dans le futur."))
    if paid_on < local_date(bordereau.signed_at):
        raise PaymentInputError(
            _("La date de paiement ne peut pas précéder la signature du bordereau.")
        )


def _move(session: Session, act: PaymentAct, action: Action, user: User, reason=None):
    """Move the act's request along `action`; PaymentError with the reason if refused."""
    try:
        act.submission.apply(
            session,
            action,
            user,
            reason=reason,
            details={"act_id": act.id, "act_number": act.number},
        )
    except TransitionError as exc:
        refusal = getattr(exc, "reason", None)
        raise PaymentError(
            refusal
            or _(
                "La demande %(reference)s ne peut plus être payée ni rejetée dans son état.",
                reference=act.submission.reference,
            )
        ) from None


def _pay(session: Session, line: BordereauLine, user: User, on: date, now) -> None:
    act = line.act
    _move(session, act, Action.PAY, user)
    line.status, line.settled_at = LineStatus.PAID.value, now
    act.state, act.paid_at = ActState.PAID.value, now
    event = audit.record(
        session,
        act,
        "pay",
        user,
        from_state=ActState.SIGNED.value,
        to_state=ActState.PAID.value,
        bordereau_id=line.bordereau_id,
        paid_on=on.isoformat(),
    )
    webhooks.act_paid(session, act, event)


def _reject(session: Session, line: BordereauLine, user: User, reason: str, on: date, now):
    act = line.act
    _move(session, act, Action.REJECT_PAYMENT, user, reason=reason)
    line.status, line.reason, line.settled_at = LineStatus.REJECTED.value, reason, now
    act.state, act.rejection_reason, act.bordereau_id = ActState.REJECTED.value, reason, None
    audit.record(
        session,
        act,
        "reject_payment",
        user,
        from_state=ActState.SIGNED.value,
        to_state=ActState.REJECTED.value,
        bordereau_id=line.bordereau_id,
        rejected_on=on.isoformat(),
        reason=reason,
    )


def _settle(session: Session, bordereau: Bordereau, user: User, on: date, now) -> None:
    """Mark the bordereau paid once none of its lines is pending (paid_on: the last date)."""
    lines = _lines(session, bordereau)
    if any(line.status == LineStatus.PENDING for line in lines):
        return
    bordereau.state = BordereauState.PAID.value
    bordereau.paid_on, bordereau.paid_at = on, now
    audit.record(
        session,
        bordereau,
        "pay",
        user,
        from_state=BordereauState.SIGNED.value,
        to_state=BordereauState.PAID.value,
        paid_on=on.isoformat(),
        paid=sum(line.status == LineStatus.PAID for line in lines),
        rejected=sum(line.status == LineStatus.REJECTED for line in lines),
    )
