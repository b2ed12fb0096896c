"""The receipt: a PDF of every answer, rendered once per submission and sent to the applicant."""

import hashlib
import json

from flask import current_app
from sqlalchemy.orm import Session

from forms_app import mail, pdf, storage
from forms_app.filters import local_time
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import display
from forms_app.models import Submission


def ensure_receipt(session: Session, submission: Submission) -> bytes:
    """Render and store the receipt unless it exists; return its bytes. The caller commits."""
    if submission.receipt_key:
        return storage.read(submission.receipt_key)
    version = submission.form_version
    definition = definitions.of_version(version)
    content = pdf.render(
        "receipt.html",
        organisation=current_app.config["ORGANISATION_NAME"],
        service=current_app.config["SERVICE_NAME"],
        form_title=definition.title,
        reference=submission.reference,
        submitted_at=local_time(submission.submitted_at),
        version=version.number,
        summary=display.summary(definition, submission.answers),
        answers_sha256=hashlib.sha256(
            json.dumps(submission.answers, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest(),
    )
    sha256 = hashlib.sha256(content).hexdigest()
    submission.receipt_sha256 = sha256
    submission.receipt_key = storage.store(content, sha256)
    return content


def filename(submission: Submission) -> str:
    return f"accuse-reception-{submission.reference}.pdf"


def send_receipt(session: Session, submission: Submission) -> None:
    """Make sure the receipt exists and e-mail it to the applicant, if an address was given."""
    content = ensure_receipt(session, submission)
    if not submission.applicant_email:
        return
    title = submission.form_version.definition["title"]
    body = (
        "Bonjour,\n\n"
        f"Votre demande « {title} » a bien été reçue le {local_time(submission.submitted_at)} "
        "(heure de Nouméa).\n"
        f"Votre numéro de dossier est {submission.reference}.\n\n"
        "Vous trouverez en pièce jointe l’accusé de réception qui reprend vos réponses.\n\n"
        f"{current_app.config['ORGANISATION_NAME']}\n"
    )
    mail.send(
        mail.build(
            submission.applicant_email,
            f"Accusé de réception – dossier {submission.reference}",
            body,
            attachments=[(filename(submission), "application/pdf", content)],
            form_id=submission.form_id,
        )
    )


def download(submission: Submission):
    """The receipt as a PDF download, or a page saying it is still being prepared (202)."""
    from flask import abort, render_template

    if submission.anonymised_at is not None:  # erased with the answers it listed
        abort(404)
    if not submission.receipt_key:
        page = render_template("public/receipt_pending.html", submission=submission)
        return page, 202, {"Retry-After": "10"}
    return storage.send(
        submission.receipt_key,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=filename(submission),
    )
