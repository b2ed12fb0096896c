"""Back-office views."""

from flask import render_template
from flask_login import current_user

from forms_app.backoffice import bp
from forms_app.permissions import roles_required


@bp.get("/")
@roles_required()
def home():
    """Show signed-in staff their space and what their roles let them do."""
    return render_template("backoffice/home.html", roles=sorted(current_user.roles))
