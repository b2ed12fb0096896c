"""Staff sign-in and sign-out."""

import logging
import time
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from forms_app.accounts import LoginOutcome, authenticate
from forms_app.db import get_session
from forms_app.limiter import limit_from_config
from forms_app.models import User

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, url_prefix="/agents")
login_manager = LoginManager()
LAST_SEEN_KEY = "staff_seen"
# The last-seen time is rewritten at most this often (not a new cookie on every request).
SEEN_RESOLUTION = 60


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à l’espace agents.")
    login_manager.session_protection = "strong"
    app.before_request(_sign_out_when_idle)


def _sign_out_when_idle():
    """Sign out staff idle for STAFF_IDLE_MINUTES; remember the activity of the others."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    seen = flask_session.get(LAST_SEEN_KEY, 0)
    if now - seen > current_app.config["STAFF_IDLE_MINUTES"] * 60:
        log.info("staff session ended after inactivity: user %s", current_user.id)
        logout_user()
        flask_session.clear()
        flash(
            _(
                "Vous avez été déconnecté après %(minutes)d minutes d’inactivité. "
                "Reconnectez-vous pour continuer.",
                minutes=current_app.config["STAFF_IDLE_MINUTES"],
            ),
            "info",
        )
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    if now - seen >= SEEN_RESOLUTION:
        flask_session[LAST_SEEN_KEY] = now
    return None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the signed-in staff user; treat an unreachable database as signed out."""
    if not user_id.isdigit():
        return None
    session = get_session()
    try:
        user = session.get(User, int(user_id))
    except SQLAlchemyError:
        session.rollback()
        return None
    return user if user is not None and user.active else None


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            DataRequired(_l("Saisissez votre adresse e-mail.")),
            Email(_l("Saisissez une adresse e-mail valide, par exemple nom@exemple.nc.")),
            Length(max=254),
        ],
    )
    password = PasswordField(
        _l("Mot de passe"), validators=[DataRequired(_l("Saisissez votre mot de passe."))]
    )


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("backoffice.home")


@bp.route("/connexion", methods=["GET", "POST"])
@limit_from_config("LOGIN_RATE_LIMIT")
def login():
    """Show the sign-in form and sign staff in."""
    if current_user.is_authenticated:
        return redirect(url_for("backoffice.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        session = get_session()
        result = authenticate(
            session,
            form.email.data,
            form.password.data,
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lockout_seconds=current_app.config["LOGIN_LOCKOUT_SECONDS"],
        )
        session.commit()
        if result.outcome is LoginOutcome.OK:
            next_page = _safe_next(request.args.get("next"))
            if second_factor.needed(result.user):
                return second_factor.start(result.user, next_page)
            return second_factor.sign_in(result.user, next_page)
        status = 401
        if result.outcome is LoginOutcome.LOCKED:
            minutes = current_app.config["LOGIN_LOCKOUT_SECONDS"] // 60
            form.form_errors.append(
                _(
                    "Trop de tentatives infructueuses : ce compte est bloqué pendant "
                    "%(minutes)d minutes.",
                    minutes=minutes,
                )
            )
            log.warning("staff login refused: account %s locked", result.user.id)
        else:
            form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect."))
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """Sign out (POST only, with a CSRF token)."""
    logout_user()
    flash(_("Vous êtes déconnecté."), "success")
    return redirect(url_for("public.index"))


from forms_app import second_factor  # noqa: E402 (its views join this blueprint)
