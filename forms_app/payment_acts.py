"""Payment acts: issued by a job once a request is approved, rendered once, never changed.

`issue_act` (job "issue_payment_act", queued by the approval through the outbox) locks the
request, returns the live act if there is one (a job may run twice), else takes the next
number of the budget's series, snapshots what the act says, moves the request to act_issued
and queues the PDF render — all in the job's one transaction. `render_act_pdf` (job
"render_payment_act") renders outside any lock and stores the file with a conditional
UPDATE: the first stored PDF stays the act's PDF for good. The same job renders the act's
arrêté attributif (DOMAIN §6.3) from the same snapshot, once, recorded by an event on the act.

Finance cancels an act not yet on a bordereau (`cancel_act`): its number stays used, the
request goes back to approved, and `reissue` queues a new act, with the next number.
Locks are taken act first, then request, as the finance steps that start from acts do.
"""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app import act_snapshot, audit, payment_numbers, pdf, permissions, storage, webhooks
from forms_app.casework import CaseworkError, required_text
from forms_app.db import utcnow
from forms_app.formdefs import definition as definitions
from forms_app.models import (
    ActState,
    BordereauState,
    Event,
    OutboxMessage,
    OutboxStatus,
    PaymentAct,
    Role,
    Submission,
    User,
)
from forms_app.permissions import PermissionRefused
from workflows import outbox
from workflows.states import Action, State, TransitionError

ISSUE_JOB = "issue_payment_act"
RENDER_JOB = "render_payment_act"
DECISION_RENDERED = "render_decision"  # audited when the act's arrêté is stored
# An act finance may still cancel: not on a bordereau, payment not ordered or done.
CANCELLABLE = frozenset({ActState.ISSUED, ActState.REJECTED})


class ActError(CaseworkError):
    """An action on a payment act refused; str() is the French message to show."""


def queue_issue(session: Session, submission: Submission) -> None:
    """Queue the act of a request that was just approved, if it pays anything; no commit."""
    if act_snapshot.pays_anything(submission):
        outbox.add(session, ISSUE_JOB, submission_id=submission.id)


def live_act(session: Session, submission_id: int) -> PaymentAct | None:
    """The request's act that is not cancelled, if any."""
    return session.scalar(select(PaymentAct).where(PaymentAct.live_submission_id == submission_id))


def issue_act(
    session: Session, submission_id: int, *, now: datetime | None = None
) -> PaymentAct | None:
    """Issue the request's payment act (once); None when it has nothing to pay now.

    `now` (UTC) is the issue time, whose year in Nouméa is the act's exercice. The caller (the
    job's transaction) commits.
    """
    submission = session.get(
        Submission, submission_id, with_for_update=True, populate_existing=True
    )
    if submission is None:
        raise LookupError(f"no submission {submission_id}")
    existing = live_act(session, submission_id)
    if existing is not None:
        return existing
    if submission.state != State.APPROVED or not act_snapshot.pays_anything(submission):
        return None  # cancelled, voided or decided otherwise since the job was queued
    now = now or utcnow()
    snapshot = act_snapshot.take(session, submission, now)
    definition = definitions.of_version(submission.form_version)
    code = payment_numbers.budget_code(act_snapshot.budget_label(definition))
    year = snapshot["details"]["exercice"]
    # Taken last: the series row stays locked until the commit, so keep the rest short.
    sequence, number = payment_numbers.next_number(session, payment_numbers.MANDAT, code, year)
    act = PaymentAct(
        number=number,
        budget_code=code,
        year=year,
        sequence=sequence,
        submission_id=submission.id,
        live_submission_id=submission.id,
        form_id=submission.form_id,
        state=ActState.ISSUED.value,
        amount=submission.approved_amount,
        issued_at=now,
        **snapshot,
    )
    session.add(act)
    session.flush()
    submission.apply(
        session, Action.ISSUE_ACT, None, details={"act_id": act.id, "act_number": number}
    )
    event = audit.record(
        session,
        act,
        "issue",
        None,
        to_state=ActState.ISSUED.value,
        number=number,
        amount=act.amount,
        submission_id=submission.id,
    )
    webhooks.act_issued(session, act, event)
    outbox.add(session, RENDER_JOB, act_id=act.id)
    return act


def render_act_pdf(session: Session, act_id: int) -> bytes:
    """The act's PDF: rendered and stored the first time, read back every other time.

    The same job then makes sure the act's arrêté attributif exists (rendered once too).
    """
    act = session.get(PaymentAct, act_id)
    if act is None:
        raise LookupError(f"no payment act {act_id}")
    done = act.pdf_key and act.decision_pdf_key
    printed = None if done else act_snapshot.printed(act)  # what both documents print
    if act.pdf_key:
        content = storage.read(act.pdf_key)
    else:
        content = pdf.render("payment_act.html", **printed)
        if not storage.store_once(session, act, content, rendered_at=utcnow()):
            content = storage.read(act.pdf_key)  # another run stored its render first
    if act.decision_pdf_key is None:
        decision = pdf.render("decision.html", **printed)
        keys = {"key": "decision_pdf_key", "sha": "decision_pdf_sha256"}
        if storage.store_once(session, act, decision, **keys):
            audit.record(session, act, DECISION_RENDERED, None, sha256=act.decision_pdf_sha256)
    return content


def decision_record(act: PaymentAct) -> dict | None:
    """Where the act's arrêté attributif is stored ({key, sha256}), once rendered."""
    if act.decision_pdf_key is None:
        return None
    return {"key": act.decision_pdf_key, "sha256": act.decision_pdf_sha256}


def act_pdf(act: PaymentAct) -> bytes | None:
    """The stored PDF of an act, or None while it is being rendered."""
    return storage.read(act.pdf_key) if act.pdf_key else None


def filename(act: PaymentAct) -> str:
    return f"mandat-{act.number}.pdf"


# -- Cancelling and issuing again -----------------------------------------------------------


def cancel_refusal(user: User | None, act: PaymentAct) -> str | None:
    """None when `user` may cancel `act` now, else the French reason why not."""
    if act.state == ActState.CANCELLED:
        return _("Cet acte de paiement est déjà annulé.")
    if act.state not in CANCELLABLE:
        return _("Le paiement de cet acte est ordonné ou effectué : il ne peut plus être annulé.")
    if user is None or not user.has_role(Role.FINANCE):
        return _("Seule la direction des finances peut annuler un acte de paiement.")
    reason = permissions.refusal(user, Action.CANCEL_ACT, act.submission)
    if reason is not None:
        return reason
    return bordereau_refusal(act)


def bordereau_refusal(act: PaymentAct) -> str | None:
    """Why an act on a bordereau cannot be cancelled, or None when it is on none."""
    bordereau = act.bordereau
    if bordereau is None:
        return None
    if bordereau.state == BordereauState.OPEN:
        return _(
            "L’acte n° %(act)s figure sur le bordereau n° %(number)s en préparation : "
            "retirez-le du bordereau (ou abandonnez le bordereau) avant de l’annuler.",
            act=act.number,
            number=bordereau.number,
        )
    return _(
        "L’acte n° %(act)s figure sur le bordereau n° %(number)s signé : son paiement est "
        "ordonné, il ne peut plus être annulé.",
        act=act.number,
        number=bordereau.number,
    )


def cancel_act(session: Session, act: PaymentAct, user: User, reason: str) -> Event:
    """Cancel an act (finance), with a reason: the request goes back to approved.

    The number stays used. Returns the request's cancel_act event; the act has its own.
    The caller commits.
    """
    reason = required_text(reason, _("Indiquez pourquoi l’acte de paiement est annulé."))
    session.flush()
    session.refresh(act, with_for_update=True)
    session.refresh(act.submission, with_for_update=True)
    refusal = cancel_refusal(user, act)
    if refusal is not None:
        raise ActError(refusal)
    submission = act.submission
    try:
        event = submission.apply(
            session,
            Action.CANCEL_ACT,
            user,
            reason=reason,
            details={"act_id": act.id, "act_number": act.number},
        )
    except PermissionRefused as error:
        raise ActError(error.reason) from error
    except TransitionError as error:
        raise ActError(_("Cette action n’est pas possible dans l’état de la demande.")) from error
    record_cancellation(session, act, user, reason)
    return event


def lock_live_act(session: Session, submission_id: int) -> PaymentAct | None:
    """The request's live act, locked (before the request, the order finance locks in)."""
    act = live_act(session, submission_id)
    if act is not None:
        session.refresh(act, with_for_update=True)
    return act


def cancel_with_request(session: Session, act: PaymentAct, user: User, reason: str) -> Event:
    """Cancel the live act of a request being cancelled; refused once on a bordereau.

    The request's own cancel transition is the caller's (`casework.cancel`).
    """
    bordereau = act.bordereau
    if bordereau is not None and bordereau.state == BordereauState.OPEN:
        raise ActError(
            _(
                "L’acte de paiement n° %(act)s de cette demande figure sur le bordereau "
                "n° %(number)s en préparation : la direction des finances doit l’en retirer "
                "avant que la demande puisse être annulée.",
                act=act.number,
                number=bordereau.number,
            )
        )
    if bordereau is not None or act.state not in CANCELLABLE:
        raise ActError(
            _(
                "Le paiement de cette demande est ordonné (acte de paiement n° %(act)s) : "
                "elle ne peut plus être annulée.",
                act=act.number,
            )
        )
    return record_cancellation(session, act, user, reason)


def record_cancellation(session: Session, act: PaymentAct, user: User, reason: str) -> Event:
    """Mark the act cancelled (its number stays used) and audit it on the act."""
    previous = act.state
    act.state = ActState.CANCELLED.value
    act.cancelled_at = utcnow()
    act.cancelled_by_id = user.id
    act.cancel_reason = reason
    act.live_submission_id = None
    return audit.record(
        session,
        act,
        "cancel",
        user,
        from_state=previous,
        to_state=ActState.CANCELLED.value,
        reason=reason,
        number=act.number,
        submission_id=act.submission_id,
    )


def reissue_refusal(session: Session, user: User | None, submission: Submission) -> str | None:
    """None when `user` may ask for a new act for `submission` now, else why not."""
    if user is None or not user.is_active or not user.has_role(Role.FINANCE):
        return _("Seule la direction des finances peut demander un nouvel acte de paiement.")
    if permissions.is_own(user, submission):
        return _("Vous ne pouvez pas traiter une demande que vous avez déposée vous-même.")
    act = live_act(session, submission.id)
    if act is not None:
        return _(
            "Cette demande a déjà un acte de paiement en cours (n° %(number)s).", number=act.number
        )
    if submission.state != State.APPROVED:
        return _("Un nouvel acte de paiement ne peut être demandé que pour une demande acceptée.")
    if _issue_waiting(session, submission.id):
        return _("Un acte de paiement est déjà en préparation pour cette demande.")
    if not act_snapshot.pays_anything(submission):
        return _(
            "Cette demande n’a pas de montant à payer ou pas de coordonnées bancaires : "
            "aucun acte de paiement ne peut être établi."
        )
    return None


def _issue_waiting(session: Session, submission_id: int) -> bool:
    """Whether an issue job for the request is still to run (a failed one is not)."""
    waiting = (OutboxStatus.PENDING, OutboxStatus.ENQUEUED, OutboxStatus.RUNNING)
    found = session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.job == ISSUE_JOB, OutboxMessage.status.in_(waiting))
        .where(OutboxMessage.args["submission_id"].as_integer() == submission_id)
        .limit(1)
    )
    return found is not None


def reissue(session: Session, submission: Submission, user: User) -> Event:
    """Queue a new act for an approved request that has none (finance); audited.

    The job numbers it when it runs; while it waits, asking again is refused. The caller
    commits.
    """
    session.flush()
    session.refresh(submission, with_for_update=True)
    refusal = reissue_refusal(session, user, submission)
    if refusal is not None:
        raise ActError(refusal)
    outbox.add(session, ISSUE_JOB, submission_id=submission.id)
    return audit.record(session, submission, "request_act", user)
