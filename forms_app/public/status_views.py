"""status_views."""

from forms_app.public import bp  # noqa: F401
