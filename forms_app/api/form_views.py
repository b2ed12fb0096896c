"""Forms and their published versions, as the token may see them."""

from flask import abort
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms_app.api import access
from forms_app.api.schemas import FormDetailSchema, FormListSchema, FormVersionSchema
from forms_app.db import get_session
from forms_app.models import Form, FormStatus, FormVersion

PATH = "/forms"
blp = Blueprint("api_forms", __name__, description="Forms and their published versions.")
SHOWN = (FormStatus.PUBLISHED, FormStatus.CLOSED)


def _summary(form: Form) -> dict:
    return {
        "slug": form.slug,
        "title": form.title,
        "status": form.status.value,
        "opens_at": form.opens_at,
        "closes_at": form.closes_at,
        "current_version": form.current_version.number if form.current_version else None,
    }


def _form_or_404(slug: str) -> Form:
    if len(slug) > 80 or "\x00" in slug:
        abort(404)
    form = get_session().scalar(
        select(Form)
        .where(Form.slug == slug, Form.status.in_(SHOWN))
        .options(selectinload(Form.versions), selectinload(Form.current_version))
    )
    if form is None or not access.may_see_form(form.id):
        abort(404)
    return form


@blp.get("")
@blp.response(200, FormListSchema)
def forms():
    """The published and closed forms the token may see, by slug."""
    access.require_roles(*access.CASE_ROLES)
    found = get_session().scalars(
        select(Form)
        .where(Form.status.in_(SHOWN), access.form_filter(Form.id))
        .options(selectinload(Form.current_version))
        .order_by(Form.slug)
    )
    return {"items": [_summary(form) for form in found]}


@blp.get("/<slug>")
@blp.response(200, FormDetailSchema)
def form(slug: str):
    """One form and the list of its published versions."""
    access.require_roles(*access.CASE_ROLES)
    found = _form_or_404(slug)
    versions = [
        {"number": v.number, "published_at": v.published_at, "sha256": v.sha256}
        for v in found.versions
    ]
    return {**_summary(found), "versions": versions}


@blp.get("/<slug>/versions/<id:number>")
@blp.response(200, FormVersionSchema)
def version(slug: str, number: int):
    """A published version's definition (docs/form-definition.md), never changed."""
    access.require_roles(*access.CASE_ROLES)
    found = _form_or_404(slug)
    row = get_session().scalar(
        select(FormVersion).where(FormVersion.form_id == found.id, FormVersion.number == number)
    )
    if row is None:
        abort(404)
    return {
        "number": row.number,
        "published_at": row.published_at,
        "sha256": row.sha256,
        "definition": row.definition,
    }
