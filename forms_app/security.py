"""CSRF protection and the response headers every page carries."""

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFProtect, validate_csrf
from wtforms.validators import ValidationError

csrf = CSRFProtect()

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
}


def init_app(app: Flask) -> None:
    """Protect every POST with a CSRF token and add the security headers."""
    csrf.init_app(app)

    @app.after_request
    def _add_headers(response: Response) -> Response:
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def csrf_valid() -> bool:
    """Check the posted CSRF token in a view exempt from the global check.

    Views that must never lose what was typed (form pages) check the token themselves, so
    an expired token re-displays the page filled in instead of an error page.
    """
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token") or request.headers.get("X-CSRFToken"))
    except ValidationError:
        return False
    return True
