"""Fill a form page by page, each page saved in the draft; then check the answers and submit.

The form pages check their CSRF token themselves: an expired token or session brings the
page back filled in with a fresh token and a message, never an error page that loses
what was typed.
"""

from flask import jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from forms_app import drafts, extensions
from forms_app.db import get_session, utcnow
from forms_app.formdefs import rules
from forms_app.formdefs.composite import GroupField
from forms_app.formdefs.fields import UploadField
from forms_app.formdefs.files import CheckedFile
from forms_app.limiter import limit_from_config
from forms_app.public import bp
from forms_app.public.answers import check_rows
from forms_app.public.filling import apply_group_action, posted_token, submit_token
from forms_app.public.filling_state import (
    Filling,
    bind,
    form_and_draft,
    hidden_by_other_pages,
    page_errors,
    page_keys,
    submitted_reference,
)
from forms_app.public.lookup import not_open_page, published_form
from forms_app.public.views import acknowledged
from forms_app.security import csrf, csrf_valid
from forms_app.submissions import reference_of_token, submit_draft
from workflows.states import TransitionError

EXPIRED = (
    "Votre session a expiré. Vos réponses sur cette page ont été conservées : "
    "vérifiez-les puis continuez."
)


def _filling(slug: str, create: bool = False, lock: bool = False):
    """(Filling, None), or (None, the response to give instead)."""
    db = get_session()
    form, draft = form_and_draft(db, slug, lock=lock)
    if not extensions.accepts_draft(form, draft, utcnow()):
        return None, not_open_page(form)
    if draft is None:
        if not create:
            return None, redirect(url_for("public.fill", slug=slug))
        draft = drafts.start(db, form)
        db.flush()
        bind(draft, form)
    return Filling.of(form, draft), None


def _page_response(filling: Filling, number: int, web_form, errors=(), status=200, notice=None):
    answers = getattr(web_form, "answers", None)
    if answers is None:
        probe = filling.web_form()
        probe.validate()
        answers = probe.answers
    visible = filling.visible_numbers(answers)
    page = filling.page(number)
    position = visible.index(number) + 1 if number in visible else len(visible)
    earlier = [n for n in visible if n < number]
    return make_response(
        render_template(
            "public/page.html",
            filling=filling,
            definition=filling.definition,
            page=page,
            hidden=hidden_by_other_pages(page, answers),
            number=number,
            position=position,
            total=len(visible) + 1,  # the check page is the last step
            back_url=(
                url_for("public.step", slug=filling.form.slug, number=earlier[-1])
                if earlier
                else url_for("public.fill", slug=filling.form.slug)
            ),
            form=web_form,
            errors=errors,
            notice=notice,
            returning=request.args.get("retour") == "verification",
        ),
        status,
    )


@bp.get("/demarches/<slug>/etapes/<int:number>")
def step(slug: str, number: int):
    """One page of the form, as the draft holds it (with its errors when asked to check)."""
    filling, response = _filling(slug)
    if response is not None:
        return response
    if filling.page(number) is None:
        return redirect(filling.resume_point())
    probe = filling.web_form()
    probe.validate()
    if number not in filling.visible_numbers(probe.answers):
        return redirect(filling.resume_point())
    errors = page_errors(probe, filling.page(number)) if request.args.get("verifier") else []
    shown = probe if errors else filling.web_form()
    shown.answers = probe.answers
    return _page_response(filling, number, shown, errors)


@csrf.exempt
@bp.post("/demarches/<slug>/etapes/<int:number>")
def save_step(slug: str, number: int):
    """Save the page in the draft (valid or not), then go on, or show the page's errors."""
    if not csrf_valid():
        return _expired_page(slug, number)
    filling, response = _filling(slug, create=True)
    if response is not None:
        return response
    page = filling.page(number)
    if page is None:
        return redirect(filling.resume_point())
    db = get_session()
    keys = page_keys(page)
    web_form = filling.web_form(_merged(filling, keys), request.files)
    apply_group_action(web_form, keys)
    cleared = _clear_files(db, filling, keys)
    drafts.save_values(filling.draft, keys, request.form, _group_sizes(web_form, keys), number)
    web_form.validate()
    _store_uploads(db, filling, web_form, keys)
    db.commit()
    if cleared or request.form.get("_add") or request.form.get("_remove"):
        return _page_response(filling, number, filling.web_form())
    if request.form.get("_action") == "save":
        return redirect(url_for("public.save_for_later", slug=slug))
    errors = page_errors(web_form, page)
    if errors:
        return _page_response(filling, number, web_form, errors, status=400)
    if request.args.get("retour") == "verification":
        return redirect(url_for("public.check", slug=slug))
    later = [n for n in filling.visible_numbers(web_form.answers) if n > number]
    if later:
        return redirect(url_for("public.step", slug=slug, number=later[0]))
    return redirect(url_for("public.check", slug=slug))


@csrf.exempt
@bp.post("/demarches/<slug>/etapes/<int:number>/brouillon")
def autosave(slug: str, number: int):
    """Save what is typed on the page without checking it (the page's script calls this)."""
    if not csrf_valid():
        return jsonify(saved=False, error="csrf"), 400
    filling, response = _filling(slug)
    if response is not None or filling.page(number) is None:
        return jsonify(saved=False, error="no-draft"), 409
    keys = page_keys(filling.page(number))
    drafts.save_values(filling.draft, keys, request.form, {})
    get_session().commit()
    return jsonify(saved=True, at=utcnow().isoformat())


@bp.get("/demarches/<slug>/verification")
def check(slug: str):
    """Check your answers: every answer with a link to change it, then submit."""
    filling, response = _filling(slug)
    if response is not None:
        return response
    return _check_page(filling)


def _check_page(filling: Filling, status: int = 200, notice: str | None = None):
    web_form = filling.web_form()
    ok = web_form.validate()
    if not ok:
        number = filling.first_invalid(web_form)
        return redirect(
            url_for("public.step", slug=filling.form.slug, number=number or 1, verifier=1)
        )
    results = rules.evaluate(filling.definition, web_form.answers)
    return make_response(
        render_template(
            "public/check.html",
            filling=filling,
            definition=filling.definition,
            rows=check_rows(filling, web_form.answers),
            ineligible=results.ineligible,
            notice=notice,
            submit_token=submit_token(),
        ),
        422 if results.ineligible else status,
    )


@csrf.exempt
@bp.post("/demarches/<slug>/verification")
@limit_from_config("SUBMIT_RATE_LIMIT")
def submit(slug: str):
    """Submit the draft: once, whatever the number of clicks or replays.

    The draft is read FOR UPDATE: a second click (or a replay, or another tab) waits for the
    first to commit, then finds the draft submitted and gets the same acknowledgement.
    """
    token = posted_token()
    db = get_session()
    filling, response = _filling(slug, lock=True)
    if response is not None:
        return _already_submitted(db, slug, token) or response
    if not csrf_valid():
        notice = _("Votre session a expiré. Vos réponses sont enregistrées : envoyez à nouveau.")
        return _check_page(filling, status=400, notice=notice)
    web_form = filling.web_form()
    if not web_form.validate():
        return _check_page(filling)
    results = rules.evaluate(filling.definition, web_form.answers)
    results.notes = web_form.notes
    if not results.eligible:
        return _check_page(filling)
    draft = filling.draft
    try:
        submit_draft(db, draft, filling.definition, web_form.answers, results, token)
        db.commit()
    except (IntegrityError, TransitionError):
        db.rollback()  # the same POST, replayed through another session, committed first
        return _already_submitted(db, slug, token) or redirect(url_for("public.fill", slug=slug))
    return acknowledged(slug, draft.reference)


def _already_submitted(db, slug: str, token: str | None):
    """The acknowledgement again if this browser's draft, or this POST, was submitted."""
    form = published_form(slug)
    reference = submitted_reference(db, form) or reference_of_token(db, token)
    return acknowledged(slug, reference) if reference is not None else None


def _merged(filling: Filling, keys: list[str]):
    """The draft's values with this page's posted values in place of its saved ones."""
    data = drafts.formdata(filling.draft)
    for name in list(data.keys()):
        if any(name == k or name.startswith(f"{k}-") for k in keys):
            data.poplist(name)
    for name in request.form:
        if any(name == k or name.startswith(f"{k}-") for k in keys):
            data.setlist(name, request.form.getlist(name))
    return data


def _group_sizes(web_form, keys: list[str]) -> dict[str, int]:
    return {
        key: len(web_form[key].entries)
        for key in keys
        if isinstance(web_form._fields.get(key), GroupField)
    }


def _clear_files(db, filling: Filling, keys: list[str]) -> bool:
    key = request.form.get("_clear")
    if key not in keys:
        return False
    drafts.store_files(db, filling.draft, key, [])
    return True


def _store_uploads(db, filling: Filling, web_form, keys: list[str]) -> None:
    for key in keys:
        field = web_form._fields.get(key)
        if not isinstance(field, UploadField) or field.errors or not field.answer:
            continue
        if isinstance(field.answer[0], CheckedFile):
            drafts.store_files(db, filling.draft, key, field.answer)
            field.kept = drafts.kept_files(filling.draft, key)


def _expired_page(slug: str, number: int):
    """The page again, filled with what was posted, a fresh token and a message; nothing saved."""
    form, draft = form_and_draft(get_session(), slug)
    if not extensions.accepts_draft(form, draft, utcnow()):
        return not_open_page(form)
    filling = Filling.of(form, draft or drafts.unsaved(form))
    if filling.page(number) is None:
        return redirect(url_for("public.fill", slug=slug))
    web_form = filling.web_form(request.form)
    web_form.answers = {}
    return _page_response(filling, number, web_form, status=400, notice=_(EXPIRED))
