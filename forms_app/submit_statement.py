"""Submit a draft on PostgreSQL in one statement: its row, its audit event and its jobs.

The final POST is the write a surge hammers. Through the ORM's unit of work it costs three
statements after the reference counter (the submission's UPDATE, the event's INSERT, the
outbox rows' INSERT); on PostgreSQL one data-modifying CTE writes the same rows in one round
trip. The statement is built once, with bound parameters, so a request only executes it
(building and compiling it took longer than running it). The values come from
`submissions.submitted_values`, the transition from the state table, and the rows are those
the ORM path writes (the suite runs on both databases); the session learns what was written:
the draft's new state and reference, the outbox rows to push after the commit, the state
change to count.
"""

from functools import cache

from sqlalchemy import String, bindparam, func, insert, literal, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from forms_app import metrics
from forms_app.models import Event, OutboxMessage, OutboxStatus, Submission
from workflows import outbox, states
from workflows.states import BY_APPLICANT, Action, State, TransitionError

SUBMISSION, EVENT, OUTBOX = Submission.__table__, Event.__table__, OutboxMessage.__table__
FROM_STATE = State.DRAFT.value
TO_STATE = states.next_state(FROM_STATE, Action.SUBMIT, by=BY_APPLICANT).value


def submit_draft(session: Session, draft: Submission, columns: dict, jobs: tuple[str, ...]):
    """Write the draft submitted with `columns`, its audit event and `jobs`; no commit.

    The caller holds the draft's row lock. Raises TransitionError if it is not a draft.
    """
    states.next_state(draft.state, Action.SUBMIT, by=BY_APPLICANT)  # the table decides
    parameters = {f"new_{name}": value for name, value in columns.items()}
    parameters.update(draft_id=draft.id, now=columns["submitted_at"], jobs=list(jobs))
    written = session.execute(_statement(tuple(sorted(columns))), parameters).all()
    if not written:
        raise TransitionError(draft.state, Action.SUBMIT, BY_APPLICANT)
    for name in ("reference", "submit_token", "submitted_at"):
        set_committed_value(draft, name, columns[name])
    set_committed_value(draft, "state", TO_STATE)
    outbox.written_claimed(session, [(row.id, row.job) for row in written])
    metrics.state_change_written(session, Action.SUBMIT.value)


@cache
def _statement(names: tuple[str, ...]):
    """The CTE for these submission columns (bound as `new_<name>`), built once."""
    now = bindparam("now", type_=EVENT.c.created_at.type)
    changed = (
        update(SUBMISSION)
        .where(SUBMISSION.c.id == bindparam("draft_id"), SUBMISSION.c.state == FROM_STATE)
        .values(
            {
                **{name: bindparam(f"new_{name}", type_=SUBMISSION.c[name].type) for name in names},
                "state": TO_STATE,
                "revision": SUBMISSION.c.revision + 1,
            }
        )
        .returning(SUBMISSION.c.id)
        .cte("changed")
    )
    audited = insert(EVENT).from_select(
        ["subject_type", "subject_id", "action", "from_state", "to_state", "details", "created_at"],
        select(
            _typed("submission", EVENT.c.subject_type),
            changed.c.id,
            _typed(Action.SUBMIT.value, EVENT.c.action),
            _typed(FROM_STATE, EVENT.c.from_state),
            _typed(TO_STATE, EVENT.c.to_state),
            _typed({"by": BY_APPLICANT}, EVENT.c.details),
            now,
        ).select_from(changed),
    )
    jobs = (
        func.unnest(bindparam("jobs", type_=ARRAY(String)))
        .table_valued("job")
        .render_derived("jobs")
    )
    return (
        insert(OUTBOX)
        .from_select(
            ["job", "args", "status", "attempts", "created_at", "next_attempt_at", "enqueued_at"],
            select(
                jobs.c.job,
                func.jsonb_build_object("submission_id", changed.c.id),
                _typed(OutboxStatus.ENQUEUED, OUTBOX.c.status),
                _typed(0, OUTBOX.c.attempts),
                now,
                now,
                now,
            ).select_from(changed.join(jobs, true())),
        )
        .add_cte(audited.cte("audited"))
        .returning(OUTBOX.c.id, OUTBOX.c.job)
    )


def _typed(value, target):
    """`value` bound with the type of column `target` (JSON, enum and dates as the ORM writes)."""
    return literal(value, target.type)
