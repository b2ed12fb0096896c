"""The second factor at sign-in: a code from an authenticator app after the password.

Staff holding a role of MFA_ROLES (administrators, approvers, finance: they change roles,
decide and pay), and anyone who enrolled, give a code after their password. Until then the
session holds only the pending sign-in (user, time, page asked for), for
MFA_PENDING_SECONDS. The code page takes the app's 6-digit code, or one of the recovery
codes (for a lost phone); someone not enrolled yet enrols first (QR code, then a code from
the app) and gets ten recovery codes, shown once. Only then is the person signed in, on a
fresh session. Wrong codes count toward the account's lockout, and the pages are limited
per address like the password page.
"""

import time

from flask import current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from forms_app import totp
from forms_app.auth import LAST_SEEN_KEY, bp, log
from forms_app.db import get_session, utcnow
from forms_app.limiter import limit_from_config
from forms_app.models import Role, User

PENDING_KEY = "sign_in_pending"
ENROLLING_KEY = "sign_in_secret"
BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code de vérification"),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters"},
        validators=[
            DataRequired(_l("Saisissez le code affiché par votre application.")),
            Length(max=20, message=_l("Saisissez 20 caractères au plus.")),
        ],
    )


def needed(user: User) -> bool:
    """Whether `user` gives a second factor when signing in."""
    roles = {Role(name) for name in current_app.config["MFA_ROLES"]}
    return bool(user.totp_secret) or user.has_role(*roles)


def start(user: User, next_page: str):
    """After a right password: remember the pending sign-in, and ask for the second factor."""
    flask_session.clear()
    flask_session[PENDING_KEY] = {"user": user.id, "at": int(time.time()), "next": next_page}
    enrolled = bool(user.totp_secret)
    return redirect(url_for("auth.second_factor" if enrolled else "auth.second_factor_enrol"))


def sign_in(user: User, next_page: str):
    """Sign `user` in on a fresh session (nothing from before carries over)."""
    flask_session.clear()
    login_user(user)
    flask_session[LAST_SEEN_KEY] = int(time.time())
    log.info("staff login: user %s", user.id)
    return redirect(next_page)


@bp.route("/connexion/code", methods=["GET", "POST"])
@limit_from_config("LOGIN_RATE_LIMIT")
def second_factor():
    """Ask the code of the authenticator app (or a recovery code)."""
    user, next_page = _pending()
    if user is None:
        return _start_again()
    if not user.totp_secret:
        return redirect(url_for("auth.second_factor_enrol"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        refusal, recovery_left = _check(db, user, form.code.data)
        db.commit()
        if refusal is None:
            response = sign_in(user, next_page)
            if recovery_left is not None:
                flash(
                    _(
                        "Code de secours accepté. Il vous en reste %(count)d : si vous avez "
                        "perdu votre téléphone, demandez la réinitialisation de votre double "
                        "authentification.",
                        count=recovery_left,
                    ),
                    "info",
                )
            return response
        form.code.errors.append(refusal)
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("auth/second_factor.html", form=form), status


@bp.route("/connexion/activation", methods=["GET", "POST"])
@limit_from_config("LOGIN_RATE_LIMIT")
def second_factor_enrol():
    """Enrol an authenticator app (QR code), then show the recovery codes once."""
    user, next_page = _pending()
    if user is None:
        return _start_again()
    if user.totp_secret:
        return redirect(url_for("auth.second_factor"))
    secret = _pending_secret(user.id)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        db.refresh(user, attribute_names=["totp_secret"], with_for_update=True)
        if user.totp_secret:  # enrolled meanwhile, from another tab
            db.rollback()
            return redirect(url_for("auth.second_factor"))
        try:
            totp.enrol(db, user, secret, form.code.data)
        except totp.TotpError as error:
            db.rollback()
            form.code.errors.append(str(error))
            status = 400
        else:
            codes = totp.new_recovery_codes(db, user)
            db.commit()
            sign_in(user, next_page)
            return render_template("auth/recovery_codes.html", codes=codes, next_page=next_page)
    elif form.is_submitted():
        status = 400
    uri = totp.provisioning_uri(user, secret)
    page = render_template(
        "auth/second_factor_enrol.html",
        form=form,
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        qr=Markup(totp.qr_svg(uri)),  # noqa: S704 - markup that qrcode drew, no input in it
    )
    return page, status


def _check(db, user: User, code: str) -> tuple[str | None, int | None]:
    """Why `code` does not complete the sign-in (French) or None; and when a recovery code
    did, how many are left."""
    locked = _(
        "Trop de tentatives infructueuses : ce compte est bloqué pendant %(minutes)d minutes.",
        minutes=current_app.config["LOGIN_LOCKOUT_SECONDS"] // 60,
    )
    db.refresh(user, with_for_update=True)  # failures and lockout counted one at a time
    if user.is_locked(utcnow()):
        return locked, None
    if totp.verify(db, user, code):
        return None, None
    if totp.use_recovery_code(db, user, code):
        return None, totp.recovery_codes_left(db, user)
    if totp.count_failure(user):
        return locked, None
    wrong = _("Code incorrect ou déjà utilisé. Attendez le code suivant de votre application.")
    return wrong, None


def _pending() -> tuple[User | None, str]:
    """The user whose sign-in waits for its second factor, and the page they asked for."""
    pending = flask_session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, ""
    age = time.time() - pending.get("at", 0)
    if age > current_app.config["MFA_PENDING_SECONDS"]:
        return None, ""
    user = get_session().get(User, pending.get("user"))
    if user is None or not user.active:
        return None, ""
    return user, pending.get("next") or url_for("backoffice.home")


def _start_again():
    flask_session.pop(PENDING_KEY, None)
    flash(_("Saisissez à nouveau votre adresse e-mail et votre mot de passe."), "info")
    return redirect(url_for("auth.login", next=request.args.get("next")))


def _pending_secret(user_id: int) -> str:
    """The secret this user is enrolling in this browser; a new one the first time.

    It is kept with the user's id, so someone else signing in on the same browser later
    never enrols the secret shown to the first person.
    """
    pending = flask_session.get(ENROLLING_KEY)
    if isinstance(pending, dict) and pending.get("user") == user_id:
        secret = pending.get("secret")
        if isinstance(secret, str) and len(secret) == 32 and set(secret) <= BASE32:
            return secret
    secret = totp.new_secret()
    flask_session[ENROLLING_KEY] = {"user": user_id, "secret": secret}
    return secret
