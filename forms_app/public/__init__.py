"""Public pages: the portal applicants land on."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from forms_app.public import saving, space, space_access, steps, views  # noqa: E402, F401
