"""Receive a submission: pin the version, store answers, rule results and files, audit it."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forms_app import audit, storage
from forms_app.db import utcnow
from forms_app.formdefs.definition import FormDefinition
from forms_app.formdefs.files import CheckedFile
from forms_app.formdefs.rules import RuleResults
from forms_app.models import Attachment, Form, FormVersion, ReferenceCounter, Submission
from workflows import outbox

# No 0/O or 1/I ambiguity can arise: references are digits after a fixed prefix.
REFERENCE_DIGITS = 6


def next_reference(session: Session, prefix: str, now: datetime) -> str:
    """Hand out the next reference for the prefix and year, e.g. AIDE-2026-000123.

    One upsert statement: concurrent first submissions of a year cannot collide.
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
    """Record a submission pinned to `version`; the caller commits.

    `token` (unique) makes a replayed POST fail at commit instead of creating a second one.
    """
    now = utcnow()
    files = {k: v for k, v in answers.items() if _is_files(v)}
    stored_answers = {k: v for k, v in answers.items() if k not in files}
    prefix = definition.settings.get("reference_prefix") or "DEM"
    submission = Submission(
        reference=next_reference(session, prefix, now),
        submit_token=token,
        form_id=form.id,
        form_version_id=version.id,
        state="submitted",
        answers=stored_answers,
        rule_results=results.to_json(),
        computed_amount=results.amount,
        priority=results.priority,
        applicant_email=_first_email(definition, answers),
        submitted_at=now,
    )
    session.add(submission)
    for key, checked in files.items():
        for item in checked:
            submission.attachments.append(
                Attachment(
                    field_key=key,
                    original_name=item.name[:255],
                    content_type=item.content_type,
                    size=item.size,
                    sha256=item.sha256,
                    storage_key=storage.store(item.content, item.sha256),
                )
            )
        stored_answers[key] = [
            {"name": item.name, "size": item.size, "sha256": item.sha256} for item in checked
        ]
    submission.answers = stored_answers
    audit.record(session, submission, "submit", None, to_state="submitted", version=version.number)
    outbox.add(session, "send_receipt", submission_id=submission.id)
    return submission


def get_by_token(session: Session, token: str | None) -> Submission | None:
    if token is None:
        return None
    return session.scalar(select(Submission).where(Submission.submit_token == token))


def get_by_reference(session: Session, reference: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.reference == reference))


def _is_files(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], CheckedFile)


def _first_email(definition: FormDefinition, answers: dict[str, Any]) -> str | None:
    for fdef in definition.answer_fields():
        if fdef.type == "email" and answers.get(fdef.key):
            return answers[fdef.key]
    return None
