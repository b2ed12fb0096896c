"""Receive a submission: pin the version, store answers, rule results and files, audit it."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forms_app import audit, search, storage
from forms_app.db import utcnow
from forms_app.formdefs.definition import FormDefinition
from forms_app.formdefs.files import CheckedFile
from forms_app.formdefs.rules import RuleResults
from forms_app.models import Attachment, Form, FormVersion, ReferenceCounter, Submission
from workflows import outbox
from workflows.states import BY_APPLICANT, Action, TransitionError

# No 0/O or 1/I ambiguity can arise: references are digits after a fixed prefix.
REFERENCE_DIGITS = 6


def next_reference(session: Session, prefix: str, now: datetime) -> str:
    """Hand out the next reference for the prefix and year, e.g. AIDE-2026-000123.

    One upsert statement: concurrent first submissions of a year cannot collide. The counter
    row stays locked until the transaction ends, so callers take it last, just before the
    commit (see `_finalise`): concurrent submissions queue for as short a time as possible.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ReferenceCounter)
        .values(prefix=prefix, year=now.year, last_value=1)
        .on_conflict_do_update(
            index_elements=["prefix", "year"],
            set_={"last_value": ReferenceCounter.last_value + 1},
        )
        .returning(ReferenceCounter.last_value)
    )
    number = session.execute(statement).scalar_one()
    return f"{prefix}-{now.year}-{number:0{REFERENCE_DIGITS}d}"


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
) -> bool:
    """Turn a draft into a submission; the caller commits. False if it was already submitted.

    The transition re-reads the draft under a lock, so two concurrent POSTs of the same draft
    (a double click, two tabs) make exactly one submission with one reference.
    """
    try:
        draft.apply(session, Action.SUBMIT, by=BY_APPLICANT)
    except TransitionError:
        return False  # submitted by another click or tab first: the row lock made us wait
    draft.submit_token = token
    draft.draft_data = None
    draft.resume_token_hash = None
    draft.expires_at = None
    _finalise(session, draft, definition, answers, results)
    return True


def _finalise(
    session: Session,
    submission: Submission,
    definition: FormDefinition,
    answers: dict[str, Any],
    results: RuleResults,
) -> None:
    """Give the submission its answers, results, jobs and, last, its reference; no commit.

    The submission (with its id) and everything else are written first; the reference
    counter is taken last, so its row lock is held for one UPDATE and the commit only.
    """
    now = utcnow()
    submission.answers = answers
    submission.rule_results = results.to_json()
    submission.computed_amount = results.amount
    submission.priority = results.priority
    submission.applicant_email = _first_email(definition, answers) or submission.applicant_email
    submission.submitted_at = now
    submission.last_activity_at = now
    outbox.add(session, "send_receipt", submission_id=submission.id)
    outbox.add(session, "check_submission", submission_id=submission.id)
    session.flush()
    prefix = definition.settings.get("reference_prefix") or "DEM"
    submission.reference = next_reference(session, prefix, now)
    submission.search_text = search.search_text(
        definition, answers, submission.reference, submission.applicant_email
    )


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
