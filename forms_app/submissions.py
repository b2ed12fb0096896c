"""Receive a submission: pin the version, store answers, rule results and files, audit it."""

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forms_app import audit, search, storage, submit_statement
from forms_app.db import utcnow
from forms_app.formdefs.definition import FormDefinition
from forms_app.formdefs.files import CheckedFile
from forms_app.formdefs.rules import RuleResults
from forms_app.models import Attachment, Form, FormVersion, ReferenceCounter, Submission
from forms_app.models.submission import REFERENCE_DIGITS
from workflows import outbox
from workflows.states import BY_APPLICANT, Action

# The jobs every submission queues: its receipt, then its checks.
RECEIVED_JOBS = ("send_receipt", "check_submission")
# What a draft no longer holds once submitted.
_CLOSED_DRAFT = {"draft_data": None, "resume_token_hash": None, "expires_at": None}


def next_reference(session: Session, prefix: str, now: datetime) -> str:
    """Hand out the next reference for the prefix and year, e.g. AIDE-2026-000123.

    One upsert statement: concurrent first submissions of a year cannot collide. The counter
    row stays locked until the transaction ends, so callers take it when nothing is left but
    one flush and the commit (see `_finalise`; on PostgreSQL a draft's submit statement
    embeds the same upsert): concurrent submissions queue for as short a time as possible,
    and a rollback gives the number back.
    """
    statement = _counter_statement(session.get_bind().dialect.name)
    number = session.execute(statement, {"counter_prefix": prefix, "counter_year": now.year})
    return reference(prefix, now.year, number.scalar_one())


@cache
def _counter_statement(dialect: str):
    """The counter's upsert for this dialect, built once (a Core statement: no ORM DML)."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    counter = ReferenceCounter.__table__
    return (
        insert(counter)
        .values(prefix=bindparam("counter_prefix"), year=bindparam("counter_year"), last_value=1)
        .on_conflict_do_update(
            index_elements=["prefix", "year"], set_={"last_value": counter.c.last_value + 1}
        )
        .returning(counter.c.last_value)
    )


def submit(
    session: Session,
    form: Form,
    version: FormVersion,
    definition: FormDefinition,
    answers: dict[str, Any],
    results: RuleResults,
    token: str | None = None,
) -> Submission:
    """Record a submission pinned to `version` in one step (no draft); the caller commits.

    `token` (unique) makes a replayed POST fail at commit instead of creating a second one.
    """
    submission = Submission(
        submit_token=token,
        form_id=form.id,
        form_version_id=version.id,
        state="submitted",  # created submitted: there was no draft to move along
        answers={},
    )
    session.add(submission)
    files = {k: v for k, v in answers.items() if _is_files(v)}
    for key, checked in files.items():
        submission.attachments.extend(new_attachment(key, item) for item in checked)
    stored = {k: v for k, v in answers.items() if k not in files}
    for key, checked in files.items():
        stored[key] = [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in checked]
    session.flush()  # the audit event and the jobs need the id
    audit.record(session, submission, "submit", None, to_state="submitted", version=version.number)
    _finalise(session, submission, definition, stored, results)
    return submission


def submit_draft(
    session: Session,
    draft: Submission,
    definition: FormDefinition,
    answers: dict[str, Any],
    results: RuleResults,
    token: str | None,
) -> None:
    """Turn a draft into a submission; the caller commits.

    The caller read the draft FOR UPDATE in this transaction (`form_and_draft(lock=True)`), so
    two concurrent POSTs of the same draft (a double click, two tabs) make exactly one
    submission with one reference; a draft no longer in the draft state raises
    TransitionError. PostgreSQL takes the reference and writes the row, its audit event and
    its jobs in one statement (forms_app.submit_statement); elsewhere the reference counter's
    upsert comes first, then the ORM writes the same rows with one flush at the commit.
    """
    if session.get_bind().dialect.name == "postgresql":
        columns = answer_columns(draft, definition, answers, results)
        columns.update(_CLOSED_DRAFT, submit_token=token)
        prefix = reference_prefix(definition)
        submit_statement.submit_draft(session, draft, columns, prefix, RECEIVED_JOBS)
        return
    draft.apply(session, Action.SUBMIT, by=BY_APPLICANT, locked=True)
    for name, value in {**_CLOSED_DRAFT, "submit_token": token}.items():
        setattr(draft, name, value)
    _finalise(session, draft, definition, answers, results)


def answer_columns(
    submission: Submission,
    definition: FormDefinition,
    answers: dict[str, Any],
    results: RuleResults,
) -> dict[str, Any]:
    """The columns a submission takes when it is submitted, but its reference.

    `search_text` holds the answers' part of the search text: the reference goes first
    (see `with_reference`).
    """
    now = utcnow()
    email = _first_email(definition, answers) or submission.applicant_email
    return {
        "answers": answers,
        "rule_results": results.to_json(),
        "computed_amount": results.amount,
        "priority": results.priority,
        "applicant_email": email,
        "submitted_at": now,
        "last_activity_at": now,
        "search_text": search.search_text(definition, answers, None, email),
    }


def with_reference(columns: dict[str, Any], reference: str) -> dict[str, Any]:
    """`columns` (from `answer_columns`) completed with the reference, first in the search text.

    PostgreSQL's statement (forms_app.submit_statement) composes the same text in SQL.
    """
    text = " ".join(part for part in (reference.lower(), columns["search_text"]) if part)
    return {**columns, "reference": reference, "search_text": text[: search.TEXT_MAX]}


def reference_prefix(definition: FormDefinition) -> str:
    """The form's reference prefix: two to eight capitals (the definition schema's rule)."""
    return definition.settings.get("reference_prefix") or "DEM"


def reference(prefix: str, year: int, number: int) -> str:
    """A reference, e.g. AIDE-2026-000123 (at least six digits)."""
    return f"{prefix}-{year}-{number:0{REFERENCE_DIGITS}d}"


def _finalise(
    session: Session,
    submission: Submission,
    definition: FormDefinition,
    answers: dict[str, Any],
    results: RuleResults,
) -> None:
    """Give the submission its reference, answers, results and jobs; no commit.

    The reference counter is taken without flushing what is pending, so the row lock it
    holds until the commit covers one flush (the submission, its event, its jobs) and the
    commit.
    """
    columns = answer_columns(submission, definition, answers, results)
    with session.no_autoflush:
        taken = next_reference(session, reference_prefix(definition), columns["submitted_at"])
    columns = with_reference(columns, taken)
    for name, value in columns.items():
        setattr(submission, name, value)
    for job in RECEIVED_JOBS:
        outbox.add(session, job, submission_id=submission.id)


def new_attachment(field_key: str, item: CheckedFile) -> Attachment:
    """Store a checked upload (once per content) and describe it as an attachment."""
    return Attachment(
        field_key=field_key,
        original_name=item.name[:255],
        content_type=item.content_type,
        size=item.size,
        sha256=item.sha256,
        storage_key=storage.store(item.content, item.sha256),
    )


def reference_of_token(session: Session, token: str | None) -> str | None:
    """The reference of the submission a submission token made, if any (one column read)."""
    if token is None:
        return None
    return session.scalar(select(Submission.reference).where(Submission.submit_token == token))


def get_by_reference(session: Session, reference: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.reference == reference))


def _is_files(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], CheckedFile)


def _first_email(definition: FormDefinition, answers: dict[str, Any]) -> str | None:
    for fdef in definition.answer_fields():
        if fdef.type == "email" and answers.get(fdef.key):
            return answers[fdef.key].lower()
    return None
