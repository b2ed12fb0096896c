"""The applicant space: a magic link by e-mail, then the applicant's requests, thread, files."""

from flask import abort, flash, redirect, render_template, request
from flask import url_for as url
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from forms_app import audit, casework, drafts, receipts, storage
from forms_app.db import get_session, utcnow
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import display
from forms_app.formdefs.definition import FieldDef
from forms_app.formdefs.files import check_files
from forms_app.formdefs.nc import InvalidValue
from forms_app.models import Attachment, Message, MessageAuthor, Submission
from forms_app.public import bp
from forms_app.public.space_access import applicant_required, signed_in_email, strip
from forms_app.public.space_history import thread, timeline
from forms_app.submissions import get_by_reference, new_attachment
from workflows import states
from workflows.states import Action, TransitionError

# The one file an applicant may send with a message.
MESSAGE_FILE = FieldDef(
    {"key": "piece", "type": "file", "accept": ["pdf", "jpeg", "png"], "max_size_mb": 10}
)


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Votre message"),
        filters=[strip],
        render_kw={"rows": 6},
        validators=[
            DataRequired(_l("Écrivez votre message.")),
            Length(max=5000, message=_l("Votre message ne doit pas dépasser 5 000 caractères.")),
        ],
    )
    piece = FileField(_l("Joindre un fichier (facultatif)"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif (facultatif)"),
        filters=[strip],
        render_kw={"rows": 3},
        validators=[Optional(), Length(max=1000, message=_l("1 000 caractères au plus."))],
    )


def _own_submission(reference: str) -> Submission:
    """The signed-in applicant's submitted request `reference`, else 404 (never 403)."""
    found = get_by_reference(get_session(), reference)
    if (
        found is None
        or found.state == states.State.DRAFT
        or (found.applicant_email or "").strip().lower() != signed_in_email()
    ):
        abort(404)
    return found


@bp.get("/mon-espace/")
@applicant_required
def space_home():
    """List the applicant's submitted requests, newest first."""
    submissions = get_session().scalars(
        select(Submission)
        .where(
            Submission.applicant_email == signed_in_email(),
            Submission.state != states.State.DRAFT,
            Submission.reference.is_not(None),
        )
        .options(selectinload(Submission.form_version))
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
    )
    return render_template(
        "public/space/index.html",
        submissions=list(submissions),
        drafts=drafts.drafts_of(get_session(), signed_in_email()),
        resume_url=drafts.resume_url,
        state_label=states.label,
    )


@bp.get("/mon-espace/demandes/<reference>")
@applicant_required
def space_submission(reference: str):
    """Show one request: state, timeline, answers, files, receipt, messages."""
    found = _own_submission(reference)
    db = get_session()
    seen = db.execute(
        update(Message)
        .where(
            Message.submission_id == found.id,
            Message.author == MessageAuthor.AGENT,
            Message.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    if seen.rowcount:
        db.commit()
    return _submission_page(found, ReplyForm(formdata=None))


def _submission_page(submission: Submission, form: ReplyForm, status: int = 200):
    version = submission.form_version
    definition = definitions.of_version(version)
    return render_template(
        "public/space/submission.html",
        submission=submission,
        definition=definition,
        summary=display.summary(definition, submission.answers),
        state_label=states.label(submission.state),
        timeline=timeline(submission),
        thread=thread(submission),
        files=[a for a in submission.attachments if a.message_id is None],
        form=form,
        may_withdraw=states.can(submission.state, Action.WITHDRAW, by=states.BY_APPLICANT),
        may_resubmit=states.can(submission.state, Action.RESUBMIT, by=states.BY_APPLICANT),
    ), status


@bp.get("/mon-espace/demandes/<reference>/recu.pdf")
@applicant_required
def space_receipt(reference: str):
    """Download the receipt of one's own request."""
    return receipts.download(_own_submission(reference))


@bp.get("/mon-espace/demandes/<reference>/pieces/<int:attachment_id>")
@applicant_required
def space_attachment(reference: str, attachment_id: int):
    """Download a file of one's own request."""
    found = _own_submission(reference)
    attachment = get_session().get(Attachment, attachment_id)
    if attachment is None or attachment.submission_id != found.id:
        abort(404)
    return storage.send(
        attachment.storage_key,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
    )


@bp.post("/mon-espace/demandes/<reference>/messages")
@applicant_required
def space_reply(reference: str):
    """Send a message to the agents, optionally with one PDF, JPEG or PNG file."""
    found = _own_submission(reference)
    form = ReplyForm()
    uploads = [f for f in request.files.getlist(form.piece.name) if f and f.filename]
    valid = form.validate_on_submit()
    try:
        checked = check_files(uploads, MESSAGE_FILE)
    except InvalidValue as exc:
        form.piece.errors, valid = [exc.message], False
    if not valid:
        return _submission_page(found, form, status=400)
    db = get_session()
    message = Message(submission=found, author=MessageAuthor.APPLICANT, body=form.body.data)
    db.add(message)
    for item in checked:
        attachment = new_attachment(MESSAGE_FILE.key, item)
        attachment.submission = found
        message.attachments.append(attachment)
    db.flush()
    audit.record(db, found, "message", None, author=message.author.value, message_id=message.id)
    db.commit()
    flash(_("Votre message a été envoyé."), "success")
    return redirect(url("public.space_submission", reference=reference, _anchor="messages"))


@bp.route("/mon-espace/demandes/<reference>/retrait", methods=["GET", "POST"])
@applicant_required
def space_withdraw(reference: str):
    """Confirm, then withdraw a request that has not been decided yet."""
    found = _own_submission(reference)
    form = WithdrawForm()
    if not states.can(found.state, Action.WITHDRAW, by=states.BY_APPLICANT):
        return _withdraw_refused(found)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("public/space/withdraw.html", submission=found, form=form), status
    db = get_session()
    try:
        found.apply(db, Action.WITHDRAW, by=states.BY_APPLICANT, reason=form.reason.data or None)
    except TransitionError:  # decided or withdrawn meanwhile, by another request
        db.rollback()
        return _withdraw_refused(found)
    db.commit()
    flash(_("Votre demande a été retirée."), "success")
    return redirect(url("public.space_submission", reference=reference))


@bp.post("/mon-espace/demandes/<reference>/renvoi")
@applicant_required
def space_resubmit(reference: str):
    """Send a request back to the agents once the requested changes are made."""
    found = _own_submission(reference)
    db = get_session()
    try:
        casework.resubmit(db, found)
    except casework.CaseworkError as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(url("public.space_submission", reference=reference))
    db.commit()
    flash(_("Votre demande a été renvoyée au service instructeur."), "success")
    return redirect(url("public.space_submission", reference=reference))


def _withdraw_refused(submission: Submission):
    return render_template(
        "public/space/withdraw_refused.html",
        submission=submission,
        state_label=states.label(submission.state),
    ), 409
