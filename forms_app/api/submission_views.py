"""Submitted requests: pages filtered by form, state and change time; one request in full;
its files."""

from flask import abort
from flask_smorest import Blueprint
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from forms_app import storage
from forms_app.api import access, pages
from forms_app.api.schemas import SubmissionDetailSchema, SubmissionPageSchema, SubmissionQuery
from forms_app.db import get_session
from forms_app.models import Attachment, Event, Flag, Form, FormVersion, Submission, User
from workflows import states

PATH = "/submissions"
blp = Blueprint("api_submissions", __name__, description="Submitted requests and their files.")
CHANGED = func.coalesce(Submission.updated_at, Submission.created_at)
NO_PRIORITY = 2**31 - 1  # requests without a priority come last
PRIORITY = func.coalesce(Submission.priority, NO_PRIORITY)


def summary(found: Submission, slug: str, version: int) -> dict:
    return {
        "reference": found.reference,
        "form": slug,
        "form_version": version,
        "state": found.state,
        "priority": found.priority,
        "computed_amount": found.computed_amount,
        "proposed_amount": found.proposed_amount,
        "approved_amount": found.approved_amount,
        "revision": found.revision,
        "submitted_at": found.submitted_at,
        "updated_at": found.updated_at or found.created_at,
    }


@blp.get("")
@blp.arguments(SubmissionQuery, location="query")
@blp.response(200, SubmissionPageSchema)
def submissions(query: dict):
    """Requests of the forms the token sees, in pages (`next_cursor` until null).

    `order=updated` (oldest change first) with `updated_since` follows every change since a
    sync; `order=priority` lists the most urgent first (e.g. repatriation priorities).
    """
    access.require_roles(*access.CASE_ROLES)
    key = CHANGED if query["order"] == "updated" else PRIORITY
    statement = (
        select(Submission, Form.slug, FormVersion.number, key.label("sort_key"),
               Submission.id.label("sort_id"))
        .join(Form, Form.id == Submission.form_id)
        .join(FormVersion, FormVersion.id == Submission.form_version_id)
        .where(Submission.state != states.State.DRAFT, access.form_filter(Submission.form_id))
    )  # fmt: skip
    if "form" in query:
        statement = statement.where(Form.slug == query["form"])
    if "state" in query:
        statement = statement.where(Submission.state == query["state"])
    if "updated_since" in query:
        statement = statement.where(query["updated_since"] <= CHANGED)
    rows, following = pages.page(
        get_session(),
        statement,
        key,
        Submission.id,
        order=query["order"],
        cursor=query.get("cursor"),
        limit=query["limit"],
        moment=query["order"] == "updated",
    )
    return {
        "items": [summary(row.Submission, row.slug, row.number) for row in rows],
        "next_cursor": following,
    }


@blp.get("/<reference>")
@blp.response(200, SubmissionDetailSchema)
def submission(reference: str):
    """One request: its answers as stored, its flags, its history and its files."""
    access.require_roles(*access.CASE_ROLES)
    found = access.submission_or_404(reference)
    db = get_session()
    flags = db.scalars(
        select(Flag)
        .where(Flag.submission_id == found.id)
        .options(selectinload(Flag.other_submission))
        .order_by(Flag.id)
    )
    events = db.execute(
        select(Event, User.email)
        .outerjoin(User, User.id == Event.actor_id)
        .where(Event.subject_type == "submission", Event.subject_id == found.id)
        .order_by(Event.id)
    )
    files = db.scalars(
        select(Attachment).where(Attachment.submission_id == found.id).order_by(Attachment.id)
    )
    return {
        **summary(found, found.form.slug, found.form_version.number),
        "answers": found.answers,
        "proposal": found.proposal,
        "decision_reason": found.decision_reason,
        "flags": [
            {
                "kind": flag.kind,
                "message": flag.message,
                "other_reference": flag.other_submission.reference
                if flag.other_submission
                else None,
                "created_at": flag.created_at,
            }
            for flag in flags
        ],
        "history": [
            {
                "at": event.created_at,
                "action": event.action,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "by": email,
            }
            for event, email in events
        ],
        "attachments": [
            {
                "id": item.id,
                "field": item.field_key,
                "name": item.original_name,
                "content_type": item.content_type,
                "size": item.size,
                "sha256": item.sha256,
                "from_message": item.message_id is not None,
            }
            for item in files
        ],
    }


@blp.get("/<reference>/attachments/<id:attachment_id>")
@blp.response(200, {"format": "binary", "type": "string"}, content_type="*/*")
def attachment(reference: str, attachment_id: int):
    """A file of the request, as sent (its own content type, as an attachment)."""
    access.require_roles(*access.CASE_ROLES)
    found = access.submission_or_404(reference)
    item = get_session().get(Attachment, attachment_id)
    if item is None or item.submission_id != found.id:
        abort(404)
    response = storage.send(
        item.storage_key,
        mimetype=item.content_type,
        as_attachment=True,
        download_name=item.original_name,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
