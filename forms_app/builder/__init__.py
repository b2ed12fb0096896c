"""Form builder for designers: edit, preview, publish, import and export forms."""

from flask import Blueprint

bp = Blueprint("builder", __name__, url_prefix="/agents/formulaires")

from forms_app.builder import (  # noqa: E402, F401
    fields_views,
    lifecycle_views,
    pages_views,
    transfer_views,
    versions_views,
    views,
)
