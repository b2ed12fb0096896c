"""announcement_views."""

from forms_app.ops import bp  # noqa: F401
