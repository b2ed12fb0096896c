"""The life of a form: drafts, publication as immutable versions, opening window, archive."""

import copy
import difflib
import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app import audit
from forms_app.formdefs import definition as definitions
from forms_app.models import Form, FormStatus, FormVersion, User


class PublishingError(ValueError):
    """The action is not possible on this form in its current state."""


def new_definition(slug: str, title: str) -> dict[str, Any]:
    """A minimal valid definition to start a form from."""
    return {
        "format": 1,
        "slug": slug,
        "title": title,
        "pages": [{"key": "page_1", "title": "Votre demande", "fields": []}],
    }


def get_form(session: Session, slug: str) -> Form | None:
    return session.scalar(select(Form).where(Form.slug == slug))


def create_form(session: Session, data: dict[str, Any], actor: User | None) -> Form:
    """Add a draft form from a definition (validated); the caller commits."""
    definitions.load(data)
    if get_form(session, data["slug"]) is not None:
        raise PublishingError(f"Un formulaire « {data['slug']} » existe déjà.")
    form = Form(slug=data["slug"], draft=copy.deepcopy(data), status=FormStatus.DRAFT)
    session.add(form)
    audit.record(session, form, "create", actor, to_state=form.status.value)
    return form


def save_draft(session: Session, form: Form, data: dict[str, Any], actor: User | None) -> None:
    """Replace the working draft (validated; the slug stays the form's)."""
    data = {**copy.deepcopy(data), "slug": form.slug}
    definitions.load(data)
    form.draft = data
    audit.record(session, form, "edit_draft", actor)


def import_definition(
    session: Session, data: dict[str, Any], actor: User | None, publish_it: bool = False
) -> Form:
    """Create the form named by the definition's slug, or replace its draft; maybe publish."""
    definitions.load(data)
    form = get_form(session, data["slug"])
    if form is None:
        form = create_form(session, data, actor)
    else:
        save_draft(session, form, data, actor)
    if publish_it:
        publish(session, form, actor)
    return form


def draft_changed(form: Form) -> bool:
    """Whether the draft differs from the version applicants see."""
    current = form.current_version
    return current is None or _sha(form.draft) != current.sha256


def publish(session: Session, form: Form, actor: User | None) -> FormVersion:
    """Freeze the draft as a new version and make it the live one."""
    if form.status is FormStatus.ARCHIVED:
        raise PublishingError("Un formulaire archivé ne peut pas être publié.")
    definitions.load(form.draft)
    if not draft_changed(form) and form.status is FormStatus.PUBLISHED:
        raise PublishingError("Le brouillon est identique à la version publiée.")
    number = 1 + max((v.number for v in form.versions), default=0)
    version = FormVersion(
        number=number,
        definition=copy.deepcopy(form.draft),
        sha256=_sha(form.draft),
        published_by_id=actor.id if actor else None,
    )
    form.versions.append(version)
    session.flush()
    previous = form.status
    form.current_version = version
    form.status = FormStatus.PUBLISHED
    audit.record(
        session, form, "publish", actor, from_state=previous.value, to_state="published",
        version=number,
    )  # fmt: skip
    return version


def schedule(
    session: Session, form: Form, opens_at: datetime | None, closes_at: datetime | None, actor
) -> None:
    """Set the opening window (UTC); None means "no limit"."""
    if opens_at and closes_at and closes_at <= opens_at:
        raise PublishingError("La date de clôture doit être après la date d’ouverture.")
    before = {"opens_at": _iso(form.opens_at), "closes_at": _iso(form.closes_at)}
    form.opens_at, form.closes_at = opens_at, closes_at
    audit.record(
        session, form, "schedule", actor, before=before,
        after={"opens_at": _iso(opens_at), "closes_at": _iso(closes_at)},
    )  # fmt: skip


def set_retention(
    session: Session, form: Form, draft_days: int | None, months: int | None, actor
) -> None:
    """Set how long the form's drafts live and its ended requests are kept (None: default)."""
    before = {
        "draft_lifetime_days": form.draft_lifetime_days,
        "retention_months": form.retention_months,
    }
    form.draft_lifetime_days, form.retention_months = draft_days, months
    audit.record(
        session, form, "retention", actor, before=before,
        after={"draft_lifetime_days": draft_days, "retention_months": months},
    )  # fmt: skip


def close(session: Session, form: Form, actor: User | None) -> None:
    """Stop accepting submissions; submissions already made go on being processed."""
    _move(session, form, {FormStatus.PUBLISHED}, FormStatus.CLOSED, "close", actor)


def reopen(session: Session, form: Form, actor: User | None) -> None:
    if form.current_version_id is None:
        raise PublishingError("Publiez d’abord une version.")
    _move(session, form, {FormStatus.CLOSED}, FormStatus.PUBLISHED, "reopen", actor)


def archive(session: Session, form: Form, actor: User | None) -> None:
    _move(
        session, form, {FormStatus.DRAFT, FormStatus.CLOSED}, FormStatus.ARCHIVED, "archive", actor
    )


def clone(session: Session, form: Form, slug: str, title: str, actor: User | None) -> Form:
    """Start a new draft form from this one's draft."""
    data = {**copy.deepcopy(form.draft), "slug": slug, "title": title}
    copy_ = create_form(session, data, actor)
    audit.record(session, copy_, "clone", actor, source=form.slug)
    return copy_


def _move(session, form: Form, allowed: set, target: FormStatus, action: str, actor) -> None:
    if form.status not in allowed:
        raise PublishingError(
            f"Action impossible : le formulaire est « {STATUS_LABELS[form.status]} »."
        )
    previous = form.status
    form.status = target
    audit.record(session, form, action, actor, from_state=previous.value, to_state=target.value)


STATUS_LABELS = {
    FormStatus.DRAFT: "brouillon",
    FormStatus.PUBLISHED: "publié",
    FormStatus.CLOSED: "clos",
    FormStatus.ARCHIVED: "archivé",
}


def version_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A readable comparison of two definitions: fields added, removed, changed, and text diff."""
    old_fields = _fields_by_key(old) if old else {}
    new_fields = _fields_by_key(new)
    changed = [
        key for key in new_fields if key in old_fields and old_fields[key] != new_fields[key]
    ]
    lines = difflib.unified_diff(
        definitions.canonical_json(old).splitlines() if old else [],
        definitions.canonical_json(new).splitlines(),
        "avant",
        "après",
        lineterm="",
        n=2,
    )
    return {
        "added": [new_fields[k].get("label") or k for k in new_fields if k not in old_fields],
        "removed": [old_fields[k].get("label") or k for k in old_fields if k not in new_fields],
        "changed": [new_fields[k].get("label") or k for k in changed],
        "text": "\n".join(lines),
    }


def _fields_by_key(data: dict[str, Any]) -> dict[str, dict]:
    return {f["key"]: f for page in data["pages"] for f in page["fields"]}


def _sha(data: dict[str, Any]) -> str:
    return hashlib.sha256(definitions.canonical_json(data).encode()).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
