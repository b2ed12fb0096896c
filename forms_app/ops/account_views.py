"""Staff accounts in the ops area, for administrators: the list, a new account, and on each
account its roles, its active flag, its lockout and its second factor.

Every change asks the administrator's password and a code again, and is audited with the
change (forms_app/staff_accounts.py); unlocking an account asks only the CSRF token.
"""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from forms_app import staff_accounts, totp
from forms_app.builder.inputs import CheckboxListField
from forms_app.db import get_session, utcnow
from forms_app.models import Event, Role, User
from forms_app.ops import bp
from forms_app.permissions import roles_required

ROLE_LABELS = {
    Role.ADMIN: _l("Administration"),
    Role.DESIGNER: _l("Conception des formulaires"),
    Role.AGENT: _l("Instruction"),
    Role.APPROVER: _l("Validation"),
    Role.FINANCE: _l("Finances"),
}


def _role_choices():
    return [(role.value, ROLE_LABELS[role]) for role in Role]


class ConfirmForm(FlaskForm):
    """The administrator's password and a code: any change of an account asks them again."""

    password = PasswordField(
        _l("Votre mot de passe"), validators=[DataRequired(_l("Saisissez votre mot de passe."))]
    )
    code = StringField(
        _l("Code à 6 chiffres de votre application d’authentification"),
        render_kw={"inputmode": "numeric", "maxlength": 7, "autocomplete": "one-time-code"},
        validators=[DataRequired(_l("Saisissez le code de votre application."))],
    )


class RolesForm(ConfirmForm):
    roles = CheckboxListField(_l("Rôles"), choices=_role_choices)


class ActiveForm(ConfirmForm):
    active = HiddenField()


class NewAccountForm(ConfirmForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            DataRequired(_l("Saisissez l’adresse e-mail.")),
            Email(_l("Saisissez une adresse e-mail valide, par exemple nom@exemple.nc.")),
            Length(max=254),
        ],
    )
    name = StringField(
        _l("Nom et prénom"),
        validators=[DataRequired(_l("Saisissez le nom.")), Length(max=200)],
    )
    initial_password = PasswordField(
        _l("Mot de passe de première connexion"),
        validators=[DataRequired(_l("Saisissez un mot de passe de première connexion."))],
    )
    roles = CheckboxListField(_l("Rôles"), choices=_role_choices)


class UnlockForm(FlaskForm):
    """Only the CSRF token."""


@bp.get("/comptes", endpoint="accounts")
@roles_required(Role.ADMIN)
def list_accounts():
    """Every staff account: roles, active, second factor, last sign-in, lockout."""
    users = get_session().scalars(select(User).order_by(User.active.desc(), User.name)).all()
    return render_template("ops/accounts.html", users=users, role_names=role_names, now=utcnow())


def role_names(user: User) -> str:
    """The user's roles, in words."""
    return ", ".join(sorted(str(ROLE_LABELS[role]) for role in user.roles))


@bp.route("/comptes/nouveau", methods=["GET", "POST"], endpoint="account_new")
@roles_required(Role.ADMIN)
def new_account():
    """Create a staff account (it enrols its second factor at its first sign-in)."""
    form = NewAccountForm()
    if not form.validate_on_submit():
        return render_template("ops/account_new.html", form=form), 400 if form.errors else 200
    db = get_session()
    refusal = confirm_identity(form)
    if refusal is None:
        try:
            user = staff_accounts.create(
                db,
                current_user._get_current_object(),
                email=form.email.data,
                name=form.name.data,
                password=form.initial_password.data,
                roles={Role(value) for value in form.roles.data},
                min_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except staff_accounts.AccountChangeError as error:
            db.rollback()
            form.form_errors.append(str(error))
            return render_template("ops/account_new.html", form=form), 400
        db.commit()
        flash(_("Le compte de %(name)s est créé.", name=user.name), "success")
        return redirect(url_for("ops.account", user_id=user.id))
    db.commit()  # the failure counts toward the lockout
    form.form_errors.append(refusal)
    return render_template("ops/account_new.html", form=form), 400


@bp.get("/comptes/<int:user_id>", endpoint="account")
@roles_required(Role.ADMIN)
def show_account(user_id: int):
    """One account, its history, and the forms that change it."""
    return _account_page(_user(user_id))


@bp.post("/comptes/<int:user_id>/roles", endpoint="account_roles")
@roles_required(Role.ADMIN)
def change_roles(user_id: int):
    """Give the account exactly the roles checked."""
    user = _user(user_id)
    form = RolesForm(prefix="roles")
    roles = {Role(value) for value in form.roles.data or ()}
    return _change(user, form, "roles", lambda db, admin: staff_accounts.set_roles(
        db, admin, user, roles))  # fmt: skip


@bp.post("/comptes/<int:user_id>/etat", endpoint="account_active")
@roles_required(Role.ADMIN)
def change_active(user_id: int):
    """Deactivate the account (signed out at its next request) or reactivate it."""
    user = _user(user_id)
    form = ActiveForm(prefix="etat")
    active = form.active.data == "1"
    return _change(user, form, "active", lambda db, admin: staff_accounts.set_active(
        db, admin, user, active))  # fmt: skip


@bp.post("/comptes/<int:user_id>/double-authentification", endpoint="account_second_factor")
@roles_required(Role.ADMIN)
def reset_second_factor(user_id: int):
    """Clear a lost second factor: the person enrols again at the next sign-in."""
    user = _user(user_id)
    return _change(user, ConfirmForm(prefix="facteur"), "second_factor", lambda db, admin: (
        staff_accounts.reset_second_factor(db, admin, user)))  # fmt: skip


@bp.post("/comptes/<int:user_id>/deverrouillage", endpoint="account_unlock")
@roles_required(Role.ADMIN)
def unlock_account(user_id: int):
    """End a lockout after too many failed sign-ins."""
    user = _user(user_id)
    if not UnlockForm().validate_on_submit():
        abort(400)
    db = get_session()
    staff_accounts.unlock(db, current_user._get_current_object(), user)
    db.commit()
    flash(_("Le compte est déverrouillé."), "success")
    return redirect(url_for("ops.account", user_id=user.id))


def _change(user: User, form: ConfirmForm, which: str, change):
    """Confirm the administrator, apply `change`, commit with its audit event; or the page
    again with the reason (400)."""
    db = get_session()
    if not form.validate_on_submit():
        return _account_page(user, **{which: form}), 400
    refusal = confirm_identity(form)
    if refusal is not None:
        db.commit()  # a failed confirmation counts toward the lockout
        form.form_errors.append(refusal)
        return _account_page(user, **{which: form}), 400
    try:
        change(db, current_user._get_current_object())
    except staff_accounts.AccountChangeError as error:
        db.rollback()  # nothing changed: the code is not used up either
        form.form_errors.append(str(error))
        return _account_page(user, **{which: form}), 400
    db.commit()
    flash(_("Le compte de %(name)s est modifié.", name=user.name), "success")
    return redirect(url_for("ops.account", user_id=user.id))


def confirm_identity(form: ConfirmForm) -> str | None:
    """None when the administrator's password and code are right, else why not."""
    admin = current_user._get_current_object()
    return totp.confirm_identity(
        get_session(), admin, form.password.data, form.code.data, changing=True
    )


def _user(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _account_page(user: User, **forms):
    events = get_session().scalars(
        select(Event)
        .where(Event.subject_type == "user", Event.subject_id == user.id)
        .order_by(Event.id.desc())
        .limit(50)
    )
    roles_form = forms.get("roles") or RolesForm(
        formdata=None, prefix="roles", roles=[r.value for r in user.roles]
    )
    return render_template(
        "ops/account.html",
        user=user,
        events=list(events),
        roles_form=roles_form,
        active_form=forms.get("active") or ActiveForm(formdata=None, prefix="etat"),
        second_factor_form=forms.get("second_factor")
        or ConfirmForm(formdata=None, prefix="facteur"),
        unlock_form=UnlockForm(formdata=None),
        oneself=user.id == current_user.id,
        now=utcnow(),
    )
