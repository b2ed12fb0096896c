"""Back office for staff: agents, approvers, finance, administrators."""

from flask import Blueprint

bp = Blueprint("backoffice", __name__, url_prefix="/agents")

from forms_app.backoffice import files, messages, views  # noqa: E402, F401
