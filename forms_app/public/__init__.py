"""Public pages: the portal applicants land on."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from forms_app.public import (  # noqa: E402, F401
    report_views,
    saving,
    space,
    space_access,
    space_data,
    status_views,
    steps,
    views,
)
