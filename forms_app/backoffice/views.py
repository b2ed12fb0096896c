"""Back-office views."""

from flask import abort, render_template
from flask_login import current_user

from forms_app import receipts
from forms_app.backoffice import bp
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import display
from forms_app.models import Role
from forms_app.permissions import roles_required
from forms_app.submissions import get_by_reference

CASE_ROLES = (Role.AGENT, Role.APPROVER, Role.FINANCE, Role.ADMIN)


@bp.get("/")
@roles_required()
def home():
    """Show signed-in staff their space and what their roles let them do."""
    return render_template("backoffice/home.html", roles=sorted(current_user.roles))


@bp.get("/demandes/<reference>")
@roles_required(*CASE_ROLES)
def submission(reference: str):
    """Show a request's answers with the form version it was filled with."""
    found = get_by_reference(get_session(), reference)
    if found is None:
        abort(404)
    version = found.form_version
    definition = definitions.load_version(version.sha256, version.definition)
    return render_template(
        "backoffice/submission.html",
        submission=found,
        definition=definition,
        summary=display.summary(definition, found.answers),
    )


@bp.get("/demandes/<reference>/recu.pdf")
@roles_required(*CASE_ROLES)
def submission_receipt(reference: str):
    """Download a request's receipt."""
    found = get_by_reference(get_session(), reference)
    if found is None:
        abort(404)
    return receipts.download(found)
