"""Agents' side of the thread with the applicant: post a message, see what is new."""

from dataclasses import dataclass

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from forms_app import casework
from forms_app.backoffice import bp, views
from forms_app.db import get_session, utcnow
from forms_app.models import Attachment, Message, MessageAuthor, Role, Submission
from forms_app.permissions import roles_required
from forms_app.submissions import get_by_reference

MESSAGE_ROLES = (Role.AGENT, Role.ADMIN)


class AgentMessageForm(FlaskForm):
    body = TextAreaField(
        _l("Message au demandeur ou à la demandeuse"),
        render_kw={"rows": 6},
        validators=[
            DataRequired(_l("Écrivez votre message.")),
            Length(max=5000, message=_l("Le message ne doit pas dépasser 5 000 caractères.")),
        ],
    )


@dataclass
class CaseThread:
    """What the request page shows of the exchange: messages, files, the form to reply."""

    messages: list[Message]
    files: list[Attachment]
    form: AgentMessageForm
    may_write: bool


def case_thread(submission: Submission) -> CaseThread:
    """Read a request's thread for its back-office page (no change made)."""
    messages = get_session().scalars(
        select(Message)
        .where(Message.submission_id == submission.id)
        .options(selectinload(Message.attachments), selectinload(Message.author_user))
        .order_by(Message.created_at, Message.id)
    )
    return CaseThread(
        messages=list(messages),
        files=[a for a in submission.attachments if a.message_id is None],
        form=g.get("agent_message_form") or AgentMessageForm(formdata=None),
        may_write=current_user.has_role(*MESSAGE_ROLES),
    )


@bp.context_processor
def _thread_helpers() -> dict:
    return {"case_thread": case_thread}


@bp.after_request
def _mark_read(response: Response) -> Response:
    """Once staff were shown a request page, its applicant messages count as read.

    Runs only when the page was really shown (200: the role check passed, the request exists).
    """
    if request.endpoint != "backoffice.submission" or response.status_code != 200:
        return response
    db = get_session()
    found = get_by_reference(db, request.view_args["reference"])
    seen = db.execute(
        update(Message)
        .where(
            Message.submission_id == found.id,
            Message.author == MessageAuthor.APPLICANT,
            Message.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    if seen.rowcount:
        db.commit()
    return response


@bp.post("/demandes/<reference>/messages")
@roles_required(*MESSAGE_ROLES)
def post_message(reference: str):
    """Write to the applicant; they are told by e-mail (without the content) to come and read."""
    db = get_session()
    found = get_by_reference(db, reference)
    if found is None:
        abort(404)
    form = AgentMessageForm()
    if not form.validate_on_submit():
        g.agent_message_form = form
        return views.submission(reference=reference), 400
    casework.write_to_applicant(db, found, current_user, form.body.data.strip())
    db.commit()
    flash(_("Votre message a été envoyé."), "success")
    return redirect(url_for("backoffice.submission", reference=reference, _anchor="messages"))
