"""Back office for staff: agents, approvers, finance, administrators."""

from flask import Blueprint

bp = Blueprint("backoffice", __name__, url_prefix="/agents")

from forms_app.backoffice import (  # noqa: E402, F401
    approval_views,
    casework_views,
    exports,
    files,
    inbox,
    messages,
    views,
)
