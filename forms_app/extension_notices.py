"""The e-mail telling a draft holder that their deadline is extended (the job's work).

One message per holder and extension: the new deadline in Noumea time, the reason, and the
holder's drafts on that form with their resume links. Written in French whatever the admin's
language. Sends nothing for an extension no longer in force (declined, or a form-wide one
superseded by a later closing date) or for a holder with no live draft left.
"""

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms_app import drafts, mail
from forms_app.db import utcnow
from forms_app.filters import local_time
from forms_app.formdefs import definition as definitions
from forms_app.models import DeadlineExtension, ExtensionStatus, Submission


def send(session: Session, extension_id: int, email: str) -> bool:
    """Write and send one holder's e-mail about an extension; whether it was sent."""
    extension = session.get(DeadlineExtension, extension_id)
    if extension is None:
        raise LookupError(f"no deadline extension {extension_id}")
    email = email.strip().lower()
    if not in_force(extension) or extension.applicant_email not in (None, email):
        return False
    held = holder_drafts(session, extension.form_id, email)
    if not held:
        return False  # submitted or expired since
    form = extension.form
    title = definitions.of_version(form.current_version).title
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    until = local_time(extension.new_closes_at, zone)
    if extension.applicant_email:
        subject = f"Délai supplémentaire accordé : {title}"
        news = (
            f"Un délai supplémentaire vous est accordé pour la démarche « {title} » : "
            f"vous pouvez terminer et envoyer votre demande jusqu’au {until} (heure de Nouméa)."
        )
    else:
        subject = f"Date limite prolongée : {title}"
        news = (
            f"La date limite de dépôt de la démarche « {title} » est prolongée "
            f"jusqu’au {until} (heure de Nouméa)."
        )
    lines = [
        f"- brouillon commencé le {local_time(d.created_at, zone)} :\n  {drafts.resume_url(d)}"
        for d in held
    ]
    intro = (
        "Votre demande n’est pas encore envoyée. Pour la terminer :"
        if len(held) == 1
        else "Vos demandes ne sont pas encore envoyées. Pour les terminer :"
    )
    body = (
        "Bonjour,\n\n"
        f"{news}\n\n"
        f"Motif : {extension.reason}\n\n"
        f"{intro}\n" + "\n".join(lines) + "\n\n"
        "Ces liens sont personnels : ne les transmettez pas.\n"
        "Un brouillon n’est pas une demande envoyée : pensez à l’envoyer avant "
        f"le {until}.\n\n"
        f"{current_app.config['ORGANISATION_NAME']}\n"
    )
    mail.send(mail.build(email, subject, body, form_id=form.id))
    return True


def in_force(extension: DeadlineExtension) -> bool:
    """Granted, and (for a whole form) still the form's closing date."""
    if extension.status is not ExtensionStatus.GRANTED:
        return False
    return extension.applicant_email is not None or (
        extension.form.closes_at == extension.new_closes_at
    )


def holder_drafts(session: Session, form_id: int, email: str) -> list[Submission]:
    """The holder's live drafts on the form, oldest first."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.form_id == form_id, Submission.state == drafts.DRAFT)
            .where(func.lower(Submission.applicant_email) == email)
            .where(Submission.expires_at > utcnow())
            .order_by(Submission.id)
        )
    )
