"""Finance pages only for finance staff with a second factor.

Finance staff enrol their authenticator app when they sign in (forms_app/second_factor.py).
One whose second factor was reset (a lost phone) or who was given the finance role while
signed in is signed out, to enrol at the next sign-in.
"""

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from forms_app.finance import bp
from forms_app.models import Role


@bp.before_request
def require_second_factor():
    """Sign out finance staff without a second factor: they enrol when they sign in again."""
    if not current_user.is_authenticated:
        return None  # the views' own guards answer anonymous visitors
    if current_user.has_role(Role.FINANCE) and not current_user.totp_secret:
        logout_user()
        session.clear()
        flash(
            _("Reconnectez-vous pour activer la double authentification de l’espace finances."),
            "info",
        )
        return redirect(url_for("auth.login", next=request.full_path))
    return None
