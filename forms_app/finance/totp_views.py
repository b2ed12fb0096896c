"""Second factor for finance staff: enrol an authenticator app before any finance page.

The secret being enrolled waits in the signed session cookie until a code from the app
confirms it; only then is it stored on the account. Finance staff without a second factor
are sent to the enrolment page from every other page of the finance area; administrators
who are not finance staff read those pages without one (they cannot sign).
"""

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired

from forms_app import totp
from forms_app.db import get_session
from forms_app.finance import bp
from forms_app.models import Role
from forms_app.permissions import roles_required

ENROL_ENDPOINT = "finance.totp_enrol"
PENDING_KEY = "totp_pending"
BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


class TotpEnrolForm(FlaskForm):
    code = StringField(
        _l("Code à 6 chiffres affiché par l’application"),
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 7},
        validators=[DataRequired(_l("Saisissez le code affiché par l’application."))],
    )


@bp.before_request
def require_second_factor():
    """Send signed-in finance staff without a second factor to the enrolment page."""
    if request.endpoint == ENROL_ENDPOINT or not current_user.is_authenticated:
        return None  # the views' own guards answer anonymous visitors and other roles
    if current_user.has_role(Role.FINANCE) and not current_user.totp_secret:
        flash(_("Activez la double authentification avant d’utiliser l’espace finances."), "info")
        return redirect(url_for(ENROL_ENDPOINT))
    return None


@bp.route("/double-authentification", methods=["GET", "POST"])
@roles_required(Role.FINANCE)
def totp_enrol():
    """Show the QR code and the secret of a new second factor; store it once a code matches."""
    user = current_user._get_current_object()
    if user.totp_secret:
        return render_template("finance/totp_enrolled.html")
    secret = _pending_secret(user.id)
    form = TotpEnrolForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        db.refresh(user, attribute_names=["totp_secret"], with_for_update=True)
        if user.totp_secret:  # enrolled meanwhile, from another tab
            db.rollback()
            return redirect(url_for("finance.index"))
        try:
            totp.enrol(db, user, secret, form.code.data)
        except totp.TotpError as error:
            db.rollback()
            form.code.errors.append(str(error))
            status = 400
        else:
            db.commit()
            session.pop(PENDING_KEY, None)
            flash(_("La double authentification est activée."), "success")
            return redirect(url_for("finance.index"))
    elif form.is_submitted():
        status = 400
    uri = totp.provisioning_uri(user, secret)
    page = render_template(
        "finance/totp_enrol.html",
        form=form,
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        qr=Markup(totp.qr_svg(uri)),  # noqa: S704 - markup that qrcode drew, no input in it
    )
    return page, status


def _pending_secret(user_id: int) -> str:
    """The secret this user is enrolling in this browser; a new one the first time.

    It is kept with the user's id, so someone else signing in on the same browser later
    never enrols the secret shown to the first person.
    """
    pending = session.get(PENDING_KEY)
    if isinstance(pending, dict) and pending.get("user") == user_id:
        secret = pending.get("secret")
        if isinstance(secret, str) and len(secret) == 32 and set(secret) <= BASE32:
            return secret
    secret = totp.new_secret()
    session[PENDING_KEY] = {"user": user_id, "secret": secret}
    return secret
