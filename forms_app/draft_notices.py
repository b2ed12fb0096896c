"""E-mails about drafts (resume link, expiry warning, closing reminder) and the sweep.

The sweep runs in the worker's dispatcher every DRAFT_SWEEP_INTERVAL seconds (and from
`flask drafts sweep`). Each notice is claimed by a conditional UPDATE before it is queued,
so several workers sweeping at once send it once; expired drafts are deleted, with their files.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from forms_app import audit, drafts, retention
from forms_app.db import utcnow
from forms_app.filters import local_time
from forms_app.formdefs import definition as definitions
from forms_app.models import Attachment, Form, Submission
from workflows import outbox

SUBJECTS = {
    "saved": "Votre brouillon : {title}",
    "expiry": "Votre brouillon va expirer : {title}",
    "closing": "La démarche ferme bientôt : {title}",
}
INTRODUCTIONS = {
    "saved": "Votre demande est enregistrée en brouillon. Vous pourrez la reprendre, "
    "depuis n’importe quel appareil, avec ce lien :",
    "expiry": "Votre brouillon sera supprimé le {expires} s’il n’est pas envoyé. "
    "Pour le reprendre :",
    "closing": "La démarche ferme le {closes}. Votre demande n’est pas encore envoyée. "
    "Pour la terminer :",
}


def send_resume_link(session: Session, draft: Submission, reason: str) -> None:
    """Queue the e-mail carrying the draft's resume link, in the caller's transaction."""
    version = draft.form_version
    title = definitions.of_version(version).title
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    expires = local_time(draft.expires_at, zone)
    closes = local_time(deadline(draft), zone)
    body = (
        "Bonjour,\n\n"
        f"{INTRODUCTIONS[reason].format(expires=expires, closes=closes)}\n\n"
        f"{drafts.resume_url(draft)}\n\n"
        f"Ce lien est personnel : ne le transmettez pas. Brouillon conservé jusqu’au {expires}.\n"
        "Un brouillon n’est pas une demande envoyée : pensez à l’envoyer avant la date limite.\n"
    )
    subject = SUBJECTS[reason].format(title=title)
    outbox.add(session, "send_email", to=draft.applicant_email, subject=subject, body=body)


def deadline(draft: Submission):
    """When the draft must be sent by: its form's closing, or its own later extension."""
    closes, extended = draft.form.closes_at, draft.extended_until
    return extended if extended and (closes is None or extended > closes) else closes


def sweep(session: Session, batch: int = 500) -> dict[str, int]:
    """Delete expired drafts, warn before expiry, remind before closing; commit."""
    now = utcnow()
    config = current_app.config
    done = {"expired": 0, "expiry": 0, "closing": 0}

    keys: set[str] = set()
    expired = session.scalars(
        select(Submission)
        .where(Submission.state == drafts.DRAFT, Submission.expires_at <= now)
        .limit(batch)
    ).all()
    if expired:
        ids = [draft.id for draft in expired]
        for draft in expired:
            audit.record(session, draft, "draft_expired", None, from_state="draft")
        session.flush()
        for draft in expired:
            session.expunge(draft)
        keys = set(
            session.scalars(select(Attachment.storage_key).where(Attachment.submission_id.in_(ids)))
        )
        session.execute(delete(Attachment).where(Attachment.submission_id.in_(ids)))
        session.execute(delete(Submission).where(Submission.id.in_(ids)))
        done["expired"] = len(ids)

    warn_before = now + timedelta(days=config["DRAFT_WARNING_DAYS"])
    due = select(Submission).where(
        Submission.state == drafts.DRAFT,
        Submission.applicant_email.is_not(None),
        Submission.expires_at > now,
        Submission.expires_at <= warn_before,
        Submission.expiry_warned_at.is_(None),
    )
    for draft in session.scalars(due.limit(batch)).all():
        if _claim(session, draft, Submission.expiry_warned_at, now):
            send_resume_link(session, draft, "expiry")
            done["expiry"] += 1

    closing_before = now + timedelta(hours=config["CLOSING_REMINDER_HOURS"])
    # A draft's own extension (force majeure) moves its deadline past the form's.
    closes = case(
        (Submission.extended_until > Form.closes_at, Submission.extended_until),
        else_=Form.closes_at,
    )
    closing = (
        select(Submission)
        .join(Form, Form.id == Submission.form_id)
        .where(
            Submission.state == drafts.DRAFT,
            Submission.applicant_email.is_not(None),
            Submission.expires_at > now,
            Submission.close_reminded_at.is_(None),
            closes > now,
            closes <= closing_before,
        )
    )
    for draft in session.scalars(closing.limit(batch)).all():
        if _claim(session, draft, Submission.close_reminded_at, now):
            send_resume_link(session, draft, "closing")
            done["closing"] += 1
    session.commit()
    retention.delete_files(session, keys)  # the uploads of expired drafts, once unnamed
    return done


def _claim(session: Session, draft: Submission, column, now) -> bool:
    """Mark the notice as sent unless another sweep did first."""
    claimed = session.execute(
        update(Submission)
        .where(Submission.id == draft.id, column.is_(None))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)
