"""Submit a draft on PostgreSQL in one statement: its reference, row, audit event and jobs.

The final POST is the write a surge hammers. Through the ORM's unit of work it costs four
statements (the reference counter's upsert, the submission's UPDATE, the event's INSERT, the
outbox rows' INSERT); on PostgreSQL one data-modifying CTE writes the same rows in one round
trip. The statement is built once, with bound parameters, so a request only executes it
(building and compiling it took longer than running it). The values come from
`submissions.answer_columns`, the reference from the counter's upsert (formatted and put
first in the search text as `submissions.with_reference` does), the transition from the
state table, and the rows are those the ORM path writes (the suite runs on both databases);
the session learns what was written: the draft's new state and reference, the outbox rows to
push after the commit, the state change to count.
"""

from functools import cache

from sqlalchemy import String, Text, bindparam, cast, func, insert, literal, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from forms_app import metrics, search
from forms_app.models import Event, OutboxMessage, OutboxStatus, ReferenceCounter, Submission
from forms_app.models.submission import REFERENCE_DIGITS
from workflows import outbox, states
from workflows.states import BY_APPLICANT, Action, State, TransitionError

SUBMISSION, EVENT, OUTBOX = Submission.__table__, Event.__table__, OutboxMessage.__table__
COUNTER = ReferenceCounter.__table__
FROM_STATE = State.DRAFT.value
TO_STATE = states.next_state(FROM_STATE, Action.SUBMIT, by=BY_APPLICANT).value


def submit_draft(
    session: Session, draft: Submission, columns: dict, prefix: str, jobs: tuple[str, ...]
):
    """Write the draft submitted with `columns` and the next reference of `prefix` and the
    year, its audit event and `jobs`; no commit.

    The caller holds the draft's row lock. Raises TransitionError if it is not a draft.
    """
    states.next_state(draft.state, Action.SUBMIT, by=BY_APPLICANT)  # the table decides
    now = columns["submitted_at"]
    parameters = {f"new_{name}": value for name, value in columns.items()}
    parameters.update(
        draft_id=draft.id, now=now, jobs=list(jobs), counter_prefix=prefix, counter_year=now.year
    )
    written = session.execute(_statement(tuple(sorted(columns))), parameters).all()
    if not written:
        raise TransitionError(draft.state, Action.SUBMIT, BY_APPLICANT)
    for name in ("submit_token", "submitted_at"):
        set_committed_value(draft, name, columns[name])
    set_committed_value(draft, "reference", written[0].reference)
    set_committed_value(draft, "state", TO_STATE)
    outbox.written_claimed(session, [(row.id, row.job) for row in written])
    metrics.state_change_written(session, Action.SUBMIT.value)


@cache
def _statement(names: tuple[str, ...]):
    """The CTE for these submission columns (bound as `new_<name>`), built once."""
    now = bindparam("now", type_=EVENT.c.created_at.type)
    counter = _counter().cte("counter")
    reference = select(counter.c.reference).scalar_subquery()  # runs once: a data-modifying CTE
    changed = (
        update(SUBMISSION)
        .where(SUBMISSION.c.id == bindparam("draft_id"), SUBMISSION.c.state == FROM_STATE)
        .values(
            {
                **{name: bindparam(f"new_{name}", type_=SUBMISSION.c[name].type) for name in names},
                "reference": reference,
                # The reference first, folded (capitals, digits and hyphens: lower() is fold()).
                "search_text": func.left(
                    func.concat_ws(
                        " ",
                        func.lower(reference),
                        func.nullif(bindparam("new_search_text", type_=Text), ""),
                    ),
                    search.TEXT_MAX,
                ),
                "state": TO_STATE,
                "revision": SUBMISSION.c.revision + 1,
            }
        )
        .returning(SUBMISSION.c.id, SUBMISSION.c.reference)
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
        .returning(
            OUTBOX.c.id,
            OUTBOX.c.job,
            select(changed.c.reference).scalar_subquery().label("reference"),
        )
    )


def _counter():
    """The reference counter's upsert (as `submissions.next_reference`), returning the
    formatted reference: PREFIX-YEAR-NNNNNN, at least six digits (`submissions.reference`)."""
    number = cast(COUNTER.c.last_value, Text)
    return (
        upsert(COUNTER)
        .values(prefix=bindparam("counter_prefix"), year=bindparam("counter_year"), last_value=1)
        .on_conflict_do_update(
            index_elements=["prefix", "year"], set_={"last_value": COUNTER.c.last_value + 1}
        )
        .returning(
            func.concat_ws(
                "-",
                COUNTER.c.prefix,
                COUNTER.c.year,
                func.lpad(number, func.greatest(REFERENCE_DIGITS, func.length(number)), "0"),
            ).label("reference")
        )
    )


def _typed(value, target):
    """`value` bound with the type of column `target` (JSON, enum and dates as the ORM writes)."""
    return literal(value, target.type)
