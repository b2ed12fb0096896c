"""The applicant space's door: a link sent by e-mail, no account and no password.

A link and the session it opens carry the generation of the address's doors
(`ApplicantAccess`); "Se déconnecter de tous les appareils" moves the address to the next
generation, so every link sent before and every session opened with one stop working (the
drafts' resume links too: they get new ones).
"""

from functools import wraps

from flask import abort, current_app, flash, g, redirect, render_template, session
from flask import url_for as url
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, HiddenField
from wtforms.validators import DataRequired, Email, Length

from forms_app import drafts, links
from forms_app.db import get_session, utcnow
from forms_app.limiter import limit_from_config
from forms_app.models import ApplicantAccess, Submission
from forms_app.public import bp
from workflows import outbox

EMAIL_KEY = "applicant_email"
GENERATION_KEY = "applicant_generation"
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


class CloseEverywhereForm(FlaskForm):
    """Only the CSRF token, and the button's own field (a POST without it changes nothing)."""

    everywhere = HiddenField()


def signed_in_email() -> str | None:
    """The address whose space this browser opened, while its doors are not closed since."""
    email = session.get(EMAIL_KEY)
    if email is None:
        return None
    if "applicant_email_checked" not in g:  # one look per request
        g.applicant_email_checked = session.get(GENERATION_KEY, 0) == generation(email)
    return email if g.applicant_email_checked else None


def generation(email: str) -> int:
    """The current generation of the address's links and sessions (0 until closed once)."""
    found = get_session().get(ApplicantAccess, email)
    return found.generation if found is not None else 0


def open_space(email: str) -> None:
    """Let this browser into the space of `email`, in the current generation."""
    email = email.strip().lower()
    session[EMAIL_KEY] = email
    session[GENERATION_KEY] = generation(email)
    session.permanent = True


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
        token = links.make(LINK_PURPOSE, {"email": email, "g": generation(email)})
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
    if payload.get("g", 0) != generation(email.strip().lower()):  # closed since it was sent
        return render_template("public/space/link_invalid.html"), 400
    open_space(email)
    return redirect(url("public.space_home"))


@bp.post("/mon-espace/deconnexion")
def space_logout():
    """Forget the applicant's address on this device."""
    session.pop(EMAIL_KEY, None)
    flash(_("Vous avez quitté votre espace."), "success")
    return redirect(url("public.index"))


@bp.post("/mon-espace/deconnexion-partout")
@applicant_required
def space_close_everywhere():
    """Close every door to this space: links sent, sessions opened, drafts' resume links."""
    if CloseEverywhereForm().everywhere.data != "1":
        abort(400)
    email = signed_in_email()
    db = get_session()
    access = db.get(ApplicantAccess, email, with_for_update=True)
    if access is None:
        access = ApplicantAccess(email=email, generation=0)
        db.add(access)
    access.generation += 1
    access.revoked_at = utcnow()
    for draft in drafts.drafts_of(db, email):
        drafts.new_links(draft)
    db.commit()
    session.pop(EMAIL_KEY, None)
    session.pop(GENERATION_KEY, None)
    flash(
        _(
            "Vous êtes déconnecté de tous les appareils : les liens envoyés ne fonctionnent "
            "plus. Demandez un nouveau lien pour revenir."
        ),
        "success",
    )
    return redirect(url("public.index"))
