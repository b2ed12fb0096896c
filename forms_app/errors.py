"""Error pages in the visitor's language, and an honest 503 when the database is away."""

from flask import Flask, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from forms_app import limiter
from forms_app.storage_errors import StorageUnavailable
from forms_app.virus_scan import ScannerUnavailable


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path in ("/healthz", "/readyz"):
            return exc
        if exc.code == 429:  # a rate limit: say when to come back
            seconds = limiter.retry_after()
            page = render_template("errors/429.html", error=exc, retry_after=seconds)
            return page, 429, {"Retry-After": str(seconds)}
        template = f"errors/{exc.code}.html" if exc.code in (400, 403, 404, 405, 413) else None
        return render_template(template or "errors/generic.html", error=exc), exc.code

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: OperationalError | InterfaceError):
        app.logger.error("database unavailable: %s", type(exc.orig).__name__)
        return render_template("errors/503.html"), 503, {"Retry-After": "30"}

    @app.errorhandler(StorageUnavailable)
    def _storage_unavailable(exc: StorageUnavailable):
        app.logger.error("file storage unavailable: %s", type(exc).__name__)
        return render_template("errors/503.html"), 503, {"Retry-After": "30"}

    @app.errorhandler(ScannerUnavailable)
    def _scanner_unavailable(exc: ScannerUnavailable):
        app.logger.error("virus scanner unavailable: %s", exc)
        return render_template("errors/503.html"), 503, {"Retry-After": "30"}

    @app.errorhandler(500)
    def _server_error(_exc):
        return render_template("errors/500.html"), 500
