"""Deciding proposals: approve (four eyes above the threshold), send back, reject, batches.

Each approval is an `Approval` row holding a fingerprint of the bank details it saw; changing
those details voids the standing approvals and, once approved, moves the request back to
proposed. An approval that would overrun the form's budget envelope is refused. The caller
commits; these are also importable from `forms_app.casework`.
"""

import hashlib
import unicodedata

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from forms_app import audit, budget, payment_acts, permissions
from forms_app.casework import (
    CaseworkError,
    begin,
    move,
    required_text,
    touch,
    void_approvals,
)
from forms_app.formdefs import banking
from forms_app.formdefs import definition as definitions
from forms_app.formdefs.definition import FormDefinition
from forms_app.formdefs.nc import InvalidValue, format_xpf
from forms_app.models import Approval, Event, Submission, User
from forms_app.permissions import CHANGE_BANK_DETAILS
from workflows import outbox
from workflows.states import Action, State

# The holder field: settings.account_holder_field, else one of the demo forms' keys, else a
# text field whose key says "titulaire" or "holder".
HOLDER_KEYS = ("titulaire_compte", "aide_titulaire")
MAX_HOLDER = 200


def approve(
    session: Session,
    submission: Submission,
    user: User,
    revision: int,
    committed: dict[int, int] | None = None,
) -> bool:
    """Approve the proposal; True when the request is now decided, False when a second
    approver is still needed (above the form's threshold).

    A proposal to reject, once approved, ends in state rejected. `committed` (form id →
    amount approved) carries the envelope's running total across the approvals of one
    transaction, whose first approval on a form locks it (see `batch_approve`).
    """
    begin(session, submission, user, Action.APPROVE, revision)
    accept = submission.proposal == "accept"
    amount = submission.proposed_amount if accept else None
    committed = {} if committed is None else committed
    if accept:
        _check_envelope(session, submission, amount or 0, committed)
    fingerprint = bank_fingerprint(submission)
    others = permissions.approver_ids(submission, fingerprint) - {user.id}
    required = permissions.required_approvals(submission)
    count = len(others) + 1
    decided = count >= required
    if decided and accept:
        move(session, submission, user, Action.APPROVE, amount=amount, approvals=count)
        submission.approved_amount = amount
        committed[submission.form_id] += amount or 0
        payment_acts.queue_issue(session, submission)
    elif decided:
        move(
            session,
            submission,
            user,
            Action.REJECT,
            reason=submission.decision_reason,
            proposal="reject",
            approvals=count,
        )
    else:
        touch(submission)
        audit.record(
            session, submission, "approval", user, amount=amount, approvals=1, required=required
        )
    # Added after the move: the rules would otherwise see this approver as approving twice.
    session.add(
        Approval(
            submission_id=submission.id,
            approver_id=user.id,
            amount=amount,
            bank_fingerprint=fingerprint,
        )
    )
    session.flush()
    return decided


def send_back(
    session: Session, submission: Submission, user: User, revision: int, reason: str
) -> Event:
    """Return the proposal to the reviewer (state in_review) with a reason."""
    reason = required_text(reason, _("Indiquez pourquoi la proposition est renvoyée."))
    begin(session, submission, user, Action.SEND_BACK, revision)
    event = move(
        session,
        submission,
        user,
        Action.SEND_BACK,
        reason=reason,
        proposal=submission.proposal,
        amount=submission.proposed_amount,
    )
    void_approvals(session, submission)
    submission.proposal = None
    submission.proposed_amount = None
    submission.decision_reason = None
    return event


def reject(
    session: Session, submission: Submission, user: User, revision: int, reason: str
) -> Event:
    """Refuse the request (whatever was proposed), with a reason."""
    reason = required_text(reason, _("Indiquez le motif du refus."))
    begin(session, submission, user, Action.REJECT, revision)
    event = move(
        session, submission, user, Action.REJECT, reason=reason, proposal=submission.proposal
    )
    submission.decision_reason = reason
    submission.approved_amount = None
    return event


def batch_approve(
    session: Session, items: list[tuple[Submission, int]], user: User
) -> list[tuple[str, str | None]]:
    """Approve each (request, revision) in its own savepoint; a failure stops only its item.

    Returns (reference, None) for each approval recorded, (reference, message) otherwise.
    Each form's envelope is summed once, under the form's lock, then kept as a running
    total: a batch costs the same per approval whatever the number already approved.
    """
    results, committed = [], {}
    for submission, revision in items:
        reference = submission.reference
        before = dict(committed)
        try:
            with session.begin_nested():
                approve(session, submission, user, revision, committed)
        except CaseworkError as error:
            committed = before  # the savepoint took this approval back
            results.append((reference, str(error)))
        else:
            results.append((reference, None))
    return results


def change_bank_details(
    session: Session,
    submission: Submission,
    user: User,
    *,
    iban: str,
    holder: str,
    revision: int | None = None,
) -> Event:
    """Replace the IBAN and holder in the answers; void the approvals given on the old ones.

    An approved request goes back to proposed (transition `void`) for a new approval.
    `revision` is checked when given (from a page).
    """
    begin(session, submission, user, CHANGE_BANK_DETAILS, revision)
    keys = bank_fields(_definition(submission))
    if keys is None:
        raise CaseworkError(_("Ce formulaire ne demande pas de coordonnées bancaires."))
    try:
        new_iban = banking.normalize_iban(iban or "").value
    except InvalidValue as error:
        raise CaseworkError(str(error)) from error
    new_holder = required_text(holder, _("Indiquez le titulaire du compte."))
    if len(new_holder) > MAX_HOLDER:
        raise CaseworkError(_("Le titulaire ne doit pas dépasser 200 caractères."))
    before = bank_fingerprint(submission)
    iban_key, holder_key = keys
    submission.answers = {**submission.answers, iban_key: new_iban, holder_key: new_holder}
    if bank_fingerprint(submission) == before:
        raise CaseworkError(_("Ces coordonnées bancaires sont déjà celles de la demande."))
    voided = void_approvals(session, submission)
    if submission.state == State.APPROVED:
        move(
            session,
            submission,
            user,
            Action.VOID,
            reason=_("Coordonnées bancaires modifiées après l’acceptation."),
            voided_approvals=voided,
        )
        submission.approved_amount = None
    else:
        touch(submission)
    outbox.add(session, "check_submission", submission_id=submission.id, recheck=True)  # new IBAN
    return audit.record(
        session,
        submission,
        CHANGE_BANK_DETAILS,
        user,
        fields=[iban_key, holder_key],
        iban_end=new_iban[-4:],
        voided_approvals=voided,
    )


def bank_fields(definition: FormDefinition) -> tuple[str, str] | None:
    """The keys of the form's IBAN field and account holder field, or None."""
    fields = list(definition.fields())
    iban = next((f for f in fields if f.type == "iban"), None)
    if iban is None:
        return None
    named = definition.settings.get("account_holder_field")
    page = {f.key for f in definition.page_of(iban.key).fields}
    holders = [f for f in fields if f.key == named or f.key in HOLDER_KEYS] or [
        f for f in fields if f.type == "text" and ("titulaire" in f.key or "holder" in f.key)
    ]
    holders.sort(key=lambda f: (f.key != named, f.key not in page))  # named, then same page
    return (iban.key, holders[0].key) if holders else None


def bank_fingerprint(submission: Submission) -> str | None:
    """SHA-256 of the normalised IBAN and holder in the answers; None without an IBAN."""
    keys = bank_fields(_definition(submission))
    if keys is None:
        return None
    iban_key, holder_key = keys
    iban = "".join(str(submission.answers.get(iban_key) or "").split()).upper()
    if not iban:
        return None
    holder = unicodedata.normalize("NFKD", str(submission.answers.get(holder_key) or ""))
    holder = " ".join("".join(c for c in holder if not unicodedata.combining(c)).upper().split())
    return hashlib.sha256(f"{iban}\n{holder}".encode()).hexdigest()


def _definition(submission: Submission) -> FormDefinition:
    version = submission.form_version
    return definitions.of_version(version)


def _check_envelope(
    session: Session, submission: Submission, amount: int, committed: dict[int, int]
) -> None:
    """Refuse an approval the form's envelope cannot cover; concurrent approvals queue.

    The first check of a form in the transaction locks it (held until the commit: no other
    transaction approves on it meanwhile) and sums what is approved into `committed`.
    """
    form = submission.form
    if form.id not in committed:
        session.refresh(form, with_for_update=True)  # one approving transaction per form
        committed[form.id] = budget.totals(session, form)["approved"]
    limit = budget.envelope(form)
    remaining = None if limit is None else limit - committed[form.id]
    if remaining is not None and amount > remaining:
        raise CaseworkError(
            _(
                "L’enveloppe budgétaire du formulaire ne suffit pas : il reste %(remaining)s, "
                "la proposition est de %(amount)s.",
                remaining=format_xpf(max(remaining, 0)),
                amount=format_xpf(amount),
            )
        )
