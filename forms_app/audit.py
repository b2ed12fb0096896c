"""Write audit events: in the caller's transaction, next to the change they record."""

from typing import Any

from sqlalchemy.orm import Session

from forms_app.models import Event, User


def record(
    session: Session,
    subject: Any,
    action: str,
    actor: User | None,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    **details: Any,
) -> Event:
    """Add an Event for `subject` (a model instance); the caller commits.

    The event is written with the caller's next flush; a new subject is flushed first, as the
    event names its id.
    """
    if subject.id is None:
        session.flush()
    event = Event(
        subject_type=subject.__tablename__,
        subject_id=subject.id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.id if actor is not None else None,
        details=details,
    )
    session.add(event)
    return event
