"""Portal, a form's start page, and the acknowledgement of a submission."""

from flask import abort, redirect, render_template, session, url_for
from sqlalchemy import select

from forms_app import draft_notices, drafts, extensions, receipts
from forms_app.db import get_session, utcnow
from forms_app.formdefs import definition as definitions
from forms_app.models import Form, FormStatus
from forms_app.public import bp
from forms_app.public.filling_state import Filling, bind, form_and_draft
from forms_app.public.lookup import not_open_page, published_form
from forms_app.submissions import get_by_reference

RECEIPT_KEY = "last_receipt"


@bp.get("/")
def index():
    """List the procedures open to the public, soonest deadline first, and those to come."""
    now = utcnow()
    published = get_session().scalars(
        select(Form).where(Form.status == FormStatus.PUBLISHED).order_by(Form.closes_at)
    )
    forms = list(published)
    return render_template(
        "public/index.html",
        forms=[f for f in forms if f.is_open(now)],
        upcoming=[f for f in forms if f.opens_at and now < f.opens_at],
    )


@bp.get("/demarches/<slug>/")
def fill(slug: str):
    """A form's start page: what it is for, until when, and a button to start or go on."""
    form, draft = form_and_draft(get_session(), slug)
    if not extensions.accepts_draft(form, draft, utcnow()):
        return not_open_page(form)
    version = form.current_version
    definition = definitions.of_version(version)
    deadline = draft_notices.deadline(draft) if draft is not None else form.closes_at
    return render_template(
        "public/start.html", form=form, definition=definition, draft=draft, deadline=deadline
    )


@bp.post("/demarches/<slug>/")
def start(slug: str):
    """Start a draft (or go on with this browser's draft) and open its first page."""
    db = get_session()
    form, draft = form_and_draft(db, slug)
    if not extensions.accepts_draft(form, draft, utcnow()):
        return not_open_page(form)
    if draft is None:
        draft = drafts.start(db, form)
        db.commit()
        bind(draft, form)
    return redirect(Filling.of(form, draft).resume_point())


def acknowledged(slug: str, reference: str):
    """Send the person who just submitted (the submission `reference`) to their acknowledgement."""
    session[RECEIPT_KEY] = reference
    return redirect(url_for("public.acknowledge", slug=slug))


@bp.get("/demarches/<slug>/merci")
def acknowledge(slug: str):
    """Confirm a submission to the person who just made it."""
    reference = session.get(RECEIPT_KEY)
    if not reference:
        return redirect(url_for("public.fill", slug=slug))
    form = published_form(slug)
    return render_template("public/acknowledge.html", form=form, reference=reference)


@bp.get("/demarches/<slug>/merci/recu.pdf")
def receipt(slug: str):
    """Let the person who just submitted download their receipt."""
    reference = session.get(RECEIPT_KEY)
    found = get_by_reference(get_session(), reference) if reference else None
    if found is None or found.form.slug != slug:
        abort(404)
    return receipts.download(found)
