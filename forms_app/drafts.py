"""Drafts: what an applicant typed, kept server-side page by page until they submit.

A draft is a Submission in state "draft" with no reference. `draft_data` holds the posted
values (field name -> list of strings) as typed, valid or not, so any page comes back as it
was left; only control characters are dropped (`formdefs.text`). Uploaded files are checked
and stored as the page is saved.
"""

import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from forms_app import links, retention
from forms_app.db import utcnow
from forms_app.formdefs.files import CheckedFile
from forms_app.formdefs.text import without_controls
from forms_app.models import Form, Submission
from forms_app.submissions import new_attachment

DRAFT = "draft"
GROUP_SIZES = "_groups"  # draft_data key: how many items each repeatable group shows
PAGES_SAVED = "_pages"  # draft_data key: the pages the applicant has saved at least once
SPECIAL = {GROUP_SIZES, PAGES_SAVED}
RESUME = "resume"


def start(session: Session, form: Form) -> Submission:
    """Open a new draft on the form's current version; the caller commits."""
    draft = Submission(
        form=form,
        form_version_id=form.current_version_id,
        state=DRAFT,
        answers={},
        draft_data={},
        resume_token_hash=secrets.token_hex(32),
    )
    touch(draft)
    session.add(draft)
    return draft


def unsaved(form: Form) -> Submission:
    """A draft that is not in the database: to show a page again when nothing may be saved."""
    return Submission(form=form, form_version=form.current_version, state=DRAFT, draft_data={})


def touch(draft: Submission, now: datetime | None = None) -> None:
    """Push the expiry back: a draft lives its form's lifetime after its last save."""
    now = now or utcnow()
    draft.expires_at = now + retention.draft_lifetime(draft.form)
    draft.expiry_warned_at = None


def live(draft: Submission | None, form: Form) -> Submission | None:
    """The draft, if it is one of this form and still live (not submitted, not expired)."""
    if draft is None or draft.form_id != form.id or draft.state != DRAFT:
        return None
    if draft.expires_at is not None and draft.expires_at <= utcnow():
        return None
    return draft


def formdata(draft: Submission) -> MultiDict:
    """The draft's typed values, as a form would post them."""
    data = MultiDict()
    for name, values in (draft.draft_data or {}).items():
        if name not in SPECIAL:
            for value in values:
                data.add(name, value)
    return data


def group_sizes(draft: Submission) -> dict[str, int]:
    return dict((draft.draft_data or {}).get(GROUP_SIZES, {}))


def pages_saved(draft: Submission) -> set[int]:
    return set((draft.draft_data or {}).get(PAGES_SAVED, []))


def save_values(
    draft: Submission,
    keys: list[str],
    posted: MultiDict,
    groups: dict[str, int],
    page: int | None = None,
) -> None:
    """Replace the values of the fields `keys` (and their sub-fields) with the posted ones."""
    data = {
        name: values
        for name, values in (draft.draft_data or {}).items()
        if name not in SPECIAL and not _belongs(name, keys)
    }
    saved = pages_saved(draft) | ({page} if page else set())
    if saved:
        data[PAGES_SAVED] = sorted(saved)
    for name in posted:
        if _belongs(name, keys):
            values = [without_controls(v) for v in posted.getlist(name) if isinstance(v, str)]
            if values:
                data[without_controls(name)] = values
    sizes = {k: n for k, n in group_sizes(draft).items() if k not in keys}
    sizes.update(groups)
    if sizes:
        data[GROUP_SIZES] = sizes
    draft.draft_data = data
    touch(draft)


def _belongs(name: str, keys: list[str]) -> bool:
    return any(name == key or name.startswith(f"{key}-") for key in keys)


def kept_files(draft: Submission, key: str) -> list[dict[str, Any]]:
    """Files already stored for a field of the draft, as submissions record them."""
    return [
        {"name": a.original_name, "size": a.size, "sha256": a.sha256}
        for a in draft.attachments
        if a.field_key == key and a.message_id is None
    ]


def store_files(session: Session, draft: Submission, key: str, files: list[CheckedFile]) -> None:
    """Replace the field's files with these checked uploads."""
    for attachment in [a for a in draft.attachments if a.field_key == key]:
        draft.attachments.remove(attachment)
        session.delete(attachment)
    draft.attachments.extend(new_attachment(key, item) for item in files)
    touch(draft)


def leave_address(draft: Submission, email: str) -> None:
    """Give the draft the address its links go to; a new address revokes the links sent before.

    A resume link also opens the applicant space of the draft's address: a link sent to an
    earlier address must not open the space of the one typed since.
    """
    if email != draft.applicant_email:
        new_links(draft)
    draft.applicant_email = email


def new_links(draft: Submission) -> None:
    """Revoke the draft's resume links: the next one sent is of a new generation."""
    draft.resume_token_hash = secrets.token_hex(32)


def resume_url(draft: Submission) -> str:
    """The signed link that reopens this draft on any device, until it expires."""
    token = links.make(RESUME, {"d": draft.id, "g": draft.resume_token_hash[:16]})
    return links.absolute("public.resume", slug=draft.form.slug, token=token)


def from_resume_token(session: Session, token: str) -> Submission | None:
    """The submission a resume link points to (a draft, or what it became), else None."""
    longest = max(current_app.config["DRAFT_LIFETIME_DAYS"], retention.DRAFT_LIFETIME_RANGE[1])
    payload = links.read(RESUME, token, longest * 86400)
    if not isinstance(payload, dict):
        return None
    found = session.get(Submission, payload.get("d"))
    if found is None:
        return None
    # The link lives as long as a draft of its form does.
    lifetime = int(retention.draft_lifetime(found.form).total_seconds())
    if links.read(RESUME, token, lifetime) is None:
        return None
    if found.state == DRAFT and (found.resume_token_hash or "")[:16] != payload.get("g"):
        return None
    return found


def drafts_of(session: Session, email: str) -> list[Submission]:
    """Live drafts an applicant left with this e-mail address, newest first."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.state == DRAFT, Submission.applicant_email == email.lower())
            .where(Submission.expires_at > utcnow())
            .order_by(Submission.id.desc())
        )
    )
