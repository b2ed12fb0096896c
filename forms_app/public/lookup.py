"""Find the form an applicant asks for, and say clearly when it is not open."""

from flask import abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from forms_app.db import get_session, utcnow
from forms_app.models import Form, FormStatus, FormVersion

# A form as the public pages read it, with its current version in the same query; neither
# the builder's draft nor the version's definition (JSON read once per process and content
# hash by definitions.of_version).
FORM_COLUMNS = (defer(Form.draft), joinedload(Form.current_version).defer(FormVersion.definition))


def published_form(slug: str) -> Form:
    """The form at this address, if it was ever published and is not archived; else 404."""
    form = get_session().scalar(select(Form).where(Form.slug == slug).options(*FORM_COLUMNS))
    return published(form)


def published(form: Form | None) -> Form:
    """`form` if it was ever published and is not archived; else 404."""
    if form is None or form.current_version is None or form.status is FormStatus.ARCHIVED:
        abort(404)
    return form


def not_open_page(form: Form):
    """The 403 page for a form not open yet, or already closed."""
    return render_template("public/not_open.html", form=form, now=utcnow()), 403
