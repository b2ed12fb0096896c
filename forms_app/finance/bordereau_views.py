"""Bordereaux: the acts awaiting one, building, the bordereau page, signing, abandoning, PDFs.

Finance staff act; administrators read. Signing asks again for the password and a code of
the officer's authenticator app: a wrong password or a wrong code counts as a failed
sign-in and can lock the account, like on the sign-in page.
"""

from dataclasses import dataclass, field

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from forms_app import bordereaux, signing, storage, totp
from forms_app.bordereaux import BordereauError
from forms_app.db import get_session
from forms_app.finance import bp
from forms_app.models import Bordereau, BordereauState, PaymentAct, Role
from forms_app.permissions import roles_required

READERS = (Role.FINANCE, Role.ADMIN)
RECENT = 50  # signed and paid bordereaux listed on the index page
ACT_ENDPOINT, ACT_PDF_ENDPOINT = "finance.act", "finance.act_pdf"


class BuildForm(FlaskForm):
    """The acts checked on the index page (the checkboxes are read from request.form)."""


class SignForm(FlaskForm):
    password = PasswordField(
        _l("Votre mot de passe"),
        validators=[DataRequired(_l("Saisissez votre mot de passe."))],
    )
    code = StringField(
        _l("Code à 6 chiffres de votre application d’authentification"),
        render_kw={"inputmode": "numeric", "maxlength": 7},
        validators=[DataRequired(_l("Saisissez le code de votre application."))],
    )


class DiscardForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif de l’abandon"),
        render_kw={"rows": 3},
        validators=[
            DataRequired(_l("Indiquez le motif de l’abandon.")),
            Length(max=2000, message=_l("Le motif ne doit pas dépasser 2 000 caractères.")),
        ],
    )


@dataclass
class ActGroup:
    """Acts of one budget and one year: what one bordereau may hold."""

    key: str
    budget: str
    year: int
    acts: list[PaymentAct] = field(default_factory=list)
    selected: set[int] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(act.amount for act in self.acts)

    @property
    def selected_total(self) -> int:
        return sum(act.amount for act in self.acts if act.id in self.selected)


@bp.get("/")
@roles_required(*READERS)
def index():
    """List the acts awaiting a bordereau, by budget and year, and the bordereaux."""
    return _index_page(set(), select_group=request.args.get("tout"))


@bp.post("/bordereaux")
@roles_required(Role.FINANCE)
def build_bordereau():
    """Build a bordereau from the checked acts, or show the total of the selection."""
    if not BuildForm().validate_on_submit():
        abort(400)
    ids = _posted_ids()
    if request.form.get("action") == "total":
        return _index_page(set(ids))
    db = get_session()
    try:
        made = bordereaux.build(db, ids, current_user._get_current_object())
    except BordereauError as error:
        db.rollback()
        return _index_page(set(ids), error=str(error), status=error.status)
    db.commit()
    flash(
        ngettext(
            "Bordereau n° %(number)s établi : %(num)d mandat. Son PDF est en préparation.",
            "Bordereau n° %(number)s établi : %(num)d mandats. Son PDF est en préparation.",
            made.act_count,
            number=made.number,
        ),
        "success",
    )
    return redirect(url_for("finance.bordereau", bordereau_id=made.id))


@bp.get("/bordereaux/<int:bordereau_id>")
@roles_required(*READERS)
def bordereau(bordereau_id: int):
    """Show a bordereau: its lines, its PDFs, its signature and what can be done next."""
    return _bordereau_page(_get_or_404(bordereau_id))


@bp.post("/bordereaux/<int:bordereau_id>/signature")
@roles_required(Role.FINANCE)
def sign_bordereau(bordereau_id: int):
    """Sign a bordereau after checking the officer's password and authenticator code."""
    found = _get_or_404(bordereau_id)
    form = SignForm()
    if not form.validate_on_submit():
        return _bordereau_page(found, sign_form=form, status=400)
    db = get_session()
    user = current_user._get_current_object()
    refusal = totp.confirm_identity(get_session(), user, form.password.data, form.code.data)
    if refusal is not None:
        db.commit()  # the failure counts toward the lockout
        form.form_errors.append(refusal)
        return _bordereau_page(found, sign_form=form, status=400)
    try:
        bordereaux.sign(db, found, user)
    except BordereauError as error:
        db.rollback()
        form.form_errors.append(str(error))
        return _bordereau_page(found, sign_form=form, status=error.status)
    db.commit()
    flash(
        ngettext(
            "Bordereau n° %(number)s signé : le paiement de %(num)d mandat est ordonné.",
            "Bordereau n° %(number)s signé : le paiement de %(num)d mandats est ordonné.",
            found.act_count,
            number=found.number,
        ),
        "success",
    )
    return redirect(url_for("finance.bordereau", bordereau_id=found.id))


@bp.post("/bordereaux/<int:bordereau_id>/abandon")
@roles_required(Role.FINANCE)
def discard_bordereau(bordereau_id: int):
    """Abandon an open bordereau: its acts go back to the list awaiting a bordereau."""
    found = _get_or_404(bordereau_id)
    form = DiscardForm()
    if not form.validate_on_submit():
        return _bordereau_page(found, discard_form=form, status=400)
    db = get_session()
    try:
        bordereaux.discard(db, found, current_user._get_current_object(), form.reason.data)
    except BordereauError as error:
        db.rollback()
        form.form_errors.append(str(error))
        return _bordereau_page(found, discard_form=form, status=error.status)
    db.commit()
    flash(_("Bordereau n° %(number)s abandonné.", number=found.number), "success")
    return redirect(url_for("finance.index"))


@bp.get("/bordereaux/<int:bordereau_id>/bordereau.pdf")
@roles_required(*READERS)
def bordereau_pdf(bordereau_id: int):
    """Show the unsigned PDF, or a page saying it is being prepared (202)."""
    found = _get_or_404(bordereau_id)
    if not found.pdf_key:
        page = render_template("finance/bordereau_pending.html", bordereau=found)
        return page, 202, {"Retry-After": "10"}
    return _send(found.pdf_key, f"bordereau-{found.number}.pdf", attachment=False)


@bp.get("/bordereaux/<int:bordereau_id>/bordereau-signe.pdf")
@roles_required(*READERS)
def signed_bordereau_pdf(bordereau_id: int):
    """Download the signed PDF."""
    found = _get_or_404(bordereau_id)
    if not found.signed_pdf_key:
        abort(404)
    return _send(found.signed_pdf_key, f"bordereau-{found.number}-signe.pdf", attachment=True)


def _index_page(selected: set[int], *, select_group=None, error=None, status: int = 200):
    db = get_session()
    groups: dict[str, ActGroup] = {}
    for act in bordereaux.awaiting(db):
        key = f"{act.budget_code}-{act.year}"
        group = groups.get(key)
        if group is None:
            budget = act.details.get("budget") or act.budget_code
            group = groups[key] = ActGroup(key=key, budget=budget, year=act.year)
        group.acts.append(act)
    for group in groups.values():
        listed = {act.id for act in group.acts if act.pdf_key}
        group.selected = listed if group.key == select_group else listed & selected
    lists = {state: _bordereaux(state) for state in BordereauState if state != "cancelled"}
    page = render_template(
        "finance/index.html",
        groups=list(groups.values()),
        lists=lists,
        form=BuildForm(),
        error=error,
        can_act=current_user.has_role(Role.FINANCE),
        act_pdf_endpoint=_endpoint(ACT_PDF_ENDPOINT),
        act_endpoint=_endpoint(ACT_ENDPOINT),
    )
    return page, status


def _bordereaux(state: str) -> list[Bordereau]:
    query = (
        select(Bordereau)
        .where(Bordereau.state == state)
        .options(selectinload(Bordereau.created_by), selectinload(Bordereau.signer))
        .order_by(Bordereau.id.desc())
    )
    if state != BordereauState.OPEN:
        query = query.limit(RECENT)
    return list(get_session().scalars(query))


def _bordereau_page(found: Bordereau, *, sign_form=None, discard_form=None, status: int = 200):
    db = get_session()
    db.refresh(found)
    check = None
    if found.signed_pdf_key:
        check = signing.verify_pdf(storage.read(found.signed_pdf_key))
    page = render_template(
        "finance/bordereau.html",
        bordereau=found,
        lines=bordereaux.lines(db, found.id),
        check=check,
        sign_form=sign_form or SignForm(formdata=None),
        discard_form=discard_form or DiscardForm(formdata=None),
        can_act=current_user.has_role(Role.FINANCE),
        act_pdf_endpoint=_endpoint(ACT_PDF_ENDPOINT),
        act_endpoint=_endpoint(ACT_ENDPOINT),
    )
    return page, status


def _posted_ids() -> list[int]:
    values = request.form.getlist("acts")
    if not all(value.isdigit() for value in values):
        abort(400)
    return [int(value) for value in values]


def _get_or_404(bordereau_id: int) -> Bordereau:
    found = get_session().get(Bordereau, bordereau_id)
    if found is None:
        abort(404)
    return found


def _endpoint(name: str) -> str | None:
    """The endpoint if the application has it (the act pages come with their own module)."""
    return name if name in current_app.view_functions else None


def _send(key: str, name: str, *, attachment: bool):
    response = storage.send(
        key, mimetype="application/pdf", as_attachment=attachment, download_name=name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
