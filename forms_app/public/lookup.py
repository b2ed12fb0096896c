"""Find the form an applicant asks for, and say clearly when it is not open."""

from flask import abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from forms_app.db import get_session, utcnow
from forms_app.models import Form, FormStatus


def published_form(slug: str) -> Form:
    """The form at this address, if it was ever published and is not archived; else 404."""
    form = get_session().scalar(
        select(Form)
        .where(Form.slug == slug)
        .options(defer(Form.draft), joinedload(Form.current_version))  # one query, no draft JSON
    )
    if form is None or form.current_version is None or form.status is FormStatus.ARCHIVED:
        abort(404)
    return form


def not_open_page(form: Form):
    """The 403 page for a form not open yet, or already closed."""
    return render_template("public/not_open.html", form=form, now=utcnow()), 403
