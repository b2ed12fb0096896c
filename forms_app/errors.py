"""Error pages in the visitor's language, and an honest 503 when the database is away; under
/api/, the same errors as problem documents (forms_app/api/problems.py)."""

from flask import Flask, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from forms_app import limiter
from forms_app.api import problems
from forms_app.storage_errors import StorageUnavailable
from forms_app.virus_scan import ScannerUnavailable


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path in ("/healthz", "/readyz"):
            return exc
        if exc.code == 429:  # a rate limit: say when to come back
            seconds = limiter.retry_after()
            if problems.is_api_request():
                return problems.from_http_exception(exc, {"Retry-After": str(seconds)})
            page = render_template("errors/429.html", error=exc, retry_after=seconds)
            return page, 429, {"Retry-After": str(seconds)}
        if problems.is_api_request():
            return problems.from_http_exception(exc)
        template = f"errors/{exc.code}.html" if exc.code in (400, 403, 404, 405, 413) else None
        return render_template(template or "errors/generic.html", error=exc), exc.code

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: OperationalError | InterfaceError):
        app.logger.error("database unavailable: %s", type(exc.orig).__name__)
        return _unavailable()

    @app.errorhandler(StorageUnavailable)
    def _storage_unavailable(exc: StorageUnavailable):
        app.logger.error("file storage unavailable: %s", type(exc).__name__)
        return _unavailable()

    @app.errorhandler(ScannerUnavailable)
    def _scanner_unavailable(exc: ScannerUnavailable):
        app.logger.error("virus scanner unavailable: %s", exc)
        return _unavailable()

    @app.errorhandler(500)
    def _server_error(_exc):
        if problems.is_api_request():
            return problems.problem(500)
        return render_template("errors/500.html"), 500


def _unavailable():
    """503, with when to try again: the French page, or a problem document under /api/."""
    headers = {"Retry-After": "30"}
    if problems.is_api_request():
        return problems.problem(503, "The service is unavailable; try again.", headers=headers)
    return render_template("errors/503.html"), 503, headers
