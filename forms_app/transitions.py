"""Change a submission's state: check the transition table, then record the audit event.

`Submission.apply()` calls `apply()`; nothing else assigns `submission.state` (except
`submissions.submit`, which creates the row directly in the submitted state).
"""

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from forms_app import audit, notifications, permissions, webhooks
from forms_app.db import utcnow
from forms_app.models import Event, Submission, User
from workflows import states
from workflows.states import TransitionError

__all__ = ["TransitionError", "apply", "check_permission"]


def check_permission(submission: Submission, action: str, actor: User | None, by: str) -> None:
    """Apply the role and segregation-of-duties rules (DESIGN §4) to a staff move.

    Raises permissions.PermissionRefused (a TransitionError) with the French reason. The
    applicant's own moves are checked by their pages (a request not theirs is a 404), and a
    staff move with no actor is the system's (a job, e.g. issuing the payment act).
    """
    if by != states.BY_AGENT or actor is None:
        return
    permissions.check_transition(actor, action, submission)


def apply(
    session: Session,
    submission: Submission,
    action: str,
    actor: User | None = None,
    *,
    by: str = states.BY_AGENT,
    reason: str | None = None,
    locked: bool = False,
    details: dict[str, Any] | None = None,
) -> Event:
    """Move `submission` along `action` and add its audit event (with `details`, written once:
    the audit log is append-only); the caller commits.

    The row is re-read under a lock first, so two concurrent requests cannot both take a
    transition from the same state (SQLite already serialises writers with BEGIN IMMEDIATE);
    `locked` says the caller already read it FOR UPDATE in this transaction.
    """
    if inspect(submission).persistent and not locked:
        session.flush()  # keep this transaction's own changes across the locked re-read
        session.refresh(submission, attribute_names=["state"], with_for_update=True)
    from_state = submission.state
    to_state = states.next_state(from_state, action, by=by)
    check_permission(submission, action, actor, by)
    submission.state = to_state.value
    submission.revision = (submission.revision or 0) + 1
    submission.last_activity_at = utcnow()
    if to_state in states.FINAL_STATES:
        submission.ended_at = submission.last_activity_at  # the retention clock starts
    written = {"by": by}
    if reason:
        written["reason"] = reason
    event = audit.record(
        session,
        submission,
        str(action),
        actor,
        from_state=from_state,
        to_state=to_state.value,
        **written,
        **(details or {}),
    )
    notifications.state_changed(session, submission, event)
    webhooks.state_changed(session, submission, event)
    return event
