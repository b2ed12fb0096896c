"""Submit a draft on PostgreSQL in one statement: its row, its audit event and its jobs.

The final POST is the write a surge hammers. Through the ORM's unit of work it costs three
statements after the reference counter (the submission's UPDATE, the event's INSERT, the
outbox rows' INSERT); on PostgreSQL one data-modifying CTE writes the same rows in one round
trip. The values come from `submissions.submitted_values`, the transition from the state
table, and the rows are those the ORM path writes (the suite runs on both databases); the
session learns what was written: the draft's new state and reference, the outbox rows to
push after the commit, the state change to count.
"""

from sqlalchemy import String, func, insert, literal, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from forms_app import metrics
from forms_app.models import Event, OutboxMessage, OutboxStatus, Submission
from workflows import outbox, states
from workflows.states import BY_APPLICANT, Action, TransitionError

SUBMISSION, EVENT, OUTBOX = Submission.__table__, Event.__table__, OutboxMessage.__table__


def submit_draft(session: Session, draft: Submission, columns: dict, jobs: tuple[str, ...]):
    """Write the draft submitted with `columns`, its audit event and `jobs`; no commit.

    The caller holds the draft's row lock. Raises TransitionError if it is not a draft.
    """
    from_state = draft.state
    to_state = states.next_state(from_state, Action.SUBMIT, by=BY_APPLICANT).value
    now = columns["submitted_at"]
    changed = (
        update(SUBMISSION)
        .where(SUBMISSION.c.id == draft.id, SUBMISSION.c.state == from_state)
        .values(**columns, state=to_state, revision=SUBMISSION.c.revision + 1)
        .returning(SUBMISSION.c.id)
        .cte("changed")
    )
    audited = insert(EVENT).from_select(
        ["subject_type", "subject_id", "action", "from_state", "to_state", "details", "created_at"],
        select(
            _typed("submission", EVENT.c.subject_type),
            changed.c.id,
            _typed(Action.SUBMIT.value, EVENT.c.action),
            _typed(from_state, EVENT.c.from_state),
            _typed(to_state, EVENT.c.to_state),
            _typed({"by": BY_APPLICANT}, EVENT.c.details),
            _typed(now, EVENT.c.created_at),
        ).select_from(changed),
    )
    named = (  # a cacheable statement: VALUES … would be compiled anew for each request
        func.unnest(literal(list(jobs), ARRAY(String))).table_valued("job").render_derived("jobs")
    )
    queued = (
        insert(OUTBOX)
        .from_select(
            ["job", "args", "status", "attempts", "created_at", "next_attempt_at", "enqueued_at"],
            select(
                named.c.job,
                func.jsonb_build_object("submission_id", changed.c.id),
                _typed(OutboxStatus.ENQUEUED, OUTBOX.c.status),
                _typed(0, OUTBOX.c.attempts),
                _typed(now, OUTBOX.c.created_at),
                _typed(now, OUTBOX.c.next_attempt_at),
                _typed(now, OUTBOX.c.enqueued_at),
            ).select_from(changed.join(named, true())),
        )
        .add_cte(audited.cte("audited"))
        .returning(OUTBOX.c.id, OUTBOX.c.job)
    )
    written = session.execute(queued).all()
    if not written:
        raise TransitionError(from_state, Action.SUBMIT, BY_APPLICANT)
    for name in ("reference", "submit_token", "submitted_at"):
        set_committed_value(draft, name, columns[name])
    set_committed_value(draft, "state", to_state)
    outbox.written_claimed(session, [(row.id, row.job) for row in written])
    metrics.state_change_written(session, Action.SUBMIT.value)


def _typed(value, target):
    """`value` bound with the type of column `target` (JSON, enum and dates as the ORM writes)."""
    return literal(value, target.type)
