"""API tokens in the ops area, for administrators: the list, a new token (its secret shown
once, on the answer to its creation), and revoking one. Creating a token asks the
administrator's password and a code again; both changes are audited (forms_app/api/tokens.py).
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from forms_app.api import tokens
from forms_app.builder.inputs import CheckboxListField
from forms_app.db import get_session
from forms_app.models import ApiToken, Form, FormStatus, Role, User
from forms_app.ops import bp
from forms_app.ops.account_views import ConfirmForm, confirm_identity, role_names
from forms_app.permissions import roles_required


class NewTokenForm(ConfirmForm):
    name = StringField(
        _l("Nom du système qui l’utilise"),
        validators=[DataRequired(_l("Saisissez le nom du système.")), Length(max=100)],
    )
    user_id = SelectField(_l("Compte agent au nom duquel il agit"), coerce=int, choices=[])
    write = BooleanField(_l("Peut agir sur les demandes (sinon lecture seule)"))
    all_forms = BooleanField(_l("Tous les formulaires"))
    forms = CheckboxListField(_l("Ou seulement ces formulaires"), choices=[])


class RevokeForm(FlaskForm):
    """Only the CSRF token."""


def _choices(form: NewTokenForm) -> None:
    db = get_session()
    users = db.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    form.user_id.choices = [(u.id, f"{u.name} ({role_names(u) or '–'})") for u in users]
    published = db.scalars(
        select(Form).where(Form.status.in_((FormStatus.PUBLISHED, FormStatus.CLOSED)))
    )
    form.forms.choices = sorted((f.slug, f.title) for f in published)


@bp.get("/jetons-api", endpoint="api_tokens")
@roles_required(Role.ADMIN)
def list_tokens():
    """Every API token: its system, account, reach, last use; live ones first."""
    return render_template(
        "ops/api_tokens.html", tokens=tokens.listed(get_session()), revoke_form=RevokeForm()
    )


@bp.route("/jetons-api/nouveau", methods=["GET", "POST"], endpoint="api_token_new")
@roles_required(Role.ADMIN)
def new_token():
    """Make a token; its secret is on this answer only, never stored nor shown again."""
    form = NewTokenForm()
    _choices(form)
    if not form.validate_on_submit():
        return render_template("ops/api_token_new.html", form=form), 400 if form.errors else 200
    db = get_session()
    user = db.get(User, form.user_id.data)
    if not form.all_forms.data and not form.forms.data:
        form.forms.errors = [_("Cochez « Tous les formulaires » ou choisissez-en au moins un.")]
        return render_template("ops/api_token_new.html", form=form), 400
    refusal = confirm_identity(form)
    if refusal is not None:
        db.commit()  # a failed confirmation counts toward the lockout
        form.form_errors.append(refusal)
        return render_template("ops/api_token_new.html", form=form), 400
    chosen = None
    if not form.all_forms.data:
        chosen = list(db.scalars(select(Form).where(Form.slug.in_(form.forms.data))))
    token, secret = tokens.create(
        db,
        name=form.name.data.strip(),
        user=user,
        write=form.write.data,
        forms=chosen,
        actor=current_user._get_current_object(),
    )
    db.commit()
    page = render_template("ops/api_token_created.html", token=token, secret=secret)
    return page, 201, {"Cache-Control": "no-store"}


@bp.post("/jetons-api/<int:token_id>/revocation", endpoint="api_token_revoke")
@roles_required(Role.ADMIN)
def revoke_token(token_id: int):
    """Stop a token at once (the system using it gets 401 from its next request)."""
    token = get_session().get(ApiToken, token_id)
    if token is None:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    db = get_session()
    if tokens.revoke(db, token, current_user._get_current_object()):
        db.commit()
        flash(_("Le jeton « %(name)s » est révoqué.", name=token.name), "success")
    return redirect(url_for("ops.api_tokens"))
