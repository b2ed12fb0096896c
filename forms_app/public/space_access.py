"""The applicant space's door: a link sent by e-mail, no account and no password."""

from functools import wraps

from flask import current_app, flash, redirect, render_template, session
from flask import url_for as url
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from forms_app import links
from forms_app.db import get_session
from forms_app.limiter import limit_from_config
from forms_app.models import Submission
from forms_app.public import bp
from workflows import outbox

EMAIL_KEY = "applicant_email"
LINK_PURPOSE = "space"


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class SpaceLoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        filters=[strip],
        validators=[
            DataRequired(_l("Saisissez votre adresse e-mail.")),
            Email(_l("Saisissez une adresse e-mail valide, par exemple nom@exemple.nc.")),
            Length(max=254, message=_l("Une adresse e-mail compte au plus 254 caractères.")),
        ],
    )


def signed_in_email() -> str | None:
    return session.get(EMAIL_KEY)


def applicant_required(view):
    """Let a view through only once the applicant opened a link from their e-mail."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not signed_in_email():
            flash(_("Pour suivre vos demandes, demandez un lien de connexion."), "info")
            return redirect(url("public.space_login"))
        return view(*args, **kwargs)

    return wrapped


@bp.route("/mon-espace/connexion", methods=["GET", "POST"])
@limit_from_config("MAGIC_LINK_RATE_LIMIT")
def space_login():
    """Ask for an e-mail address; e-mail a link if it has requests. Same answer either way."""
    form = SpaceLoginForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("public/space/login.html", form=form), status
    email = form.email.data.lower()
    db = get_session()
    known = db.scalar(select(Submission.id).where(Submission.applicant_email == email).limit(1))
    if known is not None:
        token = links.make(LINK_PURPOSE, {"email": email})
        outbox.add(
            db,
            "send_email",
            to=email,
            subject=_("Votre lien pour suivre vos demandes"),
            body=render_template(
                "public/space/link_mail.txt",
                link=links.absolute("public.space_access", token=token),
                hours=max(1, current_app.config["APPLICANT_LINK_MAX_AGE"] // 3600),
            ),
        )
        db.commit()
    return render_template("public/space/link_sent.html")


@bp.get("/mon-espace/acces/<token>")
def space_access(token: str):
    """Open the space from an e-mailed link; explain an expired or broken one."""
    payload = links.read(LINK_PURPOSE, token, current_app.config["APPLICANT_LINK_MAX_AGE"])
    email = payload.get("email") if isinstance(payload, dict) else None
    if not isinstance(email, str) or not email:
        return render_template("public/space/link_invalid.html"), 400
    session[EMAIL_KEY] = email.strip().lower()
    session.permanent = True
    return redirect(url("public.space_home"))


@bp.post("/mon-espace/deconnexion")
def space_logout():
    """Forget the applicant's address on this device."""
    session.pop(EMAIL_KEY, None)
    flash(_("Vous avez quitté votre espace."), "success")
    return redirect(url("public.index"))
