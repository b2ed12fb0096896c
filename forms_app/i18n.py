"""Languages: French first, English on request (?lang=en, remembered in a cookie).

The browser's Accept-Language is deliberately not followed: every visitor, and the help desk
guiding them, sees the same French page until they choose otherwise.
"""

from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import Babel, get_locale

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    """Pick the page language: an explicit choice, then the remembered one, then French."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # jobs and commands speak the source language
        return languages[0]
    for chosen in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in languages:
            return chosen
    return languages[0]


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and remember an explicit language choice."""
    Babel(app, locale_selector=select_locale)

    @app.after_request
    def _remember_language(response: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"] and request.cookies.get(LANGUAGE_COOKIE) != chosen:
            response.set_cookie(
                LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
        return response

    @app.context_processor
    def _language_context() -> dict:
        return {"current_locale": str(get_locale())}
