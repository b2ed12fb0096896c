"""What the applicant sees of a request's life: its message thread and its timeline."""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms_app.db import get_session
from forms_app.models import Event, Message, MessageAuthor, Submission
from workflows import states
from workflows.states import Action


def thread(submission: Submission) -> list[Message]:
    """The request's messages, oldest first, with their files."""
    return list(
        get_session().scalars(
            select(Message)
            .where(Message.submission_id == submission.id)
            .options(selectinload(Message.attachments))
            .order_by(Message.created_at, Message.id)
        )
    )


def timeline(submission: Submission) -> list[tuple[Event, str]]:
    """The events the applicant may see, oldest first, with their French labels."""
    events = get_session().scalars(
        select(Event)
        .where(Event.subject_type == Submission.__tablename__, Event.subject_id == submission.id)
        .order_by(Event.id)
    )
    lines = []
    for event in events:
        if event.action == "message":
            by_agent = event.details.get("author") == MessageAuthor.AGENT
            lines.append(
                (event, _("Message de l’administration") if by_agent else _("Message envoyé"))
            )
        elif event.action in states.ACTION_LABELS:
            lines.append((event, states.ACTION_LABELS[Action(event.action)]))
    return lines
