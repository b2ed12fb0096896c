"""Bordereaux de mandats: built from issued acts, rendered once, signed as the order to pay.

`build` locks the chosen acts, so two finance officers building at once cannot list one
act twice, and takes the next number of the budget's bordereau series. The unsigned PDF is
rendered by a job ("render_bordereau") and stored once, like an act's. `sign` moves every
request along `sign` (the segregation rules refuse an officer who approved one of them),
signs the stored PDF (PAdES) and keeps both files. `discard` frees the acts of an open
bordereau; its number stays used. None of these commits: the caller does.
"""

import hashlib
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from forms_app import audit, payment_numbers, pdf, permissions, signing, storage
from forms_app.amount_words import amount_in_words
from forms_app.db import utcnow
from forms_app.formdefs.nc import format_xpf
from forms_app.models import (
    ActState,
    Bordereau,
    BordereauLine,
    BordereauState,
    PaymentAct,
    Role,
    Submission,
    User,
)
from workflows import outbox
from workflows.states import Action, TransitionError

RENDER_JOB = "render_bordereau"
SIGNING_LOCATION = "Nouméa"
NOUMEA = ZoneInfo("Pacific/Noumea")
# Acts that may be listed: issued, or rejected by the bank and presented again.
LISTABLE = frozenset({ActState.ISSUED.value, ActState.REJECTED.value})
# Header fields a bordereau copies from its acts' snapshots.
HEADER_KEYS = ("collectivite", "budget", "comptable", "service", "signataire")


class BordereauError(ValueError):
    """A bordereau cannot be built, signed or discarded as asked; the message is French.

    `status` is the HTTP status a view answers with: 409 when the state of things forbids it,
    400 or 422 when the request itself is wrong, 403 when the person may not do it.
    """

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def awaiting(session: Session) -> list[PaymentAct]:
    """The acts that may go on a bordereau now, by budget, year and number (one query)."""
    return list(
        session.scalars(
            select(PaymentAct)
            .where(PaymentAct.state.in_(LISTABLE), PaymentAct.bordereau_id.is_(None))
            .order_by(PaymentAct.budget_code, PaymentAct.year, PaymentAct.sequence)
        )
    )


def build(session: Session, act_ids: Iterable[int], user: User) -> Bordereau:
    """List the acts on a new open bordereau of their budget and year; queue its render."""
    _require_finance(user)
    ids = sorted(set(act_ids))
    if not ids:
        raise BordereauError(_("Sélectionnez au moins un acte de paiement."), 400)
    acts = _locked_acts(session, PaymentAct.id.in_(ids))
    if len(acts) != len(ids):
        raise BordereauError(_("Certains actes sélectionnés n’existent pas."), 422)
    acts.sort(key=lambda act: (act.year, act.sequence))
    taken = [act.number for act in acts if act.bordereau_id or act.state not in LISTABLE]
    if taken:
        raise BordereauError(
            _(
                "Ces actes ne peuvent plus être mis sur un bordereau (déjà sur un bordereau, "
                "signés, payés ou annulés) : %(numbers)s.",
                numbers=", ".join(taken),
            )
        )
    series = sorted({(act.details.get("budget") or act.budget_code, act.year) for act in acts})
    if len({(act.budget_code, act.year) for act in acts}) > 1:
        raise BordereauError(
            _(
                "Un bordereau ne porte que sur un budget et un exercice ; la sélection en "
                "mélange plusieurs : %(series)s.",
                series=" ; ".join(f"{label} {year}" for label, year in series),
            ),
            422,
        )
    unrendered = [act.number for act in acts if not act.pdf_sha256]
    if unrendered:
        raise BordereauError(
            _(
                "Le PDF de ces actes est encore en préparation : %(numbers)s. "
                "Réessayez dans quelques instants.",
                numbers=", ".join(unrendered),
            )
        )
    code, year = acts[0].budget_code, acts[0].year
    sequence, number = payment_numbers.next_number(session, payment_numbers.BORDEREAU, code, year)
    bordereau = Bordereau(
        number=number,
        budget_code=code,
        year=year,
        sequence=sequence,
        state=BordereauState.OPEN.value,
        act_count=len(acts),
        total=sum(act.amount for act in acts),
        details=_header(acts),
        created_by_id=user.id,
        created_at=utcnow(),
        lines=[
            BordereauLine(
                act=act, act_number=act.number, amount=act.amount, act_sha256=act.pdf_sha256
            )
            for act in acts
        ],
    )
    session.add(bordereau)
    for act in acts:
        act.bordereau = bordereau
    audit.record(
        session,
        bordereau,
        "build",
        user,
        to_state=BordereauState.OPEN.value,
        number=number,
        act_count=bordereau.act_count,
        total=bordereau.total,
        acts=[act.number for act in acts],
    )
    outbox.add(session, RENDER_JOB, bordereau_id=bordereau.id)
    return bordereau


def lines(session: Session, bordereau_id: int, *, requests: bool = False) -> list[BordereauLine]:
    """The bordereau's lines with their acts (and their requests), by act number."""
    load = selectinload(BordereauLine.act)
    if requests:
        load = load.selectinload(PaymentAct.submission)
    query = select(BordereauLine).where(BordereauLine.bordereau_id == bordereau_id)
    return list(session.scalars(query.options(load).order_by(BordereauLine.act_number)))


def render_bordereau_pdf(session: Session, bordereau_id: int) -> bytes:
    """The bordereau's unsigned PDF: rendered and stored the first time, read back after."""
    bordereau = session.get(Bordereau, bordereau_id)
    if bordereau is None:
        raise LookupError(f"no bordereau {bordereau_id}")
    if bordereau.pdf_key:
        return storage.read(bordereau.pdf_key)
    content = pdf.render(
        "bordereau.html",
        bordereau=bordereau,
        d=bordereau.details,
        lines=lines(session, bordereau_id),
        total=format_xpf(bordereau.total),
        total_words=amount_in_words(bordereau.total),
        built_on=bordereau.created_at.astimezone(NOUMEA).strftime("%d/%m/%Y"),
    )
    if not storage.store_once(session, bordereau, content, rendered_at=utcnow()):
        return storage.read(bordereau.pdf_key)  # another run stored its render first
    return content


def sign(session: Session, bordereau: Bordereau, user: User) -> Bordereau:
    """Sign an open, rendered bordereau as `user`: the order to pay each of its acts.

    Raises BordereauError, with every refused request named, before anything changes.
    """
    session.refresh(bordereau, with_for_update=True)
    if bordereau.state != BordereauState.OPEN:
        raise BordereauError(_("Ce bordereau n’est plus ouvert : il ne peut pas être signé."))
    if not bordereau.pdf_key:
        raise BordereauError(
            _("Le PDF du bordereau est en préparation : réessayez dans quelques instants.")
        )
    _locked_acts(session, PaymentAct.bordereau_id == bordereau.id)  # before their requests
    _locked_requests(session, bordereau.id)
    listed = lines(session, bordereau.id, requests=True)
    refusals: dict[str, list[str]] = {}
    for line in listed:
        act = line.act
        reason = permissions.refusal(user, Action.SIGN, act.submission)
        if reason is None and (act.state not in LISTABLE or act.bordereau_id != bordereau.id):
            reason = _("l’acte n’est plus sur ce bordereau ou a été annulé.")
        if reason is not None:
            refusals.setdefault(reason, []).append(act.submission.reference)
    if refusals:
        raise BordereauError(
            _(
                "Vous ne pouvez pas signer ce bordereau ; rien n’a été signé. %(reasons)s",
                reasons=" ".join(
                    f"{', '.join(dossiers)} : {reason}" for reason, dossiers in refusals.items()
                ),
            ),
            403,
        )
    try:
        signed = signing.sign_pdf(
            storage.read(bordereau.pdf_key),
            signer_name=user.name,
            reason=_(
                "Ordre de payer les mandats du bordereau n° %(number)s", number=bordereau.number
            ),
            location=SIGNING_LOCATION,
        )
    except signing.SigningError as error:
        raise BordereauError(str(error), 503) from error
    sha256 = hashlib.sha256(signed).hexdigest()
    now = utcnow()
    for line in listed:
        act = line.act
        try:
            act.submission.apply(session, Action.SIGN, user, locked=True)
        except TransitionError as error:  # changed since the checks; the caller rolls back
            raise BordereauError(
                _(
                    "La demande %(dossier)s a changé : rien n’a été signé.",
                    dossier=act.submission.reference,
                )
            ) from error
        audit.record(
            session,
            act,
            "sign",
            user,
            from_state=act.state,
            to_state=ActState.SIGNED.value,
            bordereau=bordereau.number,
        )
        act.state = ActState.SIGNED.value
    bordereau.signed_pdf_key = storage.store(signed, sha256)
    bordereau.signed_pdf_sha256 = sha256
    bordereau.signer_id = user.id
    bordereau.signed_at = now
    bordereau.state = BordereauState.SIGNED.value
    audit.record(
        session,
        bordereau,
        "sign",
        user,
        from_state=BordereauState.OPEN.value,
        to_state=BordereauState.SIGNED.value,
        sha256=sha256,
    )
    return bordereau


def discard(session: Session, bordereau: Bordereau, user: User, reason: str) -> None:
    """Abandon an open bordereau: its acts are free again, its number stays used."""
    _require_finance(user)
    reason = (reason or "").strip()
    if not reason:
        raise BordereauError(_("Indiquez le motif de l’abandon."), 400)
    session.refresh(bordereau, with_for_update=True)
    if bordereau.state != BordereauState.OPEN:
        raise BordereauError(_("Seul un bordereau ouvert, pas encore signé, peut être abandonné."))
    for act in _locked_acts(session, PaymentAct.bordereau_id == bordereau.id):
        act.bordereau_id = None
    bordereau.state = BordereauState.CANCELLED.value
    bordereau.cancelled_at = utcnow()
    bordereau.details = {**bordereau.details, "cancel_reason": reason, "cancelled_by": user.name}
    audit.record(
        session,
        bordereau,
        "discard",
        user,
        from_state=BordereauState.OPEN.value,
        to_state=BordereauState.CANCELLED.value,
        reason=reason,
    )


def _locked_acts(session: Session, *conditions) -> list[PaymentAct]:
    """Acts locked in id order (the same order for everyone: no deadlock), read afresh."""
    query = select(PaymentAct).where(*conditions).order_by(PaymentAct.id).with_for_update()
    return list(session.scalars(query.execution_options(populate_existing=True)))


def _locked_requests(session: Session, bordereau_id: int) -> None:
    """Lock the requests of the bordereau's acts in one statement, in id order, read afresh."""
    acts = select(PaymentAct.submission_id).where(PaymentAct.bordereau_id == bordereau_id)
    query = select(Submission).where(Submission.id.in_(acts)).order_by(Submission.id)
    session.scalars(query.with_for_update().execution_options(populate_existing=True)).all()


def _require_finance(user: User) -> None:
    if user is None or not user.has_role(Role.FINANCE):
        raise BordereauError(_("Seule la direction des finances peut signer et payer."), 403)


def _header(acts: list[PaymentAct]) -> dict:
    """What the bordereau prints above its list, from its acts' snapshots."""
    header = {}
    for key in HEADER_KEYS:
        values = dict.fromkeys(str(act.details.get(key) or "") for act in acts)
        header[key] = " ; ".join(value for value in values if value)
    header["exercice"] = acts[0].year
    return header
