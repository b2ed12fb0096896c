"""Portal and form views for applicants."""

from flask import abort, redirect, render_template, request, session, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms_app import receipts
from forms_app.db import get_session, utcnow
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import rules
from forms_app.models import Form, FormStatus, Submission
from forms_app.public import bp
from forms_app.public.filling import build_form, group_action, page, posted_token
from forms_app.submissions import get_by_reference, get_by_token, submit

RECEIPT_KEY = "last_receipt"


@bp.get("/")
def index():
    """List the procedures open to the public."""
    now = utcnow()
    forms = get_session().scalars(
        select(Form).where(Form.status == FormStatus.PUBLISHED).order_by(Form.closes_at)
    )
    return render_template("public/index.html", forms=[f for f in forms if f.is_open(now)])


def _published_form(slug: str) -> Form:
    form = get_session().scalar(select(Form).where(Form.slug == slug))
    if form is None or form.current_version is None or form.status is FormStatus.ARCHIVED:
        abort(404)
    return form


@bp.route("/demarches/<slug>/", methods=["GET", "POST"])
def fill(slug: str):
    """Show a published form and receive it; submissions pin the version they were filled with."""
    form = _published_form(slug)
    now = utcnow()
    if not form.is_open(now):
        return render_template("public/not_open.html", form=form, now=now), 403
    version = form.current_version
    definition = definitions.load_version(version.sha256, version.definition)
    action_url = url_for("public.fill", slug=slug)
    web_form = build_form(definition, version.sha256)
    if request.method == "GET" or group_action():
        return page(definition, web_form, action_url, preview=False)
    token = posted_token()
    db = get_session()
    already = get_by_token(db, token)
    if already is not None:  # a double click or a replayed POST: the same answer again
        return _acknowledged(slug, already)
    if not web_form.validate():
        return page(definition, web_form, action_url, preview=False, status=400)
    results = rules.evaluate(definition, web_form.answers)
    results.notes = web_form.notes
    if not results.eligible:
        return page(
            definition, web_form, action_url, False, status=422, ineligible=results.ineligible
        )
    try:
        submission = submit(db, form, version, definition, web_form.answers, results, token)
        db.commit()
    except IntegrityError:
        db.rollback()  # the same POST, replayed concurrently, committed first
        submission = get_by_token(db, token)
        if submission is None:
            raise
    return _acknowledged(slug, submission)


def _acknowledged(slug: str, submission: Submission):
    session[RECEIPT_KEY] = submission.reference
    return redirect(url_for("public.acknowledge", slug=slug))


@bp.get("/demarches/<slug>/merci")
def acknowledge(slug: str):
    """Confirm a submission to the person who just made it."""
    reference = session.get(RECEIPT_KEY)
    if not reference:
        return redirect(url_for("public.fill", slug=slug))
    form = _published_form(slug)
    return render_template("public/acknowledge.html", form=form, reference=reference)


@bp.get("/demarches/<slug>/merci/recu.pdf")
def receipt(slug: str):
    """Let the person who just submitted download their receipt."""
    reference = session.get(RECEIPT_KEY)
    found = get_by_reference(get_session(), reference) if reference else None
    if found is None or found.form.slug != slug:
        abort(404)
    return receipts.download(found)
