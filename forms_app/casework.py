"""Working a request: take, assign, release, ask for changes, propose, close, notes.

Every function re-reads the request under a row lock, refuses a stale page (the `revision`
the page was rendered with must still be the row's), checks `permissions.refusal`, then
changes the state through `Submission.apply` with its audit event. The caller commits.
The approval side (approve, send back, reject, batches, bank details) is in `approvals.py`
and importable from here too.
"""

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.orm import Session

from forms_app import audit, links, permissions
from forms_app.db import utcnow
from forms_app.models import Approval, Event, Message, MessageAuthor, Note, Role, Submission, User
from forms_app.permissions import ADD_NOTE, ASSIGN, PermissionRefused
from workflows import outbox
from workflows.states import BY_APPLICANT, Action, TransitionError

MAX_TEXT = 5000
APPROVAL_FUNCTIONS = frozenset(
    {"approve", "send_back", "reject", "batch_approve", "change_bank_details", "bank_fingerprint"}
)


class CaseworkError(Exception):
    """A casework action refused; str() is the French message to show to the user."""


class StaleRevision(CaseworkError):
    """The page was rendered before someone else changed the request: nothing was changed."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or _(
                "Cette demande a été modifiée par quelqu’un d’autre pendant que vous la "
                "consultiez : rechargez la page."
            )
        )


def take(session: Session, submission: Submission, user: User, revision: int) -> Event:
    """Start reviewing a submitted request; the reviewer becomes its assignee."""
    begin(session, submission, user, Action.TAKE, revision)
    event = move(session, submission, user, Action.TAKE, assignee_id=user.id)
    submission.assignee = user
    return event


def release(session: Session, submission: Submission, user: User, revision: int) -> Event:
    """Hand a request in review back to the queue, unassigned."""
    begin(session, submission, user, Action.RELEASE, revision)
    event = move(
        session, submission, user, Action.RELEASE, previous_assignee_id=submission.assignee_id
    )
    submission.assignee = None
    return event


def assign(
    session: Session, submission: Submission, user: User, assignee: User | None, revision: int
) -> Event:
    """Give an open request to `assignee` (None: to nobody); admins only."""
    begin(session, submission, user, ASSIGN, revision)
    if assignee is not None:
        if not assignee.active or not assignee.has_role(Role.AGENT, Role.ADMIN):
            raise CaseworkError(
                _(
                    "%(name)s n’est pas agent instructeur : choisissez une autre personne.",
                    name=assignee.name,
                )
            )
        if permissions.is_own(assignee, submission):
            raise CaseworkError(
                _("%(name)s a déposé cette demande et ne peut pas l’instruire.", name=assignee.name)
            )
    previous = submission.assignee_id
    submission.assignee = assignee
    touch(submission)
    return audit.record(
        session,
        submission,
        ASSIGN,
        user,
        assignee_id=assignee.id if assignee else None,
        previous_assignee_id=previous,
    )


def ask_changes(
    session: Session, submission: Submission, user: User, revision: int, message: str
) -> Event:
    """Ask the applicant to complete the request: a message to them, state changes_requested."""
    body = required_text(message, _("Écrivez au demandeur ce qu’il doit compléter."))
    begin(session, submission, user, Action.ASK_CHANGES, revision)
    # The state change already e-mails the applicant to read their space (notifications).
    written = write_to_applicant(session, submission, user, body, notify=False)
    return move(session, submission, user, Action.ASK_CHANGES, message_id=written.id)


def propose(
    session: Session,
    submission: Submission,
    user: User,
    revision: int,
    *,
    accept: bool,
    amount: int | None = None,
    reason: str | None = None,
) -> Event:
    """Propose to accept (with an amount, the computed one by default) or to reject (reason)."""
    begin(session, submission, user, Action.PROPOSE, revision)
    reason = (reason or "").strip() or None
    if accept:
        amount = submission.computed_amount if amount is None else amount
        if amount is None:
            raise CaseworkError(
                _("Indiquez le montant proposé : aucun montant n’a été calculé pour cette demande.")
            )
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise CaseworkError(_("Le montant proposé doit être un nombre entier de F CFP."))
    else:
        amount = None
        reason = required_text(reason, _("Indiquez le motif du refus proposé."))
    if reason is not None and len(reason) > MAX_TEXT:
        raise CaseworkError(_("Le motif ne doit pas dépasser 5 000 caractères."))
    proposal = "accept" if accept else "reject"
    event = move(
        session,
        submission,
        user,
        Action.PROPOSE,
        reason=reason,
        proposal=proposal,
        amount=amount,
        computed_amount=submission.computed_amount,
    )
    void_approvals(session, submission)  # left from an earlier proposal sent back
    submission.proposal = proposal
    submission.proposed_amount = amount
    submission.decision_reason = reason
    submission.proposed_by = user
    return event


def close(
    session: Session, submission: Submission, user: User, revision: int, reason: str
) -> Event:
    """Close a request in review without follow-up (classée sans suite), with a reason."""
    reason = required_text(reason, _("Indiquez pourquoi la demande est classée sans suite."))
    begin(session, submission, user, Action.CLOSE, revision)
    event = move(session, submission, user, Action.CLOSE, reason=reason)
    submission.decision_reason = reason
    return event


def cancel(
    session: Session, submission: Submission, user: User, revision: int, reason: str
) -> Event:
    """Cancel a request before payment (admins), with a reason; its live act goes with it.

    Refused while its act is on a bordereau (finance takes it off, or the payment is ordered).
    """
    from forms_app import payment_acts  # it imports this module

    reason = required_text(reason, _("Indiquez pourquoi la demande est annulée."))
    act = payment_acts.lock_live_act(session, submission.id)  # act, then request: finance's order
    begin(session, submission, user, Action.CANCEL, revision)
    if act is not None:
        payment_acts.cancel_with_request(session, act, user, reason)
    of_act = {"act_id": act.id, "act_number": act.number} if act is not None else {}
    event = move(session, submission, user, Action.CANCEL, reason=reason, **of_act)
    void_approvals(session, submission)
    return event


def add_note(session: Session, submission: Submission, user: User, body: str) -> Note:
    """Leave a private note on the request (never shown to the applicant)."""
    text = required_text(body, _("Écrivez la note."))
    reason = permissions.refusal(user, ADD_NOTE, submission)
    if reason is not None:
        raise CaseworkError(reason)
    note = Note(submission_id=submission.id, author_id=user.id, body=text)
    session.add(note)
    session.flush()
    audit.record(session, submission, "note", user, note_id=note.id)
    return note


def resubmit(session: Session, submission: Submission) -> Event:
    """The applicant sends the completed request back; it keeps its assignee."""
    session.flush()
    session.refresh(submission, with_for_update=True)
    try:
        event = submission.apply(session, Action.RESUBMIT, by=BY_APPLICANT)
    except TransitionError as error:
        raise CaseworkError(_("Cette demande n’attend pas de compléments.")) from error
    outbox.add(session, "check_submission", submission_id=submission.id, recheck=True)
    return event


def write_to_applicant(
    session: Session,
    submission: Submission,
    author: User | None,
    body: str,
    *,
    notify: bool = True,
) -> Message:
    """Add an agent's message to the thread, audit it, and (`notify`) e-mail the applicant
    that a message is waiting, never its content."""
    message = Message(
        submission=submission,
        author=MessageAuthor.AGENT,
        author_user_id=author.id if author is not None else None,
        body=body,
    )
    session.add(message)
    session.flush()
    audit.record(
        session, submission, "message", author, author=message.author.value, message_id=message.id
    )
    if notify and submission.applicant_email:
        outbox.add(
            session,
            "send_email",
            to=submission.applicant_email,
            subject=_(
                "Vous avez un nouveau message concernant votre demande %(reference)s",
                reference=submission.reference,
            ),
            body=_(
                "Bonjour,\n\nL’administration vous a écrit au sujet de votre demande "
                "%(reference)s.\n\nPour lire ce message et y répondre, connectez-vous à votre "
                "espace :\n%(link)s\n\n%(organisation)s\n",
                reference=submission.reference,
                link=links.absolute("public.space_login"),
                organisation=current_app.config["ORGANISATION_NAME"],
            ),
        )
    return message


# -- Shared by the approval side ------------------------------------------------------------


def begin(
    session: Session, submission: Submission, user: User, action: str, revision: int | None
) -> None:
    """Re-read the row under lock, refuse a stale revision, then check the permission.

    `revision` None skips the revision check (a change not made from a page).
    """
    session.flush()  # what this transaction changed already must survive the re-read
    session.refresh(submission, with_for_update=True)
    try:
        stale = revision is not None and int(revision) != submission.revision
    except (TypeError, ValueError):
        stale = True
    if stale:
        raise StaleRevision()
    reason = permissions.refusal(user, action, submission)
    if reason is not None:
        raise CaseworkError(reason)


def move(
    session: Session,
    submission: Submission,
    user: User,
    action: str,
    *,
    reason: str | None = None,
    **details: Any,
) -> Event:
    """Take the transition through Submission.apply, adding `details` to its audit event."""
    try:
        return submission.apply(session, action, user, reason=reason, details=details)
    except PermissionRefused as error:
        raise CaseworkError(error.reason) from error
    except TransitionError as error:
        message = _("Cette action n’est pas possible dans l’état de la demande.")
        raise CaseworkError(message) from error


def touch(submission: Submission) -> None:
    """Count a change that is not a transition (assignment, partial approval...)."""
    submission.revision = (submission.revision or 0) + 1
    submission.last_activity_at = utcnow()


def void_approvals(session: Session, submission: Submission) -> int:
    """Void the request's standing approvals; return how many there were."""
    result = session.execute(
        update(Approval)
        .where(Approval.submission_id == submission.id, Approval.voided_at.is_(None))
        .values(voided_at=utcnow())
    )
    return result.rowcount or 0


def required_text(value: str | None, message: str) -> str:
    """The stripped text, or CaseworkError(message) when empty; 5,000 characters at most."""
    text = (value or "").strip()
    if not text:
        raise CaseworkError(message)
    if len(text) > MAX_TEXT:
        raise CaseworkError(_("Le texte ne doit pas dépasser 5 000 caractères."))
    return text


def __getattr__(name: str):
    """Re-export the approval functions (`casework.approve`...) without an import cycle."""
    if name in APPROVAL_FUNCTIONS:
        from forms_app import approvals

        return getattr(approvals, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
