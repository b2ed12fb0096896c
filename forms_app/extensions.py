"""Deadline extensions: proposed after a detected outage, granted by an admin, or individual.

The platform proposes (`propose_for_outages`, from the worker's dispatcher) one extension per
form when an outage window overlaps the last EXTENSION_WINDOW_HOURS before it closes, of
max(EXTENSION_MIN_HOURS, the outage's length). An admin grants or declines it, or extends a
form directly. Granting moves the closing date, publishes a banner on the form and e-mails
each draft holder once. A force-majeure extension lets one applicant finish their drafts
after the form closed (`Submission.extended_until`). Nothing here commits.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forms_app import announcements, audit, extension_proposals, outages
from forms_app.db import utcnow
from forms_app.filters import local_time
from forms_app.models import (
    AnnouncementLevel,
    DeadlineExtension,
    ExtensionStatus,
    Form,
    FormStatus,
    Submission,
    User,
)
from workflows import outbox

DRAFT = "draft"
NOTIFY_JOB = "notify_extension"
MAX_REASON = 1000  # the banner quotes it


class ExtensionError(ValueError):
    """An extension cannot be made as asked; the message is French.

    `status` is the HTTP status a view answers with: 409 when the state of things forbids
    it (already decided, form closed, closing date changed), 422 when the input is wrong.
    """

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def accepts_draft(form: Form, draft: Submission | None, now: datetime) -> bool:
    """Whether this draft may still be filled and submitted: the form is open, or the
    form is still published and the draft has an individual extension running."""
    if form.is_open(now):
        return True
    return (
        draft is not None
        and form.status is FormStatus.PUBLISHED
        and form.current_version_id is not None
        and draft.extended_until is not None
        and now < draft.extended_until
    )


def propose_for_outages(session: Session, now: datetime) -> list[DeadlineExtension]:
    """Propose (or widen) one extension per form whose last hours an outage overlapped."""
    config = current_app.config
    span = timedelta(hours=config["EXTENSION_WINDOW_HOURS"])
    forms = session.scalars(
        select(Form)
        .where(Form.status == FormStatus.PUBLISHED, Form.closes_at.is_not(None))
        .where(Form.closes_at >= now - span, Form.closes_at <= now + span)
        .order_by(Form.closes_at, Form.id)
    ).all()
    if not forms:
        return []
    found = outages.windows(session, forms[0].closes_at - span, forms[-1].closes_at, config)
    proposed = []
    for form in forms:
        overlapping = [
            w for w in found if w.start < form.closes_at and w.end > form.closes_at - span
        ]
        if overlapping:
            made = extension_proposals.propose(session, form, overlapping, now)
            if made is not None:
                proposed.append(made)
    return proposed


def grant(
    session: Session, extension: DeadlineExtension, actor: User, now: datetime
) -> DeadlineExtension:
    """Grant a proposal: move the closing date, announce it, e-mail the draft holders."""
    session.refresh(extension, with_for_update=True)
    if extension.status is not ExtensionStatus.PROPOSED:
        raise ExtensionError(_("Cette proposition a déjà été traitée."))
    form = extension.form
    session.refresh(form, with_for_update=True)
    if form.closes_at != extension.previous_closes_at:
        raise ExtensionError(
            _(
                "La date de clôture du formulaire a changé depuis cette proposition : "
                "refusez-la et prolongez à nouveau si besoin."
            )
        )
    _check_extendable(form, extension.new_closes_at, now)
    extension.status = ExtensionStatus.GRANTED
    extension.decided_at, extension.decided_by_id = now, actor.id
    _apply(session, extension, actor, now)
    return extension


def extend(
    session: Session, form: Form, new_closes_at: datetime, reason: str, actor: User, now: datetime
) -> DeadlineExtension:
    """Extend a form's deadline directly (an admin's decision), with the effects of a grant."""
    session.refresh(form, with_for_update=True)
    _check_extendable(form, new_closes_at, now)
    extension = DeadlineExtension(
        form_id=form.id,
        status=ExtensionStatus.GRANTED,
        previous_closes_at=form.closes_at,
        new_closes_at=new_closes_at,
        reason=_required_reason(reason),
        proposed_at=now,
        proposed_by_id=actor.id,
        decided_at=now,
        decided_by_id=actor.id,
    )
    session.add(extension)
    session.flush()
    _apply(session, extension, actor, now)
    return extension


def decline(session: Session, extension: DeadlineExtension, actor: User, reason: str) -> None:
    """Decline a proposal; it is not proposed again for the same outage window."""
    reason = _required_reason(reason, _("Indiquez le motif du refus."))
    session.refresh(extension, with_for_update=True)
    if extension.status is not ExtensionStatus.PROPOSED:
        raise ExtensionError(_("Cette proposition a déjà été traitée."))
    extension.status = ExtensionStatus.DECLINED
    extension.decided_at, extension.decided_by_id = utcnow(), actor.id
    audit.record(
        session,
        extension.form,
        "extension_declined",
        actor,
        extension_id=extension.id,
        reason=reason,
    )


def extend_for_applicant(
    session: Session,
    form: Form,
    email: str,
    until: datetime,
    reason: str,
    actor: User,
    now: datetime,
) -> DeadlineExtension:
    """Let one applicant finish and submit their drafts on the form until `until`."""
    email = email.strip().lower()
    reason = _required_reason(reason)
    _check_extendable(form, until, now)
    drafts = session.scalars(
        select(Submission)
        .where(Submission.form_id == form.id, Submission.state == DRAFT)
        .where(func.lower(Submission.applicant_email) == email, Submission.expires_at > now)
        .order_by(Submission.id)
        .with_for_update()
    ).all()
    if not drafts:
        raise ExtensionError(
            _("Aucun brouillon en cours sur ce formulaire pour l’adresse %(email)s.", email=email),
            422,
        )
    for draft in drafts:
        draft.extended_until = until
        draft.expires_at = max(draft.expires_at, until)  # not swept away meanwhile
        draft.close_reminded_at = None  # remind them before their own deadline
    extension = DeadlineExtension(
        form_id=form.id,
        status=ExtensionStatus.GRANTED,
        applicant_email=email,
        previous_closes_at=form.closes_at,
        new_closes_at=until,
        reason=reason,
        proposed_at=now,
        proposed_by_id=actor.id,
        decided_at=now,
        decided_by_id=actor.id,
        notified_count=1,
    )
    session.add(extension)
    session.flush()
    audit.record(
        session,
        form,
        "applicant_deadline_extended",
        actor,
        extension_id=extension.id,
        drafts=[draft.id for draft in drafts],
        new_closes_at=until.isoformat(),
        reason=extension.reason,
    )
    outbox.add(session, NOTIFY_JOB, extension_id=extension.id, email=email)
    return extension


def _check_extendable(form: Form, new_closes_at: datetime, now: datetime) -> None:
    if form.status is not FormStatus.PUBLISHED or form.current_version_id is None:
        raise ExtensionError(
            _("Le formulaire n’est plus publié : son délai ne peut pas être prolongé.")
        )
    if form.closes_at is None:
        raise ExtensionError(_("Ce formulaire n’a pas de date de clôture : rien à prolonger."))
    if new_closes_at <= form.closes_at:
        raise ExtensionError(
            _(
                "La nouvelle date limite doit être postérieure à la clôture actuelle (%(date)s).",
                date=local_time(form.closes_at, current_app.config["BABEL_DEFAULT_TIMEZONE"]),
            ),
            422,
        )
    if new_closes_at <= now:
        raise ExtensionError(_("La nouvelle date limite est déjà passée."), 422)


def _required_reason(reason: str | None, missing: str | None = None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ExtensionError(missing or _("Indiquez le motif de la prolongation."), 422)
    if len(text) > MAX_REASON:
        raise ExtensionError(_("Le motif ne doit pas dépasser 1 000 caractères."), 422)
    return text


def _apply(session: Session, extension: DeadlineExtension, actor: User, now: datetime) -> None:
    """Move the closing date, replace the form's extension banner, queue the e-mails."""
    form = extension.form
    previous = form.closes_at
    form.closes_at = extension.new_closes_at
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    for banner in announcements.active(session, now, form.id):
        if banner.form_id == form.id and banner.extension_id is not None:
            announcements.end(session, banner, actor, now)  # it gives the old date
    announcements.publish(
        session,
        level=AnnouncementLevel.INFO,
        message=(
            "La date limite de dépôt est prolongée jusqu’au "
            f"{local_time(extension.new_closes_at, zone)} (heure de Nouméa) "
            f"({extension.reason})."
        ),
        starts_at=now,
        ends_at=extension.new_closes_at,
        form_id=form.id,
        actor=actor,
        extension_id=extension.id,
    )
    holders = draft_holders(session, form, now)
    for email in holders:
        outbox.add(session, NOTIFY_JOB, extension_id=extension.id, email=email)
    extension.notified_count = len(holders)
    session.execute(  # the closing reminder comes again before the new date
        update(Submission)
        .where(Submission.form_id == form.id, Submission.state == DRAFT)
        .values(close_reminded_at=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        form,
        "deadline_extended",
        actor,
        extension_id=extension.id,
        previous_closes_at=previous.isoformat() if previous else None,
        new_closes_at=extension.new_closes_at.isoformat(),
        reason=extension.reason,
        notified=len(holders),
    )


def draft_holders(session: Session, form: Form, now: datetime) -> list[str]:
    """The distinct addresses (lower case) of the live drafts on the form."""
    email = func.lower(Submission.applicant_email)
    return list(
        session.scalars(
            select(email)
            .where(Submission.form_id == form.id, Submission.state == DRAFT)
            .where(Submission.applicant_email.is_not(None), Submission.expires_at > now)
            .group_by(email)
            .order_by(email)
        )
    )
